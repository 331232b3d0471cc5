package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/client"
	"github.com/sori-dev/sori/engineio"
)

type point struct {
	X int   `json:"x"`
	Y []int `json:"y"`
}

// featureServer has the handlers most tests use.
func featureServer(io *sori.Server) {
	handlers := func(s *sori.Socket) {
		// echo answers with its arguments, binary included.
		s.On("echo", func(args sori.Args, ack func(...any)) {
			vals, err := args.Values()
			if err != nil {
				ack("error: " + err.Error())
				return
			}
			ack(vals...)
		})
		s.On("types", func() {
			_ = s.Emit("types", "text", 42, point{X: 1, Y: []int{2, 3}}, []byte{1, 2, 3})
		})
		s.On("ask", func(n int) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a, err := s.EmitWithAck(ctx, "question", n)
			var answer any = "error"
			if err == nil {
				_ = a.Decode(&answer)
			}
			_ = s.Emit("answer", answer)
		})
		s.On("kick", func() { s.Disconnect(false) })
		s.On("whoami", func(ack func(json.RawMessage, string)) { ack(s.Handshake().Auth, s.Transport()) })
		s.On("silent", func(string, func()) {}) // never answers
	}
	io.OnConnection(handlers)
	admin := io.Of("/admin")
	admin.Use(func(s *sori.Socket) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "secret" {
			return &sori.ConnectError{Message: "unauthorized", Data: map[string]int{"code": 42}}
		}
		return nil
	})
	admin.OnConnection(handlers)
}

func TestTransports(t *testing.T) {
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil, featureServer)
			ctx := ctxT(t)
			s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			if s.ID() == "" || !s.Connected() {
				t.Fatalf("connected socket: id %q connected %v", s.ID(), s.Connected())
			}
			eventually(t, "transport "+tc.final, func() bool { return s.Manager().Transport() == tc.final })
			a, err := s.EmitWithAck(ctx, "whoami")
			if err != nil {
				t.Fatal(err)
			}
			var auth json.RawMessage
			var transport string
			if err := a.Decode(&auth, &transport); err != nil {
				t.Fatal(err)
			}
			if transport != tc.final {
				t.Errorf("server sees transport %q, want %q", transport, tc.final)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s.Connected() {
				t.Error("still connected after Close")
			}
			eventually(t, "the server to see the close", func() bool { return ts.io.Engine().Len() == 0 })
			checkNoGoroutines(t)
		})
	}
}

func TestEventsAcksAndBinary(t *testing.T) {
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil, featureServer)
			ctx := ctxT(t)
			s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()

			// Typed handler, binary from the server.
			type typed struct {
				s string
				n int
				p point
				b []byte
			}
			got := make(chan typed, 1)
			if err := s.On("types", func(str string, n int, p point, b []byte) { got <- typed{str, n, p, b} }); err != nil {
				t.Fatal(err)
			}
			if err := s.Emit("types"); err != nil {
				t.Fatal(err)
			}
			v := recv(t, got, "types")
			if v.s != "text" || v.n != 42 || v.p.X != 1 || len(v.p.Y) != 2 || !bytes.Equal(v.b, []byte{1, 2, 3}) {
				t.Errorf("types = %+v", v)
			}

			// EmitWithAck with binary both ways.
			bin := bytes.Repeat([]byte{0, 0xff, 7}, 100)
			a, err := s.EmitWithAck(ctx, "echo", "a", 1.5, map[string]any{"blob": bin}, bin)
			if err != nil {
				t.Fatal(err)
			}
			var str string
			var f float64
			var m struct{ Blob []byte }
			var b []byte
			if err := a.Decode(&str, &f, &m, &b); err != nil {
				t.Fatal(err)
			}
			if str != "a" || f != 1.5 || !bytes.Equal(m.Blob, bin) || !bytes.Equal(b, bin) {
				t.Errorf("echo = %q %v %v %v", str, f, len(m.Blob), len(b))
			}

			// Callback acknowledgement, typed.
			cb := make(chan string, 1)
			if err := s.Emit("echo", "x", 7, func(x string, n int) { cb <- x + strings.Repeat("!", n) }); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, cb, "ack callback"); got != "x!!!!!!!" {
				t.Errorf("callback got %q", got)
			}

			// The server asks the client for an acknowledgement.
			if err := s.On("question", func(n int, ack func(int)) { ack(n * 2) }); err != nil {
				t.Fatal(err)
			}
			answers := make(chan float64, 1)
			_ = s.On("answer", func(v float64) { answers <- v })
			_ = s.Emit("ask", 21)
			if got := recv(t, answers, "answer"); got != 42 {
				t.Errorf("server got %v from the client's ack, want 42", got)
			}

			// OnAny sees events; Args decodes later.
			anyCh := make(chan string, 4)
			s.OnAny(func(event string, args client.Args) { anyCh <- event })
			_ = s.Emit("types")
			if e := recv(t, anyCh, "OnAny"); e != "types" {
				t.Errorf("OnAny got %q", e)
			}
			recv(t, got, "types again")
		})
	}
}

func TestAckTimeoutAndErrors(t *testing.T) {
	ts := startServer(t, nil, featureServer)
	ctx := ctxT(t)
	s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{Transports: []string{"websocket"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	timedOut := make(chan error, 1)
	if err := s.Timeout(50*time.Millisecond).Emit("silent", "x", func(err error) { timedOut <- err }); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, timedOut, "timeout"); !errors.Is(err, client.ErrAckTimeout) {
		t.Errorf("callback err = %v, want ErrAckTimeout", err)
	}
	if _, err := s.Timeout(50*time.Millisecond).EmitWithAck(ctx, "silent", "x"); !errors.Is(err, client.ErrAckTimeout) {
		t.Errorf("EmitWithAck err = %v, want ErrAckTimeout", err)
	}
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	if _, err := s.EmitWithAck(short, "silent", "x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("EmitWithAck err = %v, want DeadlineExceeded", err)
	}
	if err := s.Emit("connect"); !errors.Is(err, client.ErrReservedEvent) {
		t.Errorf("Emit(connect) err = %v", err)
	}
	if err := s.Emit("x", func() {}); err != nil {
		t.Errorf("Emit with a no-arg callback: %v", err)
	}
	if err := s.On("x", 42); err == nil {
		t.Error("On with a non-func: no error")
	}
	if err := s.Emit("x", make(chan int)); err == nil {
		t.Error("Emit of a channel: no error")
	}

	// A handler whose parameters do not fit goes to OnError.
	errs := make(chan error, 1)
	s.OnError(func(err error) { errs <- err })
	_ = s.On("types", func(n int) {})
	_ = s.Emit("types")
	if err := recv(t, errs, "bind error"); !strings.Contains(err.Error(), "argument 0") {
		t.Errorf("OnError got %v", err)
	}

	// A pending EmitWithAck fails when the server disconnects the socket.
	res := make(chan error, 1)
	go func() {
		_, err := s.EmitWithAck(ctx, "silent", "x")
		res <- err
	}()
	time.Sleep(50 * time.Millisecond)
	_ = s.Emit("kick")
	if err := recv(t, res, "EmitWithAck result"); !errors.Is(err, client.ErrDisconnected) {
		t.Errorf("EmitWithAck across a disconnect: %v, want ErrDisconnected", err)
	}
}

func TestNamespacesShareOneConnection(t *testing.T) {
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, nil, featureServer)
			ctx := ctxT(t)
			m, err := client.NewManager(ts.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			main := m.Socket("/", nil)
			admin := m.Socket("/admin", &client.SocketOptions{Auth: map[string]string{"token": "secret"}})
			if m.Socket("admin", nil) != admin {
				t.Error("Socket does not return the same socket for a namespace")
			}
			connected := make(chan string, 2)
			for _, s := range []*client.Socket{main, admin} {
				_ = s.On("connect", func() { connected <- s.Namespace() })
				if err := s.Connect(); err != nil {
					t.Fatal(err)
				}
			}
			recv(t, connected, "connect")
			recv(t, connected, "connect")
			if n := ts.io.Engine().Len(); n != 1 {
				t.Errorf("server has %d sessions, want 1", n)
			}
			for _, s := range []*client.Socket{main, admin} {
				a, err := s.EmitWithAck(ctx, "whoami")
				if err != nil {
					t.Fatal(err)
				}
				var auth map[string]string
				_ = a.Decode(&auth)
				if want := map[string]string{"token": "secret"}; s == admin && auth["token"] != want["token"] {
					t.Errorf("admin auth = %v", auth)
				}
			}
			// Leaving one namespace keeps the connection for the other.
			admin.Disconnect()
			if _, err := main.EmitWithAck(ctx, "echo", 1); err != nil {
				t.Fatal(err)
			}
			if admin.Connected() || !main.Connected() {
				t.Error("wrong states after admin.Disconnect")
			}
			// Reconnecting the namespace reuses the connection.
			_ = admin.Connect()
			recv(t, connected, "admin connect again")
			if n := ts.io.Engine().Len(); n != 1 {
				t.Errorf("server has %d sessions, want 1", n)
			}
			// The last socket to leave closes the connection.
			admin.Disconnect()
			main.Disconnect()
			eventually(t, "the connection to close", func() bool { return ts.io.Engine().Len() == 0 })
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			checkNoGoroutines(t)
		})
	}
}

func TestAuthAndConnectError(t *testing.T) {
	ts := startServer(t, nil, featureServer)
	ctx := ctxT(t)
	_, err := client.Dial(ctx, ts.url("/admin"), fast(client.Options{Auth: map[string]string{"token": "wrong"}}))
	var ce *client.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || string(ce.Data) != `{"code":42}` {
		t.Fatalf("Dial err = %v (%#v), want ConnectError unauthorized {code:42}", err, ce)
	}
	checkNoGoroutines(t)

	// Auth from a function, called at each connection; connect_error
	// handlers see refusals.
	var calls atomic.Int32
	m, err := client.NewManager(ts.url("/"), fast(client.Options{Auth: func() any {
		calls.Add(1)
		return map[string]string{"token": "secret"}
	}}))
	if err != nil {
		t.Fatal(err)
	}
	// The handler is there before the connection starts: Connect returns at
	// once, and a handler registered after it could miss the event.
	s := m.Socket("/admin", nil)
	connected := make(chan struct{}, 1)
	_ = s.On("connect", func() { connected <- struct{}{} })
	if err := s.Connect(); err != nil {
		t.Fatal(err)
	}
	recv(t, connected, "connect")
	if calls.Load() != 1 {
		t.Errorf("auth func called %d times", calls.Load())
	}
	_ = s.Close()
	_ = m.Close()

	if m, err = client.NewManager(ts.url("/"), fast(client.Options{})); err != nil {
		t.Fatal(err)
	}
	s = m.Socket("/admin", nil)
	cerr := make(chan error, 1)
	_ = s.On("connect_error", func(err error) { cerr <- err })
	if err := s.Connect(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, cerr, "connect_error"); !isConnectError(err, "unauthorized") {
		t.Errorf("connect_error got %v", err)
	}
	_ = s.Close()
	_ = m.Close()

	// An unknown namespace is refused too.
	if _, err := client.Dial(ctx, ts.url("/nowhere"), fast(client.Options{})); !isConnectError(err, "Invalid namespace") {
		t.Errorf("unknown namespace: %v", err)
	}
	checkNoGoroutines(t)
}

func TestServerDisconnectDoesNotReconnect(t *testing.T) {
	ts := startServer(t, nil, featureServer)
	ctx := ctxT(t)
	s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{Transports: []string{"websocket"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reasons := make(chan string, 2)
	connects := make(chan struct{}, 2)
	_ = s.On("disconnect", func(reason string) { reasons <- reason })
	_ = s.On("connect", func() { connects <- struct{}{} })
	_ = s.Emit("kick")
	if r := recv(t, reasons, "disconnect"); r != "io server disconnect" {
		t.Errorf("reason %q, want io server disconnect", r)
	}
	noRecv(t, connects, 300*time.Millisecond, "reconnection")
	if s.Manager().Transport() != "" {
		t.Error("connection kept open with no socket active")
	}
	// The application may connect again by hand.
	_ = s.Connect()
	recv(t, connects, "manual connect")
	_ = s.Close()
	checkNoGoroutines(t)
}

func TestReconnection(t *testing.T) {
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			var conns atomic.Int32
			received := make(chan string, 10)
			ts := startServer(t, nil, func(io *sori.Server) {
				featureServer(io)
				io.OnConnection(func(s *sori.Socket) {
					conns.Add(1)
					s.On("note", func(text string, ack func(string)) {
						received <- text
						ack("ok " + text)
					})
				})
			})
			ctx := ctxT(t)
			s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			m := s.Manager()
			events := make(chan string, 64)
			_ = s.On("disconnect", func(reason string) { events <- "disconnect:" + reason })
			_ = s.On("connect", func() { events <- "connect" })
			_ = m.On("reconnect_attempt", func(n int) { events <- "attempt" })
			_ = m.On("reconnect", func(n int) { events <- "reconnect" })
			eventually(t, "transport "+tc.final, func() bool { return m.Transport() == tc.final })
			firstID := s.ID()

			ts.stop() // the server goes away
			got := recv(t, events, "disconnect")
			if got != "disconnect:transport close" && (tc.final != "polling" || got != "disconnect:transport error") {
				t.Fatalf("got %q, want transport close", got)
			}
			// Emits while disconnected wait for the connection.
			acked := make(chan string, 1)
			if err := s.Emit("note", "while down", func(r string) { acked <- r }); err != nil {
				t.Fatal(err)
			}
			if err := s.Volatile().Emit("note", "volatile"); err != nil {
				t.Fatal(err)
			}
			recv(t, events, "reconnect attempt") // it tries, and fails, while down
			time.Sleep(150 * time.Millisecond)

			ts.restart() // and comes back on the same address
			for {
				e := recv(t, events, "reconnection")
				if e == "connect" {
					break
				}
				if e != "attempt" && e != "reconnect" {
					t.Fatalf("unexpected %q while reconnecting", e)
				}
			}
			if got := recv(t, received, "buffered emit"); got != "while down" {
				t.Errorf("server got %q", got)
			}
			if got := recv(t, acked, "ack of buffered emit"); got != "ok while down" {
				t.Errorf("ack %q", got)
			}
			noRecv(t, received, 100*time.Millisecond, "volatile emit")
			if s.ID() == "" || s.ID() == firstID {
				t.Errorf("id after reconnection %q (before %q)", s.ID(), firstID)
			}
			eventually(t, "transport "+tc.final+" again", func() bool { return m.Transport() == tc.final })
			if _, err := s.EmitWithAck(ctx, "echo", 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			checkNoGoroutines(t)
		})
	}
}

func TestReconnectionGivesUp(t *testing.T) {
	ts := startServer(t, nil, featureServer)
	ts.stop()
	// Handlers registered before Connect see every event.
	m, err := client.NewManager(ts.url("/"), fast(client.Options{ReconnectionAttempts: 2, ReconnectionDelay: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Socket("/", nil)
	defer s.Close()
	failed := make(chan struct{}, 1)
	var errs atomic.Int32
	_ = s.On("connect_error", func(error) { errs.Add(1) })
	_ = m.On("reconnect_failed", func() { failed <- struct{}{} })
	if err := s.Connect(); err != nil {
		t.Fatal(err)
	}
	recv(t, failed, "reconnect_failed")
	// The first attempt and two reconnection attempts, then the give-up.
	eventually(t, "connect_error count", func() bool { return errs.Load() == 4 })

	// Without reconnection Dial fails at once.
	start := time.Now()
	if _, err := client.Dial(ctxT(t), ts.url("/"), fast(client.Options{})); err == nil {
		t.Fatal("Dial to a stopped server succeeded")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("Dial took %v to fail", time.Since(start))
	}
	_ = s.Close()
	checkNoGoroutines(t)
}

func TestBackoffDelays(t *testing.T) {
	// Attempts come at growing intervals: 40ms, 80ms, 160ms, capped at 160ms.
	ts := startServer(t, nil, nil)
	ts.stop()
	s, _ := client.Connect(ts.url("/"), &client.Options{
		ReconnectionDelay: 40 * time.Millisecond, ReconnectionDelayMax: 160 * time.Millisecond,
		RandomizationFactor: -1, ReconnectionAttempts: 4, Logger: quiet,
	})
	defer s.Close()
	var mu sync.Mutex
	var times []time.Time
	done := make(chan struct{})
	_ = s.Manager().On("reconnect_attempt", func(int) {
		mu.Lock()
		times = append(times, time.Now())
		mu.Unlock()
	})
	_ = s.Manager().On("reconnect_failed", func() { close(done) })
	recv(t, done, "reconnect_failed")
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 4 {
		t.Fatalf("%d attempts, want 4", len(times))
	}
	want := []time.Duration{80, 160, 160}
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1])
		// Late timers on a loaded machine stretch intervals; none comes early.
		if d < want[i-1]*time.Millisecond*9/10 || d > want[i-1]*time.Millisecond+time.Second {
			t.Errorf("interval %d = %v, want about %dms", i, d, want[i-1])
		}
	}
}

func TestHeartbeat(t *testing.T) {
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			// Pings every 40ms: without pongs the server would close the
			// connection after 440ms.
			ts := startServer(t, &sori.Options{Engine: engineio.Options{PingInterval: 40 * time.Millisecond, PingTimeout: 400 * time.Millisecond}}, featureServer)
			s, err := client.Dial(ctxT(t), ts.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			reasons := make(chan string, 1)
			_ = s.On("disconnect", func(r string) { reasons <- r })
			noRecv(t, reasons, 800*time.Millisecond, "disconnect") // pongs keep it alive
			_ = s.Close()
			checkNoGoroutines(t)
		})
	}
}

// A server that stops answering is noticed after pingInterval+pingTimeout.
func TestPingTimeout(t *testing.T) {
	up := websocket.Upgrader{}
	mux := http.NewServeMux()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`0{"sid":"s1","upgrades":[],"pingInterval":50,"pingTimeout":50,"maxPayload":1000000}`))
		for {
			_, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(msg) == "40" {
				_ = c.WriteMessage(websocket.TextMessage, []byte(`40{"sid":"abc"}`))
			}
		}
	})
	hs := &http.Server{Handler: mux}
	ln := listen(t)
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	s, err := client.Dial(ctxT(t), "http://"+ln.Addr().String(), fast(client.Options{Transports: []string{"websocket"}, Reconnection: client.Bool(false)}))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID() != "abc" {
		t.Errorf("id %q", s.ID())
	}
	reasons := make(chan string, 1)
	_ = s.On("disconnect", func(r string) { reasons <- r })
	start := time.Now()
	if r := recv(t, reasons, "disconnect"); r != "ping timeout" {
		t.Errorf("reason %q, want ping timeout", r)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ping timeout after %v", d)
	}
	_ = s.Close()
	checkNoGoroutines(t)
}

func TestConnectBuffersEmits(t *testing.T) {
	got := make(chan string, 1)
	ts := startServer(t, nil, func(io *sori.Server) {
		io.OnConnection(func(s *sori.Socket) {
			s.On("hello", func(name string, ack func(string)) { got <- name; ack("hi " + name) })
		})
	})
	s, err := client.Connect(ts.url("/"), fast(client.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	answer := make(chan string, 1)
	if err := s.Emit("hello", "early", func(r string) { answer <- r }); err != nil {
		t.Fatal(err)
	}
	if r := recv(t, answer, "answer"); r != "hi early" {
		t.Errorf("answer %q", r)
	}
	recv(t, got, "event")
	_ = s.Close()
	checkNoGoroutines(t)
}

func TestCloseFromHandler(t *testing.T) {
	ts := startServer(t, nil, featureServer)
	s, err := client.Dial(ctxT(t), ts.url("/"), fast(client.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	_ = s.On("types", func(client.Args) { closed <- s.Close() })
	_ = s.Emit("types")
	if err := recv(t, closed, "Close in a handler"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil { // again, from outside: waits for the handler
		t.Fatal(err)
	}
	checkNoGoroutines(t)
}

// Many goroutines emitting at once, while the connection upgrades.
func TestConcurrentEmits(t *testing.T) {
	var count atomic.Int32
	ts := startServer(t, nil, func(io *sori.Server) {
		io.OnConnection(func(s *sori.Socket) {
			s.On("n", func(i int, ack func(int)) { count.Add(1); ack(i) })
		})
	})
	ctx := ctxT(t)
	s, err := client.Dial(ctx, ts.url("/"), fast(client.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				a, err := s.EmitWithAck(ctx, "n", g*1000+i)
				if err != nil {
					t.Error(err)
					return
				}
				var back int
				if a.Decode(&back); back != g*1000+i {
					t.Errorf("ack %d for %d", back, g*1000+i)
				}
			}
		}()
	}
	wg.Wait()
	if count.Load() != 400 {
		t.Errorf("server handled %d", count.Load())
	}
}
