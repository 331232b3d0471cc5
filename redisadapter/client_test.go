package redisadapter_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sori-dev/sori/socketio/parser"
)

// A minimal Socket.IO v5 client over a WebSocket, for the cluster tests:
// it connects to "/", answers pings, records events, answers the server's
// acknowledgement requests and sends events.

const waitLimit = 5 * time.Second

type event struct {
	Name string
	Args []any // decoded as encoding/json does, binary as []byte
}

type client struct {
	t      testing.TB
	name   string
	ws     *websocket.Conn
	id     string
	wmu    sync.Mutex
	events chan event
	done   chan struct{}

	mu     sync.Mutex
	answer func(ev event) []any // answers acknowledgement requests; nil: silent
	acks   map[uint64]chan []any
	nextID uint64
}

// connect opens a session to ts as name (sent as the query parameter name,
// with extra query parameters).
func connect(t testing.TB, ts *httptest.Server, name string, query ...string) *client {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket&name=" + name
	for _, q := range query {
		u += "&" + q
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v", name, err)
	}
	c := &client{t: t, name: name, ws: ws, events: make(chan event, 1024), done: make(chan struct{}),
		acks: make(map[uint64]chan []any)}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(waitLimit))
	_, msg, err := ws.ReadMessage()
	if err != nil || len(msg) == 0 || msg[0] != '0' {
		t.Fatalf("%s: no open packet: %q %v", name, msg, err)
	}
	c.write(websocket.TextMessage, []byte("40"))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: no CONNECT answer: %v", name, err)
		}
		if strings.HasPrefix(string(msg), "40") {
			var sid struct{ Sid string }
			if err := json.Unmarshal(msg[2:], &sid); err != nil || sid.Sid == "" {
				t.Fatalf("%s: CONNECT answer %q", name, msg)
			}
			c.id = sid.Sid
			break
		}
		if string(msg) == "2" {
			c.write(websocket.TextMessage, []byte("3"))
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	go c.read()
	return c
}

func (c *client) write(typ int, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(typ, b)
}

func (c *client) writePacket(p *parser.Packet) {
	text, atts, err := parser.Encode(p)
	if err != nil {
		c.t.Errorf("%s: encode: %v", c.name, err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(websocket.TextMessage, append([]byte("4"), text...))
	for _, a := range atts {
		_ = c.ws.WriteMessage(websocket.BinaryMessage, a)
	}
}

func (c *client) read() {
	defer close(c.done)
	var dec parser.Decoder
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var pkt *parser.Packet
		if typ == websocket.BinaryMessage {
			pkt, err = dec.Add(msg, true)
		} else {
			switch {
			case string(msg) == "2":
				c.write(websocket.TextMessage, []byte("3"))
				continue
			case len(msg) > 0 && msg[0] == '4':
				pkt, err = dec.Add(msg[1:], false)
			default:
				continue
			}
		}
		if err != nil {
			c.t.Errorf("%s: bad packet %q: %v", c.name, msg, err)
			return
		}
		if pkt != nil {
			c.onPacket(pkt)
		}
	}
}

func decodeArgs(pkt *parser.Packet) []any {
	raw, _ := pkt.Data.(json.RawMessage)
	if raw == nil {
		return nil
	}
	vals, err := parser.Args(raw)
	if err != nil {
		return nil
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		_ = parser.Unmarshal(v, pkt.Attachments, &out[i])
	}
	return out
}

func (c *client) onPacket(pkt *parser.Packet) {
	switch pkt.Type {
	case parser.Event, parser.BinaryEvent:
		args := decodeArgs(pkt)
		if len(args) == 0 {
			return
		}
		name, _ := args[0].(string)
		ev := event{Name: name, Args: args[1:]}
		if pkt.HasID {
			c.mu.Lock()
			answer := c.answer
			c.mu.Unlock()
			if answer != nil {
				c.writePacket(&parser.Packet{Type: parser.Ack, ID: pkt.ID, HasID: true, Data: answer(ev)})
			}
		}
		c.events <- ev
	case parser.Ack, parser.BinaryAck:
		c.mu.Lock()
		ch := c.acks[pkt.ID]
		delete(c.acks, pkt.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- decodeArgs(pkt)
		}
	case parser.Disconnect:
		c.events <- event{Name: "disconnect"}
	}
}

// onAckRequest sets how the client answers the server's acknowledgement
// requests; nil leaves them unanswered.
func (c *client) onAckRequest(fn func(ev event) []any) {
	c.mu.Lock()
	c.answer = fn
	c.mu.Unlock()
}

// emit sends an event.
func (c *client) emit(name string, args ...any) {
	c.writePacket(&parser.Packet{Type: parser.Event, Data: append([]any{name}, args...)})
}

// call sends an event and waits for its acknowledgement.
func (c *client) call(name string, args ...any) []any {
	c.t.Helper()
	ch := make(chan []any, 1)
	c.mu.Lock()
	id := c.nextID
	c.nextID++
	c.acks[id] = ch
	c.mu.Unlock()
	c.writePacket(&parser.Packet{Type: parser.Event, ID: id, HasID: true, Data: append([]any{name}, args...)})
	select {
	case a := <-ch:
		return a
	case <-time.After(waitLimit):
		c.t.Fatalf("%s: no acknowledgement of %q", c.name, name)
		return nil
	}
}

// next is the next event, whatever it is.
func (c *client) next() event {
	c.t.Helper()
	select {
	case ev := <-c.events:
		return ev
	case <-time.After(waitLimit):
		c.t.Fatalf("%s: no event within %v", c.name, waitLimit)
		return event{}
	}
}

// expect waits for the next event and checks its name.
func (c *client) expect(name string) event {
	c.t.Helper()
	ev := c.next()
	if ev.Name != name {
		c.t.Fatalf("%s: got event %q %v, want %q", c.name, ev.Name, ev.Args, name)
	}
	return ev
}

// waitFor skips events until one named name.
func (c *client) waitFor(name string, limit time.Duration) (event, bool) {
	deadline := time.After(limit)
	for {
		select {
		case ev := <-c.events:
			if ev.Name == name {
				return ev, true
			}
		case <-deadline:
			return event{}, false
		}
	}
}

// drain forgets the events received so far.
func (c *client) drain() {
	for {
		select {
		case <-c.events:
		default:
			return
		}
	}
}

func (c *client) String() string { return fmt.Sprintf("%s(%s)", c.name, c.id) }
