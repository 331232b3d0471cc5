package sori

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sori-dev/sori/engineio"
)

// recvEvent waits for a value on ch, failing the test after waitLimit.
func recvOn[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("nothing received within %v", waitLimit)
		var zero T
		return zero
	}
}

// echoServer answers "ping" with an ack, so a test can tell that every
// packet sent before has been handled: handlers run in order.
func withPing(s *Socket) {
	_ = s.On("ping", func(ack func(string)) { ack("pong") })
}

// barrier proves that the socket handled every earlier packet and is
// still usable.
func barrier(c *rawClient, nsp string, id int) {
	c.t.Helper()
	c.send(fmt.Sprintf("2%s%d[\"ping\"]", nspPrefix(nsp), id))
	c.expect(fmt.Sprintf("3%s%d[\"pong\"]", nspPrefix(nsp), id))
}

func TestConnectAndEchoWithAck(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("echo", func(n int, str string, obj map[string]any, ack func(int, string, map[string]any)) {
			ack(n, str, obj)
		})
		_ = s.On("variadic", func(a Args, ack func(...any)) {
			vals, _ := a.Values()
			ack(vals...)
		})
		sockets <- s
	})
	c := dial(t, ts)
	sid := c.connect("/")
	s := recvOn(t, sockets)
	if s.ID() != sid || sid == c.sid {
		t.Fatalf("socket id %q, CONNECT sid %q, engine sid %q", s.ID(), sid, c.sid)
	}
	if s.Transport() != "websocket" || !s.Connected() {
		t.Fatalf("transport %q connected %v", s.Transport(), s.Connected())
	}
	c.send(`21["echo",1,"a",{"k":[true,null]}]`)
	c.expectJSON("31", `[1,"a",{"k":[true,null]}]`)
	c.send(`27["variadic",1,"two",[3],{"four":4},null]`)
	c.expectJSON("37", `[1,"two",[3],{"four":4},null]`)
	// An event with an ack id but a handler without an ack: nothing back,
	// and the socket carries on.
	c.send(`2["echo"]`)
	c.send(`28["variadic"]`)
	c.expect(`38[]`)
	if srv.Sockets().Len() != 1 || srv.Sockets().Socket(sid) != s {
		t.Fatal("socket not in its namespace")
	}
}

func TestNumericEventName(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("42", func(ack func(string)) { ack("numeric") })
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`23[42]`)
	c.expect(`33["numeric"]`)
}

func TestConnectUnknownNamespace(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	srv.OnConnection(withPing)
	c := dial(t, ts)
	c.send("0/nope,")
	c.expectJSON("4/nope,", `{"message":"Invalid namespace"}`)
	// The connection stays, and other namespaces still work.
	c.connect("/")
	barrier(c, "/", 1)
}

func TestCustomNamespaceAndAuth(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	got := make(chan *Handshake, 2)
	srv.Of("admin").OnConnection(func(s *Socket) {
		if s.Namespace().Name() != "/admin" {
			t.Errorf("namespace %q", s.Namespace().Name())
		}
		got <- s.Handshake()
	})
	srv.OnConnection(func(s *Socket) { got <- s.Handshake() })
	c := dial(t, ts, "token=abc")
	c.connect("/admin", `{"token":"secret"}`)
	hs := recvOn(t, got)
	if !jsonEqual(string(hs.Auth), `{"token":"secret"}`) || hs.Query().Get("token") != "abc" {
		t.Fatalf("auth %s query %v", hs.Auth, hs.Query())
	}
	if hs.Address != "127.0.0.1" || hs.Time.IsZero() || hs.URL == "" {
		t.Fatalf("handshake %+v", hs)
	}
	c.connect("/")
	if hs := recvOn(t, got); string(hs.Auth) != "{}" {
		t.Fatalf("auth without payload: %s", hs.Auth)
	}
	// The handshake travels as the reference describes it.
	b, err := json.Marshal(hs)
	if err != nil {
		t.Fatal(err)
	}
	var back Handshake
	if err := json.Unmarshal(b, &back); err != nil || back.Address != hs.Address ||
		back.Query().Get("token") != "abc" || back.Header("Sec-Websocket-Version") != hs.Header("Sec-Websocket-Version") || back.Time.UnixMilli() != hs.Time.UnixMilli() {
		t.Fatalf("handshake round trip %s: %+v %v", b, back, err)
	}
}

func TestMiddleware(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	var order []string
	var mu sync.Mutex
	step := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	private := srv.Of("/private")
	private.Use(func(s *Socket) error { step("first"); return nil })
	private.Use(func(s *Socket) error {
		step("second")
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		switch auth.Token {
		case "ok":
			s.Data().Set("user", "alice")
			return nil
		case "plain":
			return errors.New("plain refusal")
		case "panic":
			panic("middleware panicked")
		}
		return &ConnectError{Message: "not authorized", Data: map[string]any{"code": 42}}
	})
	private.OnConnection(func(s *Socket) {
		step("connected " + s.Data().String("user", "?"))
		withPing(s)
	})

	c := dial(t, ts)
	c.send(`0/private,{"token":"bad"}`)
	c.expectJSON("4/private,", `{"message":"not authorized","data":{"code":42}}`)
	c.send(`0/private,{"token":"plain"}`)
	c.expectJSON("4/private,", `{"message":"plain refusal"}`)
	c.send(`0/private,{"token":"panic"}`)
	got := c.recv()
	if !strings.HasPrefix(got, "4/private,") {
		t.Fatalf("panicking middleware: %q", got)
	}
	if private.Len() != 0 {
		t.Fatal("refused socket in the namespace")
	}
	c.connect("/private", `{"token":"ok"}`)
	barrier(c, "/private", 1)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"first", "second", "first", "second", "first", "second", "first", "second", "connected alice"}
	if !slices.Equal(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
}

func TestBinaryBothWays(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	type withBlob struct {
		Name string `json:"name"`
		Blob []byte `json:"blob"`
	}
	srv.OnConnection(func(s *Socket) {
		_ = s.On("upload", func(b []byte, w withBlob, ack func([]byte, withBlob)) {
			ack(append(b, 0xff), withBlob{Name: w.Name + "!", Blob: append(w.Blob, 0xee)})
		})
		_ = s.On("download", func() { _ = s.Emit("file", []byte{1, 2, 3}, "text") })
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`52-4["upload",{"_placeholder":true,"num":0},{"name":"n","blob":{"_placeholder":true,"num":1}}]`)
	c.sendBin([]byte{1})
	c.sendBin([]byte{2})
	c.expectJSON("62-4", `[{"_placeholder":true,"num":0},{"name":"n!","blob":{"_placeholder":true,"num":1}}]`)
	if b := c.recvBin(); string(b) != "\x01\xff" {
		t.Fatalf("first attachment %x", b)
	}
	if b := c.recvBin(); string(b) != "\x02\xee" {
		t.Fatalf("second attachment %x", b)
	}
	c.send(`2["download"]`)
	c.expect(`51-["file",{"_placeholder":true,"num":0},"text"]`)
	if b := c.recvBin(); string(b) != "\x01\x02\x03" {
		t.Fatalf("attachment %x", b)
	}
}

func TestServerAsksClient(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	type result struct {
		v   string
		err error
	}
	results := make(chan result, 4)
	asks := make(chan func(), 4)
	srv.OnConnection(func(s *Socket) {
		asks <- func() {
			// EmitWithAck: the client answers.
			a, err := s.EmitWithAck(context.Background(), "ask", 1)
			var v string
			if err == nil {
				err = a.Decode(&v)
			}
			results <- result{v, err}
		}
		asks <- func() {
			// A callback: the client answers.
			_ = s.Emit("ask", 2, func(v string) { results <- result{v, nil} })
		}
		asks <- func() {
			// No answer in time.
			_, err := s.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "ask", 3)
			results <- result{"", err}
		}
		asks <- func() {
			// A callback with an error first, no answer in time.
			_ = s.Timeout(50*time.Millisecond).Emit("ask", 4, func(err error, v string) {
				results <- result{v, err}
			})
		}
	})
	c := dial(t, ts)
	c.connect("/")

	ask := recvOn(t, asks)
	go ask()
	c.expect(`20["ask",1]`)
	c.send(`30["one"]`)
	if r := recvOn(t, results); r.err != nil || r.v != "one" {
		t.Fatalf("EmitWithAck: %+v", r)
	}
	recvOn(t, asks)()
	c.expect(`21["ask",2]`)
	c.send(`31["two"]`)
	if r := recvOn(t, results); r.err != nil || r.v != "two" {
		t.Fatalf("callback: %+v", r)
	}
	ask = recvOn(t, asks)
	go ask()
	c.expect(`22["ask",3]`)
	if r := recvOn(t, results); !errors.Is(r.err, ErrAckTimeout) {
		t.Fatalf("EmitWithAck timeout: %+v", r)
	}
	c.send(`32["late"]`) // ignored
	recvOn(t, asks)()
	c.expect(`23["ask",4]`)
	if r := recvOn(t, results); !errors.Is(r.err, ErrAckTimeout) {
		t.Fatalf("callback timeout: %+v", r)
	}
	c.send(`33["late"]`) // ignored
	select {
	case r := <-results:
		t.Fatalf("late ack delivered: %+v", r)
	default:
	}
}

func TestEmitWithAckFromHandler(t *testing.T) {
	// A handler may wait for the same client's acknowledgement: acks are
	// not queued behind events.
	srv, ts, _ := newTestServer(t, nil)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("relay", func(ack func(string, error)) {
			a, err := s.Timeout(waitLimit).EmitWithAck(context.Background(), "question")
			var v string
			if err == nil {
				_ = a.Decode(&v)
			}
			ack(v, err)
		})
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`27["relay"]`)
	c.expect(`20["question"]`)
	c.send(`30["answer"]`)
	c.expect(`37["answer",null]`)
}

func TestReusedAckID(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	var calls atomic.Int32
	srv.OnConnection(func(s *Socket) {
		withPing(s)
		_ = s.Emit("ask", func(string) { calls.Add(1) })
	})
	c := dial(t, ts)
	c.connect("/")
	c.expect(`20["ask"]`)
	c.send(`30["a"]`)
	c.send(`30["b"]`)      // reused: ignored
	c.send(`399["c"]`)     // never asked: ignored
	c.send(`3/other,0[1]`) // a namespace not joined: ignored
	barrier(c, "/", 1)
	if n := calls.Load(); n != 1 {
		t.Fatalf("callback ran %d times", n)
	}
}

func TestBadInput(t *testing.T) {
	placeholder := func(n int) string { return fmt.Sprintf(`{"_placeholder":true,"num":%d}`, n) }
	cases := []struct {
		name string
		send func(c *rawClient)
	}{
		{"malformed JSON", func(c *rawClient) { c.send(`2["event",`) }},
		{"payload not an array", func(c *rawClient) { c.send(`2{"a":1}`) }},
		{"event name an object", func(c *rawClient) { c.send(`2[{"a":1}]`) }},
		{"unknown packet type", func(c *rawClient) { c.send(`9["event"]`) }},
		{"bad ack id", func(c *rawClient) { c.send(`21a["event"]`) }},
		{"CONNECT_ERROR from a client", func(c *rawClient) { c.send(`4{"message":"x"}`) }},
		{"DISCONNECT with a payload", func(c *rawClient) { c.send(`1["x"]`) }},
		{"more placeholders than attachments", func(c *rawClient) {
			c.send(`51-["event",` + placeholder(0) + `,` + placeholder(1) + `]`)
			c.sendBin([]byte{1})
		}},
		{"placeholder out of range", func(c *rawClient) {
			c.send(`51-["event",` + placeholder(3) + `]`)
		}},
		{"attachments that never come", func(c *rawClient) {
			c.send(`52-["event",` + placeholder(0) + `,` + placeholder(1) + `]`)
			c.sendBin([]byte{1})
			c.send(`2["event"]`)
		}},
		{"too many attachments", func(c *rawClient) {
			c.send(`51-["fine",` + placeholder(0) + `]`) // complete and valid
			c.sendBin([]byte{1})
			c.sendBin([]byte{2})
		}},
		{"binary out of the blue", func(c *rawClient) { c.sendBin([]byte{1}) }},
		{"attachment count over the limit", func(c *rawClient) {
			c.send(`511-["event",` + placeholder(0) + `]`)
		}},
		{"zero attachments", func(c *rawClient) { c.send(`50-["event"]`) }},
		{"reserved name connect", func(c *rawClient) { c.send(`2["connect"]`) }},
		{"reserved name disconnect", func(c *rawClient) { c.send(`2["disconnect","x"]`) }},
		{"reserved name disconnecting", func(c *rawClient) { c.send(`2["disconnecting","x"]`) }},
		{"reserved name connect_error", func(c *rawClient) { c.send(`2["connect_error"]`) }},
		{"reserved name newListener", func(c *rawClient) { c.send(`2["newListener"]`) }},
		{"reserved name removeListener", func(c *rawClient) { c.send(`2["removeListener"]`) }},
		{"reserved name escaped", func(c *rawClient) { c.send(`2["disconn\u0065ct"]`) }},
		{"reserved name in a binary event", func(c *rawClient) {
			c.send(`51-["disconnect",` + placeholder(0) + `]`)
			c.sendBin([]byte{1})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, ts, _ := newTestServer(t, nil)
			var mu sync.Mutex
			var ran []string
			reasons := make(chan string, 1)
			srv.OnConnection(func(s *Socket) {
				// The server fires disconnecting and disconnect itself, with
				// the reason; the client's "x" must never reach them.
				for _, ev := range []string{"event", "connect", "disconnecting", "connect_error", "newListener", "removeListener"} {
					_ = s.On(ev, func(a Args) {
						var arg string
						_ = a.Decode(&arg)
						if ev != "disconnecting" || arg == "x" {
							mu.Lock()
							ran = append(ran, ev+" "+arg)
							mu.Unlock()
						}
					})
				}
				_ = s.On("disconnect", func(reason string) { reasons <- reason })
			})
			c := dial(t, ts)
			c.connect("/")
			tc.send(c)
			c.waitClosed()
			if reason := recvOn(t, reasons); reason == "" || reason == "x" {
				t.Fatalf("disconnect reason %q", reason)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(ran) != 0 {
				t.Fatalf("handlers ran: %q", ran)
			}
		})
	}
}

func TestWrongTypesGoToOnError(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	var ran atomic.Int32
	errs := make(chan error, 4)
	srv.OnConnection(func(s *Socket) {
		withPing(s)
		s.OnError(func(err error) { errs <- err })
		_ = s.On("typed", func(n int, p struct{ X int }, ack func(int)) {
			ran.Add(1)
			ack(n + p.X)
		})
		_ = s.On("failing", func() error { return errors.New("handler failed") })
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`21["typed","not a number",{}]`)
	if err := recvOn(t, errs); !strings.Contains(err.Error(), `"typed"`) || !strings.Contains(err.Error(), "argument 0") {
		t.Fatalf("error %v", err)
	}
	c.send(`22["typed",1,{"X":"nope"}]`)
	if err := recvOn(t, errs); !strings.Contains(err.Error(), "argument 1") {
		t.Fatalf("error %v", err)
	}
	c.send(`2["failing"]`)
	if err := recvOn(t, errs); !strings.Contains(err.Error(), "handler failed") {
		t.Fatalf("error %v", err)
	}
	// Missing arguments are zero values; extra ones are ignored.
	c.send(`23["typed"]`)
	c.expect(`33[0]`)
	c.send(`24["typed",2,{"X":3},"extra"]`)
	c.expect(`34[5]`)
	barrier(c, "/", 5)
	if n := ran.Load(); n != 2 {
		t.Fatalf("handler ran %d times", n)
	}
}

func TestPanickingHandler(t *testing.T) {
	srv, ts, logs := newTestServer(t, nil)
	errs := make(chan error, 4)
	srv.OnConnection(func(s *Socket) {
		withPing(s)
		s.OnError(func(err error) { errs <- err })
		_ = s.On("boom", func(string) { panic("kaboom") })
		s.OnAny(func(event string, _ Args) {
			if event == "anyboom" {
				panic("any kaboom")
			}
		})
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`2["boom","x"]`)
	if err := recvOn(t, errs); !errors.Is(err, errPanic) {
		t.Fatalf("error %v", err)
	}
	c.send(`2["anyboom"]`)
	barrier(c, "/", 1)
	barrier(c, "/", 2)
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "any kaboom") {
		t.Fatalf("panics not logged:\n%s", logs)
	}
	// A panic in a connection handler leaves the socket connected too.
	srv.Of("/p").OnConnection(func(s *Socket) { withPing(s); panic("on connection") })
	c.connect("/p")
	barrier(c, "/p", 3)
}

func TestPerPacketMiddlewareAndAny(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	var mu sync.Mutex
	var seen []string
	note := func(s string) {
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
	}
	errs := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		withPing(s)
		s.Use(func(event string, a Args) error {
			if event == "forbidden" {
				return errors.New("forbidden event")
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err })
		s.OnAny(func(event string, a Args) { note("any " + event + " " + string(a.Raw(0))) })
		s.PrependAny(func(event string, _ Args) { note("first " + event) })
		s.OnAnyOutgoing(func(event string, args []any) { note(fmt.Sprintf("out %s %v", event, args)) })
		_ = s.On("forbidden", func(int) { note("forbidden ran") })
		_ = s.On("allowed", func(n int) {
			note("allowed ran")
			_ = s.Emit("reply", n)
		})
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`2["forbidden",1]`)
	if err := recvOn(t, errs); err.Error() != "forbidden event" {
		t.Fatalf("error %v", err)
	}
	c.send(`2["allowed",2]`)
	c.expect(`2["reply",2]`)
	mu.Lock()
	got := slices.Clone(seen)
	mu.Unlock()
	// OnAny sees the refused event too, as in the reference.
	want := []string{"first forbidden", "any forbidden 1",
		"first allowed", "any allowed 2", "allowed ran", "out reply [2]"}
	if !slices.Equal(got, want) {
		t.Fatalf("seen %q, want %q", got, want)
	}
}

func TestHandlersRunInOrder(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	got := make(chan int, 100)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("n", func(n int) {
			if n%10 == 0 {
				time.Sleep(time.Millisecond) // a slow one keeps the others waiting
			}
			got <- n
		})
	})
	c := dial(t, ts)
	c.connect("/")
	for i := range 100 {
		c.send(fmt.Sprintf(`2["n",%d]`, i))
	}
	for i := range 100 {
		if n := recvOn(t, got); n != i {
			t.Fatalf("handler %d ran at position %d", n, i)
		}
	}
}

func TestDisconnectingThenDisconnect(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	type seen struct {
		event, reason string
		rooms         []string
		connected     bool
	}
	events := make(chan seen, 4)
	srv.OnConnection(func(s *Socket) {
		s.Join("room1", "room2")
		for _, ev := range []string{"disconnecting", "disconnect"} {
			_ = s.On(ev, func(reason string) {
				events <- seen{ev, reason, s.Rooms(), s.Connected()}
			})
		}
	})
	c := dial(t, ts)
	sid := c.connect("/")
	c.send("1")
	d := recvOn(t, events)
	if d.event != "disconnecting" || d.reason != "client namespace disconnect" ||
		!slices.Equal(d.rooms, slices.Sorted(slices.Values([]string{"room1", "room2", sid}))) || !d.connected {
		t.Fatalf("disconnecting: %+v", d)
	}
	d = recvOn(t, events)
	if d.event != "disconnect" || d.reason != "client namespace disconnect" || len(d.rooms) != 0 || d.connected {
		t.Fatalf("disconnect: %+v", d)
	}
	if srv.Sockets().Len() != 0 || len(srv.Sockets().Adapter().Rooms()) != 0 {
		t.Fatal("socket or rooms left behind")
	}
	// The connection is still there: join again.
	c.connect("/")
	// And a closed transport gives the engine's reason.
	_ = c.ws.Close()
	recvOn(t, events)
	if d := recvOn(t, events); d.reason != "transport close" {
		t.Fatalf("disconnect after the transport closed: %+v", d)
	}
}

func TestServerDisconnect(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	sockets := make(chan *Socket, 4)
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("disconnect", func(reason string) { reasons <- reason })
		sockets <- s
	})
	srv.Of("/other").OnConnection(func(s *Socket) { withPing(s) })
	c := dial(t, ts)
	c.connect("/")
	c.connect("/other")
	s := recvOn(t, sockets)
	s.Disconnect(false)
	c.expect("1")
	if r := recvOn(t, reasons); r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
	if err := s.Emit("late"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("emit after disconnect: %v", err)
	}
	barrier(c, "/other", 1) // the other namespace stays
	c.connect("/")
	s = recvOn(t, sockets)
	s.Disconnect(true)
	c.expect("1")
	c.waitClosed()
	if r := recvOn(t, reasons); r != "server namespace disconnect" {
		t.Fatalf("reason %q", r)
	}
}

func TestDisconnectWhileMiddlewareRuns(t *testing.T) {
	// A client that leaves while the middleware still decides must not be
	// joined afterwards.
	srv, ts, _ := newTestServer(t, nil)
	release := make(chan struct{})
	entered := make(chan *Socket, 1)
	slow := srv.Of("/slow")
	slow.Use(func(s *Socket) error {
		entered <- s
		<-release
		return nil
	})
	connected := make(chan struct{}, 1)
	slow.OnConnection(func(*Socket) { connected <- struct{}{} })
	srv.OnConnection(withPing)
	c := dial(t, ts)
	c.send("0/slow,")
	pending := recvOn(t, entered)
	c.send("1/slow,")
	c.connect("/")
	barrier(c, "/", 1) // the DISCONNECT has been read
	close(release)
	// Wait for the pending socket's executor to finish admitting it.
	deadline := time.Now().Add(waitLimit)
	for {
		pending.xmu.Lock()
		busy := pending.draining
		pending.xmu.Unlock()
		if !busy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("middleware never finished")
		}
		time.Sleep(time.Millisecond)
	}
	// Anything the server sent for /slow came before this.
	_ = srv.Sockets().Emit("fence")
	for {
		got := c.recv()
		if got == `2["fence"]` {
			break
		}
		t.Fatalf("got %q after leaving /slow", got)
	}
	select {
	case <-connected:
		t.Fatal("connection handler ran for a socket that left")
	default:
	}
	if slow.Len() != 0 {
		t.Fatal("a socket that left is in the namespace")
	}
}

func TestConnectTimeout(t *testing.T) {
	_, ts, _ := newTestServer(t, &Options{ConnectTimeout: 300 * time.Millisecond})
	idle := dial(t, ts)
	busy := dial(t, ts)
	busy.connect("/")
	idle.waitClosed()
	if busy.closed() {
		t.Fatal("a connection that joined was closed")
	}
}

func TestServerClose(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	reasons := make(chan string, 4)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("disconnect", func(reason string) { reasons <- reason })
	})
	srv.Of("/admin").OnConnection(func(s *Socket) {
		_ = s.On("disconnect", func(reason string) { reasons <- reason })
	})
	c1, c2 := dial(t, ts), dial(t, ts)
	c1.connect("/")
	c1.connect("/admin")
	c2.connect("/")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c1.waitClosed()
	c2.waitClosed()
	for range 3 {
		if r := recvOn(t, reasons); r != "server shutting down" {
			t.Fatalf("reason %q", r)
		}
	}
}

func TestDynamicNamespaces(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	parent := srv.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`))
	parent.Use(func(s *Socket) error {
		if s.Handshake().Query().Get("deny") != "" {
			return &ConnectError{Message: "denied", Data: "by parent"}
		}
		return nil
	})
	names := make(chan string, 4)
	parent.OnConnection(func(s *Socket) {
		names <- s.Namespace().Name()
		withPing(s)
	})
	c := dial(t, ts)
	c.connect("/dyn-1")
	c.connect("/dyn-22")
	// Each namespace's socket has its own executor: the two connection
	// handlers may run in either order.
	if got := []string{recvOn(t, names), recvOn(t, names)}; !slices.Contains(got, "/dyn-1") || !slices.Contains(got, "/dyn-22") {
		t.Fatalf("names %q", got)
	}
	c.send("0/dyn-x,")
	c.expectJSON("4/dyn-x,", `{"message":"Invalid namespace"}`)
	if got := len(parent.Children()); got != 2 {
		t.Fatalf("%d children", got)
	}
	// The child is an ordinary namespace now.
	if srv.Of("/dyn-1").Len() != 1 {
		t.Fatal("child namespace has no socket")
	}
	if err := parent.Emit("hello", "all"); err != nil {
		t.Fatal(err)
	}
	got := []string{c.recv(), c.recv()}
	slices.Sort(got)
	if !slices.Equal(got, []string{`2/dyn-1,["hello","all"]`, `2/dyn-22,["hello","all"]`}) {
		t.Fatalf("parent emit: %q", got)
	}
	denied := dial(t, ts, "deny=1")
	denied.send("0/dyn-3,")
	denied.expectJSON("4/dyn-3,", `{"message":"denied","data":"by parent"}`)

	// OfFunc sees the auth payload.
	srv.OfFunc(func(name string, auth []byte) bool {
		return name == "/func" && strings.Contains(string(auth), "yes")
	}).OnConnection(withPing)
	c.send(`0/func,{"let":"no"}`)
	c.expectJSON("4/func,", `{"message":"Invalid namespace"}`)
	c.connect("/func", `{"let":"yes"}`)
	barrier(c, "/func", 1)
}

func TestVolatile(t *testing.T) {
	// No ping may sit in the queue while the test looks at it.
	srv, ts, _ := newTestServer(t, &Options{Engine: engineio.Options{PingInterval: time.Minute}})
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dialPolling(t, ts)
	c.send("0")
	if got := c.poll(); len(got) != 1 || !strings.HasPrefix(got[0], "0{") {
		t.Fatalf("connect: %q", got)
	}
	s := recvOn(t, sockets)
	// Nothing waits for the client: a volatile event goes.
	if err := s.Volatile().Emit("v", 1); err != nil {
		t.Fatal(err)
	}
	// Now one does: volatile events are dropped, others are not.
	_ = s.Emit("e", 2)
	_ = s.Volatile().Emit("v", 3)
	_ = srv.Sockets().Volatile().Emit("v", 4)
	_ = srv.To(s.ID()).Volatile().Emit("v", 5)
	_ = s.Emit("e", 6)
	var got []string
	for len(got) < 3 {
		got = append(got, c.poll()...)
	}
	want := []string{`2["v",1]`, `2["e",2]`, `2["e",6]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEmitErrors(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	sockets := make(chan *Socket, 1)
	srv.OnConnection(func(s *Socket) { sockets <- s })
	c := dial(t, ts)
	c.connect("/")
	s := recvOn(t, sockets)
	for _, ev := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		if err := s.Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("Emit(%q): %v", ev, err)
		}
		if _, err := s.EmitWithAck(context.Background(), ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("EmitWithAck(%q): %v", ev, err)
		}
		if err := srv.Emit(ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("broadcast Emit(%q): %v", ev, err)
		}
		if err := srv.Sockets().ServerSideEmit(context.Background(), ev); !errors.Is(err, ErrReservedEvent) {
			t.Errorf("ServerSideEmit(%q): %v", ev, err)
		}
	}
	if err := srv.Emit("x", func() {}); !errors.Is(err, ErrAckInBroadcast) {
		t.Errorf("broadcast with a callback: %v", err)
	}
	if err := s.Emit("x", func() int { return 0 }); err == nil {
		t.Error("callback returning a value accepted")
	}
	if err := s.On("x", 42); err == nil {
		t.Error("non-func handler accepted")
	}
	if err := s.On("x", func() int { return 1 }); err == nil {
		t.Error("handler returning an int accepted")
	}
	if err := s.On("x", func(chan int) {}); err == nil {
		t.Error("chan parameter accepted")
	}
	if err := s.On("error", func(string) {}); err == nil {
		t.Error("error handler of the wrong type accepted")
	}
	// Off removes the handlers.
	_ = s.On("gone", func(ack func()) { ack() })
	s.Off("gone")
	_ = s.On("here", func(ack func()) { ack() })
	c.send(`21["gone"]`)
	c.send(`22["here"]`)
	c.expect(`32[]`)
	// Send is "message".
	_ = s.Send("hi")
	c.expect(`2["message","hi"]`)
	// Emit with an explicit nil last argument is not a callback.
	_ = s.Emit("nil", nil)
	c.expect(`2["nil",null]`)
}

func TestSocketData(t *testing.T) {
	var d Data
	if _, ok := d.Get("x"); ok {
		t.Fatal("empty store has x")
	}
	if b, _ := json.Marshal(&d); string(b) != "{}" {
		t.Fatalf("empty store %s", b)
	}
	d.Set("name", "bob")
	d.Set("n", 1)
	if d.String("name", "") != "bob" || d.String("n", "def") != "def" || d.String("none", "def") != "def" {
		t.Fatal("String")
	}
	d.Delete("n")
	b, _ := json.Marshal(&d)
	if string(b) != `{"name":"bob"}` {
		t.Fatalf("store %s", b)
	}
	var back Data
	if err := json.Unmarshal([]byte(`{"a":1,"b":"c"}`), &back); err != nil {
		t.Fatal(err)
	}
	n := 0
	back.Range(func(string, any) bool { n++; return true })
	if n != 2 {
		t.Fatalf("range saw %d", n)
	}
}
