package engineio

import "github.com/sori-dev/sori/engineio/parser"

// A Message is an outgoing Engine.IO packet, encoded once. It may be sent to
// any number of sessions, which share its bytes; it must not be changed
// once sent.
type Message struct {
	typ    parser.Type
	data   []byte // the packet's data, without its type
	text   []byte // type digit then data: a WebSocket text frame or a polling entry
	binary bool
}

// NewMessage wraps data as an Engine.IO message packet. A binary message
// goes out as a binary WebSocket frame, or base64 on polling.
func NewMessage(data []byte, binary bool) *Message {
	return newPacket(parser.Message, data, binary)
}

// NewTextMessage is NewMessage for text, already prefixed: buf must hold
// the type digit '4' followed by the data. It saves a copy for callers
// that encode straight into such a buffer.
func NewTextMessage(buf []byte) *Message {
	return &Message{typ: parser.Message, data: buf[1:], text: buf}
}

func newPacket(t parser.Type, data []byte, binary bool) *Message {
	m := &Message{typ: t, data: data, binary: binary}
	if !binary {
		m.text = parser.AppendText(make([]byte, 0, len(data)+1), t, data)
	}
	return m
}

// Len is the size of the message's data.
func (m *Message) Len() int { return len(m.data) }

// size is what the message counts against a session's queue bound.
func (m *Message) size() int { return len(m.data) + 1 }

func (m *Message) packet() parser.Packet {
	return parser.Packet{Type: m.typ, Data: m.data, Binary: m.binary}
}

// Control packets, shared by every session.
var (
	pingMessage  = newPacket(parser.Ping, nil, false)
	noopMessage  = newPacket(parser.Noop, nil, false)
	closeMessage = newPacket(parser.Close, nil, false)
	probeMessage = newPacket(parser.Pong, []byte("probe"), false)
)
