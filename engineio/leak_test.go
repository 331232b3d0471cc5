package engineio_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/engineio/parser"
)

// settleGoroutines waits, for a bounded time, until at most max goroutines
// run, and returns how many do.
func settleGoroutines(max int) int {
	deadline := time.Now().Add(waitTimeout)
	for {
		n := runtime.NumGoroutine()
		if n <= max || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stableGoroutines waits, for a bounded time, until the goroutine count
// stays the same for a few samples, and returns it.
func stableGoroutines() int {
	deadline := time.Now().Add(waitTimeout)
	last, same := runtime.NumGoroutine(), 0
	for same < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n := runtime.NumGoroutine()
		if n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
	return last
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// lifecycle runs one session of each kind from open to close.
type lifecycle struct {
	name string
	run  func(t *testing.T, h *harness) string // returns the session id
}

func rstClose(t *testing.T, c net.Conn) {
	t.Helper()
	must(t, c.(*net.TCPConn).SetLinger(0))
	_ = c.Close()
}

var lifecycles = []lifecycle{
	{"websocket, clean close", func(t *testing.T, h *harness) string {
		c := h.dialWS()
		c.roundTrip("hi")
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = c.waitClosed()
		h.drop(c)
		return c.sid
	}},
	{"websocket, TCP reset", func(t *testing.T, h *harness) string {
		c := h.dialWS()
		c.roundTrip("hi")
		rstClose(t, c.conn.NetConn())
		h.drop(c)
		return c.sid
	}},
	{"websocket, TCP reset with data queued", func(t *testing.T, h *harness) string {
		c := h.dialWS()
		rec := h.rec(c.sid)
		for range 20 {
			_ = rec.s.Send(engineio.NewMessage(make([]byte, 8<<10), true))
		}
		rstClose(t, c.conn.NetConn())
		h.drop(c)
		return c.sid
	}},
	{"websocket, closed by the server", func(t *testing.T, h *harness) string {
		c := h.dialWS()
		h.rec(c.sid).s.Close()
		_ = c.waitClosed()
		h.drop(c)
		return c.sid
	}},
	{"polling, close packet", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		h.pollRoundTrip(sid, "hi")
		h.post(sid, "1")
		return sid
	}},
	{"polling, waiting GET reset", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		rec := h.rec(sid)
		conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
		must(t, err)
		_, err = conn.Write([]byte("GET " + strings.TrimPrefix(h.pollURL(sid), h.ts.URL) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
		must(t, err)
		eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
		rstClose(t, conn)
		return sid
	}},
	{"polling, closed by the server", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		h.rec(sid).s.Close()
		if ps := h.poll(sid); len(ps) != 1 || ps[0].Type != parser.Close {
			t.Fatalf("got %q", payloadString(ps))
		}
		return sid
	}},
	{"upgrade, then TCP reset", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		c := h.dialUpgrade(sid)
		c.sendText("2probe")
		if c.readText() != "3probe" {
			t.Fatal("no 3probe")
		}
		c.sendText("5")
		c.roundTrip("upgraded")
		rstClose(t, c.conn.NetConn())
		h.drop(c)
		return sid
	}},
	{"probe reset, then polling close", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		rec := h.rec(sid)
		c := h.dialUpgrade(sid)
		c.sendText("2probe")
		if c.readText() != "3probe" {
			t.Fatal("no 3probe")
		}
		rstClose(t, c.conn.NetConn())
		h.drop(c)
		eventually(t, "the probe to go", func() bool { p, _ := engineio.Probing(rec.s); return !p })
		h.post(sid, "1")
		return sid
	}},
	{"probe left open, session closed", func(t *testing.T, h *harness) string {
		sid := h.openPolling()
		c := h.dialUpgrade(sid)
		c.sendText("2probe")
		if c.readText() != "3probe" {
			t.Fatal("no 3probe")
		}
		h.post(sid, "1")
		_ = c.waitClosed()
		h.drop(c)
		return sid
	}},
	{"protocol error", func(t *testing.T, h *harness) string {
		c := h.dialWS()
		c.sendText("garbage")
		_ = c.waitClosed()
		h.drop(c)
		return c.sid
	}},
}

// TestNoLeaks opens and closes many sessions, every way they can end, and
// checks that goroutines and heap come back to where they were.
func TestNoLeaks(t *testing.T) {
	rounds := 30
	if testing.Short() {
		rounds = 5
	}
	// A heartbeat that runs, so that its timers are exercised too.
	h := newHarness(t, &engineio.Options{PingInterval: 200 * time.Millisecond, PingTimeout: 5 * time.Second})

	runRound := func() {
		for _, lc := range lifecycles {
			start := time.Now()
			sid := lc.run(t, h)
			rec := h.rec(sid)
			rec.waitClose(t)
			h.forget(sid)
			if d := time.Since(start); d > time.Second {
				t.Logf("%s took %v", lc.name, d)
			}
		}
	}
	runRound() // warm-up: pools, lazily started goroutines
	h.client.CloseIdleConnections()
	eventually(t, "no session", func() bool { return h.srv.Len() == 0 })
	baseG := stableGoroutines()
	baseHeap := heapAlloc()

	for range rounds {
		runRound()
	}
	// Concurrent sessions too.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 32 {
		wg.Go(func() {
			conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
			if _, _, err := conn.ReadMessage(); err != nil {
				errs <- err
				return
			}
			msg := fmt.Sprintf("4m%d", i)
			if err := conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				errs <- err
				return
			}
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				if string(data) == msg {
					break
				}
			}
			if i%2 == 0 {
				_ = conn.NetConn().(*net.TCPConn).SetLinger(0)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	h.client.CloseIdleConnections()
	eventually(t, "every session to close", func() bool { return h.srv.Len() == 0 })
	h.mu.Lock()
	for sid := range h.bySID {
		delete(h.bySID, sid)
	}
	h.mu.Unlock()

	if n := settleGoroutines(baseG + 2); n > baseG+2 {
		t.Fatalf("%d goroutines, %d before:\n%s", n, baseG, goroutineDump())
	}
	var heap uint64
	deadline := time.Now().Add(waitTimeout)
	for heap = heapAlloc(); heap >= baseHeap+2<<20; heap = heapAlloc() {
		if time.Now().After(deadline) {
			if f, err := os.Create(filepath.Join(os.TempDir(), "sori-eio-heap.pprof")); err == nil {
				_ = pprof.WriteHeapProfile(f)
				f.Close()
				t.Logf("heap profile in %s", f.Name())
			}
			t.Fatalf("heap %d KiB, %d KiB before", heap>>10, baseHeap>>10)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("goroutines %d (base %d), heap %d KiB (base %d KiB)", runtime.NumGoroutine(), baseG, heap>>10, baseHeap>>10)
}

// TestServerClose: Close ends every session, flushing what each has
// queued, and waits for their goroutines; later handshakes are refused.
func TestServerClose(t *testing.T) {
	h := newHarness(t, quietOptions())
	var wss []*wsClient
	for i := range 3 {
		c := h.dialWS()
		must(t, h.rec(c.sid).s.Send(engineio.NewMessage([]byte(fmt.Sprint("last ", i)), false)))
		wss = append(wss, c)
	}
	var pending []<-chan response
	var pendingSIDs []string
	for range 3 {
		sid := h.openPolling()
		rec := h.rec(sid)
		pending = append(pending, h.pollAsync(sid))
		eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
		pendingSIDs = append(pendingSIDs, sid)
	}
	idle := h.openPolling()
	must(t, h.rec(idle).s.Send(engineio.NewMessage([]byte("queued"), false)))

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		closed <- h.srv.Close(ctx)
	}()
	for i, c := range wss {
		if got := c.readText(); got != fmt.Sprint("4last ", i) {
			t.Fatalf("got %q", got)
		}
		if err := c.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Fatalf("ended with %v", err)
		}
	}
	for _, p := range pending {
		select {
		case r := <-p:
			if r.status != 200 || r.body != "1" {
				t.Fatalf("pending GET %d %q", r.status, r.body)
			}
		case <-time.After(waitTimeout):
			t.Fatal("pending GET not released")
		}
	}
	// Close waits for the idle polling session's next poll.
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the idle session polled", err)
	default:
	}
	if r := h.mustDo("GET", h.pollURL(idle), "", nil); r.body != "4queued" {
		t.Fatalf("idle session's poll %q", r.body)
	}
	if r := h.mustDo("GET", h.pollURL(idle), "", nil); r.body != "1" {
		t.Fatalf("idle session's second poll %q", r.body)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not return")
	}
	for _, sid := range append(pendingSIDs, idle, wss[0].sid, wss[1].sid, wss[2].sid) {
		if e := h.rec(sid).waitClose(t); e.reason != engineio.ReasonServerShutdown {
			t.Fatalf("session closed with %q", e.reason)
		}
	}
	if h.srv.Len() != 0 {
		t.Fatal("sessions left")
	}
	// No new session once closed.
	if r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil); r.status != 503 {
		t.Fatalf("handshake after Close: %d %q", r.status, r.body)
	}
	conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
		if _, data, err := conn.ReadMessage(); err == nil {
			t.Fatalf("WebSocket handshake after Close got %q", data)
		}
		conn.Close()
	}
}

// TestServerCloseDeadline: sessions that do not let Close finish are cut
// off when its context ends.
func TestServerCloseDeadline(t *testing.T) {
	h := newHarness(t, quietOptions())
	var sids []string
	for range 3 {
		sids = append(sids, h.openPolling())
	}
	ws := h.dialWSWith(smallReadBufferDialer)
	// A WebSocket session whose flush cannot finish: it does not read.
	wsRec := h.rec(ws.sid)
	for wsRec.s.Buffered() < 1<<20 {
		if err := wsRec.s.Send(engineio.NewMessage(make([]byte, 64<<10), true)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := h.srv.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	for _, sid := range append(sids, ws.sid) {
		if e := h.rec(sid).waitClose(t); e.reason != engineio.ReasonServerShutdown {
			t.Fatalf("closed with %q", e.reason)
		}
	}
	if h.srv.Len() != 0 {
		t.Fatal("sessions left")
	}
	// A second Close waits for the goroutines that remain, and they end.
	ctx2, cancel2 := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel2()
	if err := h.srv.Close(ctx2); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestServerCloseUnderLoad: Close while clients keep opening sessions on
// both transports: it returns, every session it saw ends, and those that
// come after are refused.
func TestServerCloseUnderLoad(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: time.Minute, PingTimeout: 200 * time.Millisecond})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if i%2 == 0 {
					conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
					if err != nil {
						continue
					}
					_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
					for {
						if _, _, err := conn.ReadMessage(); err != nil {
							break
						}
					}
					conn.Close()
				} else {
					r, err := h.do("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
					if err != nil || r.status != 200 {
						continue
					}
					ps, err := parser.DecodePayload([]byte(r.body), 0)
					if err != nil || ps[0].Type != parser.Open {
						continue
					}
					sid := parseOpen(t, "0"+string(ps[0].Data)).SID
					for range 3 {
						if _, err := h.do("GET", h.pollURL(sid), "", nil); err != nil {
							break
						}
					}
				}
			}
		})
	}
	eventually(t, "sessions to open", func() bool { return h.srv.Len() >= 4 })
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := h.srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := h.srv.Len(); n != 0 {
		t.Fatalf("%d sessions after Close", n)
	}
	close(stop)
	wg.Wait()
	h.mu.Lock()
	recs := make([]*recorder, 0, len(h.bySID))
	for _, r := range h.bySID {
		recs = append(recs, r)
	}
	h.mu.Unlock()
	for _, r := range recs {
		if e := r.waitClose(t); e.reason != engineio.ReasonServerShutdown {
			t.Fatalf("closed with %q", e.reason)
		}
	}
	t.Logf("%d sessions closed", len(recs))
}

// TestCloseDuringAccept: a session that Close cuts off while the layer
// above is still accepting it is told of its close once accepted, and its
// handshake is refused.
func TestCloseDuringAccept(t *testing.T) {
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			entered := make(chan *engineio.Session, 1)
			release := make(chan struct{})
			h := newHarnessConfig(t, harnessConfig{opts: quietOptions(), onConnect: func(s *engineio.Session) {
				entered <- s
				<-release
			}})
			result := make(chan string, 1)
			go func() {
				if transport == "polling" {
					r, err := h.do("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
					result <- fmt.Sprint(r.status, err)
					return
				}
				conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
				if err != nil {
					result <- err.Error()
					return
				}
				defer conn.Close()
				_ = conn.SetReadDeadline(time.Now().Add(waitTimeout))
				_, data, err := conn.ReadMessage()
				result <- fmt.Sprint(string(data), err)
			}()
			var s *engineio.Session
			select {
			case s = <-entered:
			case <-time.After(waitTimeout):
				t.Fatal("no session")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if err := h.srv.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Close: %v", err)
			}
			close(release)
			rec := h.rec(s.ID())
			if e := rec.waitClose(t); e.reason != engineio.ReasonServerShutdown {
				t.Fatalf("closed with %q", e.reason)
			}
			select {
			case got := <-result:
				want := "503 <nil>"
				if transport == "websocket" {
					want = "websocket: close 1013: engine.io: session closed"
				}
				if got != want {
					t.Fatalf("client got %q, want %q", got, want)
				}
			case <-time.After(waitTimeout):
				t.Fatal("the handshake was not answered")
			}
		})
	}
}
