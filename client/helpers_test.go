package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/client"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testServer is an in-process Sori server on a loopback port that can be
// stopped and started again on the same address.
type testServer struct {
	t     *testing.T
	addr  string
	opts  sori.Options
	setup func(*sori.Server)
	io    *sori.Server
	hs    *http.Server
	done  chan struct{}
}

func startServer(t *testing.T, opts *sori.Options, setup func(*sori.Server)) *testServer {
	t.Helper()
	ts := &testServer{t: t, setup: setup}
	if opts != nil {
		ts.opts = *opts
	}
	ts.opts.Logger = quiet
	ts.opts.DisableServeClient = true
	ts.start("127.0.0.1:0")
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start(addr string) {
	ts.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may be held a moment after a stop
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		ts.t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	opts := ts.opts
	ts.io = sori.NewServer(&opts)
	if ts.setup != nil {
		ts.setup(ts.io)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", ts.io)
	ts.hs = &http.Server{Handler: mux}
	ts.done = make(chan struct{})
	go func(hs *http.Server, done chan struct{}) {
		defer close(done)
		_ = hs.Serve(ln)
	}(ts.hs, ts.done)
}

func (ts *testServer) stop() {
	if ts.hs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = ts.io.Close(ctx)
	_ = ts.hs.Close()
	<-ts.done
	ts.hs = nil
}

func (ts *testServer) restart() { ts.start(ts.addr) }

func (ts *testServer) url(nsp string) string { return "http://" + ts.addr + nsp }

// fast makes reconnection quick for tests.
func fast(o client.Options) *client.Options {
	if o.ReconnectionDelay == 0 {
		o.ReconnectionDelay = 20 * time.Millisecond
	}
	if o.ReconnectionDelayMax == 0 {
		o.ReconnectionDelayMax = 100 * time.Millisecond
	}
	o.Logger = quiet
	return &o
}

var transportSets = []struct {
	name       string
	transports []string
	final      string
}{
	{"websocket", []string{"websocket"}, "websocket"},
	{"polling", []string{"polling"}, "polling"},
	{"upgrade", []string{"polling", "websocket"}, "websocket"},
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// noRecv checks that nothing comes on ch for d.
func noRecv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-time.After(d):
	}
}

// eventually polls cond for up to 5s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientGoroutines lists the goroutines that belong to the client: its own
// code, its HTTP connections, WebSocket dials.
func clientGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "client_test.clientGoroutines") {
			continue // this one
		}
		if strings.Contains(g, "sori/client.") ||
			strings.Contains(g, "net/http.(*persistConn)") ||
			strings.Contains(g, "(*Dialer).DialContext") {
			out = append(out, g)
		}
	}
	return out
}

// checkNoGoroutines fails when client goroutines are left.
func checkNoGoroutines(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		left := clientGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d client goroutines left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func isConnectError(err error, msg string) bool {
	var ce *client.ConnectError
	return errors.As(err, &ce) && ce.Message == msg
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
