package redisadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/sori-dev/sori/internal/testredis"
	"github.com/sori-dev/sori/redisadapter"
)

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	// go-redis logs every failed dial; the tests stop Redis on purpose.
	redis.SetLogger(quietLogger{})
	os.Exit(m.Run())
}

// peer is a server of the cluster written by hand, as a Node server of
// @socket.io/redis-adapter would speak: it sees every message on the
// namespace's channels and publishes what a test tells it to.
type peer struct {
	t   *testing.T
	rc  *redis.Client
	ps  *redis.PubSub
	uid string
	msg chan *redis.Message
}

func newPeer(t *testing.T, r *testredis.Server, uid string) *peer {
	t.Helper()
	p := &peer{t: t, uid: uid, rc: redis.NewClient(&redis.Options{Addr: r.Addr}), msg: make(chan *redis.Message, 256)}
	p.ps = p.rc.Subscribe(ctxT(t), "socket.io-request#/#", "socket.io-response#/#", "socket.io-response#/#"+uid+"#")
	if err := p.ps.PSubscribe(ctxT(t), "socket.io#/#*"); err != nil {
		t.Fatal(err)
	}
	for range 4 { // the subscription confirmations
		if _, err := p.ps.ReceiveTimeout(ctxT(t), waitLimit); err != nil {
			t.Fatal(err)
		}
	}
	go func() {
		for {
			m, err := p.ps.ReceiveMessage(context.Background())
			if err != nil {
				close(p.msg)
				return
			}
			p.msg <- m
		}
	}()
	t.Cleanup(func() {
		_ = p.ps.Close()
		_ = p.rc.Close()
	})
	return p
}

func (p *peer) publish(channel string, payload []byte) {
	p.t.Helper()
	if err := p.rc.Publish(ctxT(p.t), channel, payload).Err(); err != nil {
		p.t.Fatal(err)
	}
}

func (p *peer) publishJSON(channel string, v any) {
	p.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		p.t.Fatal(err)
	}
	p.publish(channel, b)
}

// next waits for a message on channel that satisfies match (every message
// when nil), skipping the others.
func (p *peer) next(channel string, match func(payload []byte) bool) []byte {
	p.t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case m, ok := <-p.msg:
			if !ok {
				p.t.Fatal("peer subscription closed")
			}
			if m.Channel == channel && (match == nil || match([]byte(m.Payload))) {
				return []byte(m.Payload)
			}
		case <-deadline:
			p.t.Fatalf("peer: nothing on %s", channel)
			return nil
		}
	}
}

func hasRequestID(id string) func([]byte) bool {
	return func(b []byte) bool { return bytes.Contains(b, []byte(id)) }
}

// The requests a Node server sends, and the answers it expects.
func TestAnswersNodeRequests(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 1, nil)
	n := nodes[0]
	p := newPeer(t, r, "peer01")
	eventually(t, "two servers", func() bool {
		c, _ := n.adapter().ServerCount(ctxT(t))
		return c == 2
	})
	c := connect(t, n.ts, "carol", "rooms=r", "x=1")
	c.onAckRequest(func(ev event) []any { return []any{map[string]any{"got": ev.Name, "bin": []byte{7}}, "dropped"} })
	const resp = "socket.io-response#/#"
	const req = "socket.io-request#/#"

	// SOCKETS (older servers).
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "s1", "type": 0, "rooms": []string{"r"}})
	var sockets struct {
		RequestID string
		Sockets   []string
	}
	_ = json.Unmarshal(p.next(resp, hasRequestID("s1")), &sockets)
	if len(sockets.Sockets) != 1 || sockets.Sockets[0] != c.id {
		t.Fatalf("SOCKETS: %+v", sockets)
	}

	// ALL_ROOMS.
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "a1", "type": 1})
	var rooms struct{ Rooms []string }
	_ = json.Unmarshal(p.next(resp, hasRequestID("a1")), &rooms)
	if len(rooms.Rooms) != 2 {
		t.Fatalf("ALL_ROOMS: %+v", rooms)
	}

	// REMOTE_JOIN, both forms.
	p.publishJSON(req, map[string]any{"uid": p.uid, "type": 2,
		"opts": map[string]any{"rooms": []string{"r"}, "except": []string{}}, "rooms": []string{"j1", "j2"}})
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "j3", "type": 2, "sid": c.id, "room": "legacy"})
	p.next(resp, hasRequestID("j3"))
	eventually(t, "joined", func() bool {
		a := n.adapter()
		return a.RoomSize("j1") == 1 && a.RoomSize("j2") == 1 && a.RoomSize("legacy") == 1
	})

	// REMOTE_FETCH: the sockets in the Node form.
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "f1", "type": 5,
		"opts": map[string]any{"rooms": []string{"legacy"}, "except": []string{}}})
	var fetched struct {
		Sockets []struct {
			ID        string
			Rooms     []string
			Data      map[string]any
			Handshake map[string]any
		}
	}
	_ = json.Unmarshal(p.next(resp, hasRequestID("f1")), &fetched)
	if len(fetched.Sockets) != 1 {
		t.Fatalf("REMOTE_FETCH: %+v", fetched)
	}
	s := fetched.Sockets[0]
	q, _ := s.Handshake["query"].(map[string]any)
	if s.ID != c.id || len(s.Rooms) != 5 || s.Data["name"] != "carol" || q["x"] != "1" ||
		s.Handshake["issued"] == nil || s.Handshake["time"] == nil || s.Handshake["address"] == nil {
		t.Fatalf("REMOTE_FETCH socket: %+v", s)
	}

	// A broadcast, binary inside.
	msg, _ := msgpack.Marshal([]any{p.uid, map[string]any{"type": 2, "nsp": "/", "data": []any{"fromnode", []byte{1, 2}}},
		map[string]any{"rooms": []string{}, "except": []string{}, "flags": map[string]any{}}})
	p.publish("socket.io#/#", msg)
	if ev := c.expect("fromnode"); !bytes.Equal(ev.Args[0].([]byte), []byte{1, 2}) {
		t.Fatalf("broadcast: %v", ev.Args)
	}
	// To a room nobody here is in: ignored.
	msg, _ = msgpack.Marshal([]any{p.uid, map[string]any{"type": 2, "nsp": "/", "data": []any{"nobody"}},
		map[string]any{"rooms": []string{"elsewhere"}, "except": []string{}, "flags": map[string]any{}}})
	p.publish("socket.io#/#elsewhere#", msg)
	// Another namespace: ignored.
	msg, _ = msgpack.Marshal([]any{p.uid, map[string]any{"type": 2, "nsp": "/admin", "data": []any{"admin"}},
		map[string]any{"rooms": []string{}, "except": []string{}, "flags": map[string]any{}}})
	p.publish("socket.io#/#", msg)

	// BROADCAST with acknowledgements: the count as JSON, the answer (its
	// first argument) as msgpack.
	msg, _ = msgpack.Marshal(map[string]any{"uid": p.uid, "requestId": "b1", "type": 7,
		"packet": map[string]any{"type": 2, "nsp": "/", "data": []any{"question"}},
		"opts":   map[string]any{"rooms": []string{}, "except": []string{}, "flags": map[string]any{"timeout": 1000}}})
	p.publish(req, msg)
	if ev := c.expect("question"); ev.Name != "question" {
		t.Fatal(ev)
	}
	count := p.next(resp, hasRequestID("b1"))
	if string(count) != `{"type":8,"requestId":"b1","clientCount":1}` {
		t.Fatalf("client count %s", count)
	}
	ack := p.next(resp, hasRequestID("b1"))
	var ackMsg struct {
		Type      int            `msgpack:"type"`
		RequestID string         `msgpack:"requestId"`
		Packet    map[string]any `msgpack:"packet"`
	}
	if err := msgpack.Unmarshal(ack, &ackMsg); err != nil || ackMsg.Type != 9 || ackMsg.Packet["got"] != "question" ||
		!bytes.Equal(ackMsg.Packet["bin"].([]byte), []byte{7}) {
		t.Fatalf("ack %x: %+v %v", ack, ackMsg, err)
	}

	// SERVER_SIDE_EMIT with an acknowledgement: one value, on the shared
	// channel.
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "e1", "type": 6, "data": []any{"ping", "?"}})
	if got := string(p.next(resp, hasRequestID("e1"))); got != `{"type":6,"requestId":"e1","data":"pong from n1?"}` {
		t.Fatalf("server-side ack %s", got)
	}
	p.publishJSON(req, map[string]any{"uid": p.uid, "type": 6, "data": []any{"hello", "node"}})
	eventually(t, "hello from node", func() bool { return len(n.got()) == 1 && n.got()[0] == "hello:node" })

	// REMOTE_DISCONNECT.
	p.publishJSON(req, map[string]any{"uid": p.uid, "type": 4,
		"opts": map[string]any{"rooms": []string{"j1"}, "except": []string{}}, "close": false})
	if _, ok := c.waitFor("disconnect", waitLimit); !ok {
		t.Fatal("not disconnected")
	}
}

// The requests this server sends, as a Node server reads them, and the
// answers it sends back.
func TestSendsNodeRequests(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 1, &redisadapter.Options{PublishOnSpecificResponseChannel: true})
	n := nodes[0]
	p := newPeer(t, r, "peer02")
	eventually(t, "two servers", func() bool {
		c, _ := n.adapter().ServerCount(ctxT(t))
		return c == 2
	})
	uid := n.adapter().UID()
	c := connect(t, n.ts, "dave", "rooms=r")
	const req = "socket.io-request#/#"

	// A broadcast to one room goes to the room's channel.
	go func() { _ = n.srv.To("r").Except("x").Emit("ev", []byte{5}, 2.5) }()
	b := p.next("socket.io#/#r#", nil)
	var msg []any
	if err := msgpack.Unmarshal(b, &msg); err != nil || len(msg) != 3 || msg[0] != uid {
		t.Fatalf("broadcast %x: %v %v", b, msg, err)
	}
	pkt := msg[1].(map[string]any)
	data := pkt["data"].([]any)
	if pkt["nsp"] != "/" || data[0] != "ev" || !bytes.Equal(data[1].([]byte), []byte{5}) || data[2] != 2.5 {
		t.Fatalf("packet %#v", pkt)
	}
	opts := msg[2].(map[string]any)
	if len(opts["rooms"].([]any)) != 1 || opts["except"].([]any)[0] != "x" || opts["flags"] == nil {
		t.Fatalf("opts %#v", opts)
	}
	c.expect("ev")

	// FetchSockets: the request as Node sends it; a Node-form answer.
	type result struct {
		n   int
		err error
		hs  string
	}
	done := make(chan result, 1)
	go func() {
		socks, err := n.srv.Sockets().FetchSockets(context.Background())
		res := result{n: len(socks), err: err}
		for _, s := range socks {
			if !s.Local {
				res.hs = s.Handshake.Header("User-Agent") + "|" + s.Handshake.Query().Get("EIO") + "|" + s.Rooms[1]
			}
		}
		done <- res
	}()
	b = p.next(req, func(b []byte) bool { return bytes.Contains(b, []byte(`"type":5`)) })
	var fr map[string]any
	_ = json.Unmarshal(b, &fr)
	if fr["uid"] != uid || fr["requestId"] == nil || fr["opts"] == nil {
		t.Fatalf("fetch request %s", b)
	}
	p.publishJSON("socket.io-response#/#"+uid+"#", map[string]any{"requestId": fr["requestId"], "sockets": []any{
		map[string]any{"id": "nodeSocket", "rooms": []any{"nodeSocket", "nodeRoom"}, "data": map[string]any{},
			"handshake": map[string]any{"headers": map[string]any{"user-agent": "node"}, "time": "x", "address": "::1",
				"xdomain": false, "secure": false, "issued": 1700000000000, "url": "/socket.io/?EIO=4", "query": map[string]any{"EIO": "4"}, "auth": map[string]any{}}}}})
	res := <-done
	if res.err != nil || res.n != 2 || res.hs != "node|4|nodeRoom" {
		t.Fatalf("FetchSockets: %+v", res)
	}

	// SERVER_SIDE_EMIT with an acknowledgement, answered as Node answers.
	type sse struct {
		answers []string
		err     error
	}
	sdone := make(chan sse, 1)
	go func() {
		ans, err := n.srv.Sockets().ServerSideEmitWithAck(context.Background(), "ping", 1)
		var out []string
		for _, a := range ans {
			out = append(out, string(a.Raw(0)))
		}
		sdone <- sse{out, err}
	}()
	b = p.next(req, func(b []byte) bool { return bytes.Contains(b, []byte(`"type":6`)) })
	_ = json.Unmarshal(b, &fr)
	if d, _ := fr["data"].([]any); len(d) != 2 || d[0] != "ping" {
		t.Fatalf("server-side request %s", b)
	}
	p.publishJSON("socket.io-response#/#", map[string]any{"type": 6, "requestId": fr["requestId"], "data": map[string]any{"ok": true}})
	if s := <-sdone; s.err != nil || len(s.answers) != 1 || s.answers[0] != `{"ok":true}` {
		t.Fatalf("ServerSideEmitWithAck: %+v", s)
	}

	// Answers to requests go to the requester's own channel.
	p.publishJSON(req, map[string]any{"uid": p.uid, "requestId": "own1", "type": 1})
	p.next("socket.io-response#/#"+p.uid+"#", hasRequestID("own1"))
}

// Close leaves no goroutine of the adapter behind, even with requests and
// acknowledgements under way.
func TestCloseReleasesEverything(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 2, nil)
	a := connect(t, nodes[0].ts, "a")
	connect(t, nodes[1].ts, "b") // never answers
	a.onAckRequest(func(event) []any { return []any{1} })
	nodes[1].srv.Of("/other")
	go func() { _, _ = nodes[0].srv.Sockets().EmitWithAck(context.Background(), "q") }()
	go func() { _, _ = nodes[0].srv.Sockets().ServerSideEmitWithAck(context.Background(), "silent", "") }()
	time.Sleep(200 * time.Millisecond)
	for _, n := range nodes {
		n.close()
	}
	eventually(t, "no adapter goroutine left", func() bool {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		return !strings.Contains(stacks, "sori/redisadapter.")
	})
}
