package parser

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// DefaultMaxAttachments is the attachment limit of a Decoder whose
// MaxAttachments is 0, the same as socket.io-parser's maxAttachments.
const DefaultMaxAttachments = 10

// Decoder reassembles packets from Engine.IO messages. It is not safe for
// concurrent use: use one per connection.
type Decoder struct {
	// MaxAttachments caps the attachment count a binary packet may
	// announce; 0 (or less) means DefaultMaxAttachments.
	MaxAttachments int

	pending *Packet // binary packet waiting for attachments
	want    int     // attachments it announced
}

// Reset drops a partially received binary packet.
func (d *Decoder) Reset() {
	d.pending = nil
	d.want = 0
}

// Add feeds one Engine.IO message: a text message starts a packet, a binary
// message is the next attachment of the pending binary packet. It returns
// the completed packet, or nil, nil while attachments are still expected.
//
// Add does not keep msg: the packet's Data and Attachments are copies.
// Every malformed input gives an error (an *Error matching one of the
// sentinel errors), and leaves the decoder reset.
func (d *Decoder) Add(msg []byte, binary bool) (*Packet, error) {
	if binary {
		p := d.pending
		if p == nil {
			return nil, decodeErr(ErrUnexpectedBinary, "")
		}
		att := make([]byte, len(msg))
		copy(att, msg)
		p.Attachments = append(p.Attachments, att)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		return p, nil
	}
	if d.pending != nil {
		got, want := len(d.pending.Attachments), d.want
		d.Reset()
		return nil, decodeErr(ErrUnexpectedText,
			"received "+strconv.Itoa(got)+" of "+strconv.Itoa(want)+" attachments")
	}
	p, n, err := d.decodeText(msg)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// decodeText parses <type>[<attachments>-][<nsp>,][<id>][<json>] and
// returns the packet and its announced attachment count.
func (d *Decoder) decodeText(msg []byte) (*Packet, int, error) {
	if len(msg) == 0 {
		return nil, 0, decodeErr(ErrUnknownType, "empty message")
	}
	if msg[0] < '0' || msg[0] > '0'+byte(BinaryAck) {
		return nil, 0, decodeErr(ErrUnknownType, strconv.QuoteRune(rune(msg[0])))
	}
	p := &Packet{Type: Type(msg[0] - '0'), Namespace: "/"}
	i := 1

	n := 0
	if p.Type.binary() {
		limit := d.MaxAttachments
		if limit <= 0 {
			limit = DefaultMaxAttachments
		}
		start := i
		for ; i < len(msg) && msg[i] != '-'; i++ {
			if !isDigit(msg[i]) {
				return nil, 0, decodeErr(ErrAttachments, "non-digit "+strconv.QuoteRune(rune(msg[i]))+" in attachment count")
			}
			n = n*10 + int(msg[i]-'0')
			if n > limit { // also keeps n from overflowing
				return nil, 0, decodeErr(ErrTooManyAttachments, "more than "+strconv.Itoa(limit))
			}
		}
		switch {
		case i == len(msg):
			return nil, 0, decodeErr(ErrAttachments, "missing \"-\" after attachment count")
		case i == start || n == 0:
			return nil, 0, decodeErr(ErrAttachments, "attachment count must be at least 1")
		}
		i++ // '-'
	}

	hasNsp := i < len(msg) && msg[i] == '/'
	if hasNsp {
		start := i
		if j := bytes.IndexByte(msg[i:], ','); j >= 0 {
			i += j
		} else {
			i = len(msg)
		}
		if i-start > 1 {
			p.Namespace = string(msg[start:i])
		}
		if i < len(msg) {
			i++ // ','
		}
	}

	afterNsp := i
	if i < len(msg) && isDigit(msg[i]) {
		var id uint64
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			c := uint64(msg[i] - '0')
			if id > (1<<64-1-c)/10 {
				return nil, 0, decodeErr(ErrAckID, "overflows uint64")
			}
			id = id*10 + c
		}
		p.ID, p.HasID = id, true
		if i < len(msg) {
			switch c := msg[i]; {
			case c == '-' && !hasNsp && afterNsp == 1:
				return nil, 0, decodeErr(ErrAttachments, "attachment count on non-binary type "+p.Type.String())
			case c != '[' && c != '{' && c != '"' && !isSpace(c):
				return nil, 0, decodeErr(ErrAckID, "unexpected "+strconv.QuoteRune(rune(c))+" after ack id")
			}
		}
	}

	payload := msg[i:]
	if len(payload) == 0 {
		if p.Type != Connect && p.Type != Disconnect {
			return nil, 0, decodeErr(ErrInvalidPayload, "missing payload for "+p.Type.String())
		}
		return p, n, nil
	}
	if p.Type == Disconnect {
		return nil, 0, decodeErr(ErrInvalidPayload, "DISCONNECT takes no payload")
	}
	if !json.Valid(payload) {
		if !hasNsp && !p.HasID && looksLikeNamespace(payload) {
			return nil, 0, decodeErr(ErrNamespace, "must start with \"/\"")
		}
		return nil, 0, decodeErr(ErrInvalidJSON, "")
	}
	if err := checkPayload(p.Type, payload); err != nil {
		return nil, 0, err
	}
	if p.Type.binary() {
		// Check placeholders now rather than after the attachments
		// arrived: a bad packet fails before we buffer its binary parts.
		if _, err := findPlaceholders(payload, n); err != nil {
			return nil, 0, err
		}
	}
	data := make([]byte, len(payload))
	copy(data, payload)
	p.Data = json.RawMessage(data)
	return p, n, nil
}

// looksLikeNamespace tells whether invalid JSON text is better explained
// as a namespace missing its leading slash ("2admin,[...]").
func looksLikeNamespace(b []byte) bool {
	j := bytes.IndexByte(b, ',')
	return j > 0 && !bytes.ContainsAny(b[:j], "[{\" \t\r\n")
}

// checkPayload applies the reference's isPayloadValid to valid JSON text.
func checkPayload(t Type, b []byte) error {
	s := scanner{data: b}
	s.skipSpace()
	first := b[s.pos] // valid JSON is not all whitespace
	ok := false
	switch t {
	case Connect:
		ok = first == '{'
	case ConnectError:
		ok = first == '{' || first == '"'
	case Ack, BinaryAck:
		ok = first == '['
	case Event, BinaryEvent:
		if first != '[' {
			break
		}
		s.pos++
		s.skipSpace()
		c := b[s.pos]
		if c == '-' || isDigit(c) {
			return nil // numeric event names are allowed
		}
		if c != '"' {
			return decodeErr(ErrInvalidPayload, "event name must be a string or a number")
		}
		start := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		name := b[start+1 : s.pos-1]
		if escaped {
			var unescaped string
			if json.Unmarshal(b[start:s.pos], &unescaped) != nil {
				return decodeErr(ErrInvalidJSON, "")
			}
			name = []byte(unescaped)
		}
		if reservedEvent(name) {
			return decodeErr(ErrInvalidPayload, "reserved event name "+strconv.Quote(string(name)))
		}
		return nil
	}
	if !ok {
		return decodeErr(ErrInvalidPayload, "not a valid "+t.String()+" payload")
	}
	return nil
}

// reservedEvent reports names that have a meaning of their own on either
// side and so cannot be sent as events.
func reservedEvent(name []byte) bool {
	switch string(name) { // no allocation: the compiler compares in place
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}
