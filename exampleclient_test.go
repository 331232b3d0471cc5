package sori_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sori-dev/sori/socketio/parser"
)

// client is a bare Socket.IO client for the examples, one namespace per
// connection: real applications use the official socket.io-client.
type client struct {
	ws  *websocket.Conn
	nsp string
	ids uint64
	dec parser.Decoder
}

// incoming is an event or acknowledgement the client received.
type incoming struct {
	ack   bool
	id    uint64
	hasID bool
	event string
	args  []any
}

// dialClient connects to the server at url (http://...) and joins
// namespace nsp with the auth payload (nil for none). A refusal comes back
// as an error saying the CONNECT_ERROR's message and data.
func dialClient(url, nsp string, auth any) (*client, error) {
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, err
	}
	c := &client{ws: ws, nsp: nsp}
	if _, _, err := ws.ReadMessage(); err != nil { // the Engine.IO open packet
		return nil, err
	}
	c.send(&parser.Packet{Type: parser.Connect, Namespace: nsp, Data: auth})
	p, err := c.read()
	if err != nil {
		return nil, err
	}
	if p.Type == parser.ConnectError {
		var e struct {
			Message string
			Data    any
		}
		_ = json.Unmarshal(p.Data.(json.RawMessage), &e)
		_ = ws.Close()
		return nil, fmt.Errorf("%s (data: %v)", e.Message, e.Data)
	}
	return c, nil
}

func (c *client) close() { _ = c.ws.Close() }

func (c *client) send(p *parser.Packet) {
	text, atts, err := parser.Encode(p)
	if err != nil {
		panic(err)
	}
	_ = c.ws.WriteMessage(websocket.TextMessage, append([]byte("4"), text...))
	for _, a := range atts {
		_ = c.ws.WriteMessage(websocket.BinaryMessage, a)
	}
}

// read returns the next Socket.IO packet, answering pings on the way.
func (c *client) read() (*parser.Packet, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return nil, err
		}
		binary := typ == websocket.BinaryMessage
		if !binary {
			if len(msg) == 1 && msg[0] == '2' {
				_ = c.ws.WriteMessage(websocket.TextMessage, []byte("3"))
			}
			if len(msg) == 0 || msg[0] != '4' {
				continue
			}
			msg = msg[1:]
		}
		p, err := c.dec.Add(msg, binary)
		if err != nil {
			return nil, err
		}
		if p != nil {
			return p, nil
		}
	}
}

// emit sends an event.
func (c *client) emit(event string, args ...any) {
	c.send(&parser.Packet{Type: parser.Event, Namespace: c.nsp, Data: append([]any{event}, args...)})
}

// call sends an event and returns the arguments of its acknowledgement.
func (c *client) call(event string, args ...any) []any {
	c.ids++
	id := c.ids
	c.send(&parser.Packet{Type: parser.Event, Namespace: c.nsp, ID: id, HasID: true,
		Data: append([]any{event}, args...)})
	for {
		in, err := c.next()
		if err != nil {
			panic(err)
		}
		if in.ack && in.id == id {
			return in.args
		}
	}
}

// next returns the next event or acknowledgement.
func (c *client) next() (incoming, error) {
	for {
		p, err := c.read()
		if err != nil {
			return incoming{}, err
		}
		if p.Type == parser.Disconnect {
			return incoming{}, errors.New("disconnected by the server")
		}
		if p.Type != parser.Event && p.Type != parser.BinaryEvent && p.Type != parser.Ack && p.Type != parser.BinaryAck {
			continue
		}
		raw, _ := parser.Args(p.Data.(json.RawMessage))
		vals := make([]any, len(raw))
		for i := range raw {
			_ = parser.Unmarshal(raw[i], p.Attachments, &vals[i])
		}
		in := incoming{id: p.ID, hasID: p.HasID}
		if p.Type == parser.Ack || p.Type == parser.BinaryAck {
			in.ack, in.args = true, vals
		} else {
			in.event, _ = vals[0].(string)
			in.args = vals[1:]
		}
		return in, nil
	}
}

// on waits for the next event and prints it.
func (c *client) on(who string) incoming {
	in, err := c.next()
	if err != nil {
		fmt.Println(who, "error:", err)
		return in
	}
	fmt.Println(who, "got", in.event, in.args)
	return in
}

// answer acknowledges an event the server sent with an id.
func (c *client) answer(in incoming, args ...any) {
	c.send(&parser.Packet{Type: parser.Ack, Namespace: c.nsp, ID: in.id, HasID: true, Data: args})
}
