package client_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sori-dev/sori/client"
)

// nodeServer is client/testdata/node-server.mjs, the npm socket.io 4.8
// reference server, run by the test.
type nodeServer struct {
	t    *testing.T
	cmd  *exec.Cmd
	port string
	args []string
	out  *bytes.Buffer
}

// startNode starts the reference server; the test is skipped when node is
// missing, unless the CI environment variable is set.
func startNode(t *testing.T, args ...string) *nodeServer {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node not found, and CI is set")
		}
		t.Skip("node not found")
	}
	ns := &nodeServer{t: t, args: args}
	ns.start("0")
	t.Cleanup(ns.stop)
	return ns
}

func (ns *nodeServer) start(port string) {
	ns.t.Helper()
	cmd := exec.Command("node", append([]string{"testdata/node-server.mjs", "--port", port}, ns.args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		ns.t.Fatal(err)
	}
	ns.out = &bytes.Buffer{}
	cmd.Stderr = ns.out
	if _, err := cmd.StdinPipe(); err != nil { // closed when we go: the server exits
		ns.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		ns.t.Fatal(err)
	}
	ns.cmd = cmd
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-lines:
		p, ok := strings.CutPrefix(l, "listening on ")
		if !ok {
			ns.t.Fatalf("node server said %q", l)
		}
		ns.port = p
	case <-time.After(15 * time.Second):
		ns.stop()
		ns.t.Fatalf("node server did not start: %s", ns.out)
	}
}

func (ns *nodeServer) stop() {
	if ns.cmd == nil {
		return
	}
	_ = ns.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = ns.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = ns.cmd.Process.Kill()
		<-done
	}
	ns.cmd = nil
}

func (ns *nodeServer) url(nsp string) string { return "http://127.0.0.1:" + ns.port + nsp }

func TestNodeReference(t *testing.T) {
	ns := startNode(t)
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			opts := fast(client.Options{Transports: tc.transports, Auth: map[string]any{"user": "go"}})
			s, err := client.Dial(ctx, ns.url("/"), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			eventually(t, "transport "+tc.final, func() bool { return s.Manager().Transport() == tc.final })

			a, err := s.EmitWithAck(ctx, "whoami")
			if err != nil {
				t.Fatal(err)
			}
			var auth map[string]string
			var transport string
			if err := a.Decode(&auth, &transport); err != nil {
				t.Fatal(err)
			}
			if auth["user"] != "go" || transport != tc.final {
				t.Errorf("node sees auth %v transport %q", auth, transport)
			}

			// Server events into typed handlers, binary as []byte.
			types := make(chan string, 1)
			_ = s.On("types", func(str string, n int, p point, b []byte) {
				types <- fmt.Sprintf("%s %d %d %v %v", str, n, p.X, p.Y, b)
			})
			_ = s.Emit("types")
			if got := recv(t, types, "types"); got != "text 42 1 [2 3] [1 2 3]" {
				t.Errorf("types: %s", got)
			}

			// Acks with binary both ways.
			bin := []byte{0, 1, 2, 250, 255}
			a, err = s.EmitWithAck(ctx, "echo", "s", map[string]any{"nested": bin}, bin)
			if err != nil {
				t.Fatal(err)
			}
			var str string
			var m struct{ Nested []byte }
			var b []byte
			if err := a.Decode(&str, &m, &b); err != nil {
				t.Fatal(err)
			}
			if str != "s" || !bytes.Equal(m.Nested, bin) || !bytes.Equal(b, bin) {
				t.Errorf("echo: %q %v %v", str, m.Nested, b)
			}

			// The server's emitWithAck, answered by the client.
			_ = s.On("question", func(n int, ack func(int)) { ack(n * 2) })
			answers := make(chan any, 1)
			_ = s.On("answer", func(v any) { answers <- v })
			_ = s.Emit("ask", 21)
			if got := recv(t, answers, "answer"); got != 42.0 {
				t.Errorf("node got %s from the client's ack", got)
			}

			// A refused namespace, then an accepted one on the same
			// connection.
			m2 := s.Manager()
			bad := m2.Socket("/admin", &client.SocketOptions{Auth: map[string]string{"token": "nope"}})
			cerr := make(chan error, 1)
			_ = bad.On("connect_error", func(err error) { cerr <- err })
			_ = bad.Connect()
			err = recv(t, cerr, "connect_error")
			var ce *client.ConnectError
			if !errors.As(err, &ce) || ce.Message != "unauthorized" || string(ce.Data) != `{"code":42}` {
				t.Errorf("connect_error %v", err)
			}
		})
	}
}

func TestNodeNamespacesAndServerDisconnect(t *testing.T) {
	ns := startNode(t)
	ctx := ctxT(t)
	m, err := client.NewManager(ns.url(""), fast(client.Options{Transports: []string{"websocket"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	main := m.Socket("/", nil)
	admin := m.Socket("/admin", &client.SocketOptions{Auth: map[string]string{"token": "secret"}})
	connected := make(chan string, 2)
	reasons := make(chan string, 2)
	for _, s := range []*client.Socket{main, admin} {
		_ = s.On("connect", func() { connected <- s.Namespace() })
		_ = s.On("disconnect", func(r string) { reasons <- s.Namespace() + " " + r })
		_ = s.Connect()
	}
	recv(t, connected, "connect")
	recv(t, connected, "connect")
	for _, s := range []*client.Socket{main, admin} {
		if _, err := s.EmitWithAck(ctx, "echo", s.Namespace()); err != nil {
			t.Fatal(err)
		}
	}
	_ = admin.Emit("kick")
	if r := recv(t, reasons, "disconnect"); r != "/admin io server disconnect" {
		t.Errorf("disconnect %q", r)
	}
	if _, err := main.EmitWithAck(ctx, "echo", 1); err != nil {
		t.Errorf("main namespace after admin was kicked: %v", err)
	}
	noRecv(t, connected, 200*time.Millisecond, "reconnection of a kicked socket")
	_ = m.Close()
	checkNoGoroutines(t)
}

func TestNodeReconnection(t *testing.T) {
	ns := startNode(t, "--ping-interval", "150", "--ping-timeout", "1000")
	for _, tc := range transportSets {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxT(t)
			m, err := client.NewManager(ns.url("/"), fast(client.Options{Transports: tc.transports}))
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			s := m.Socket("/", nil)
			events := make(chan string, 32)
			var reconnects atomic.Int32
			_ = s.On("connect", func() { events <- "connect" })
			_ = s.On("disconnect", func(r string) { events <- "disconnect:" + r })
			_ = m.On("reconnect", func(int) { reconnects.Add(1) })
			_ = s.Connect()
			if e := recv(t, events, "connect"); e != "connect" {
				t.Fatalf("got %q", e)
			}
			eventually(t, "transport "+tc.final, func() bool { return m.Transport() == tc.final })
			// Heartbeats keep it up.
			noRecv(t, events, 400*time.Millisecond, "event while idle")

			port := ns.port
			ns.stop()
			e := recv(t, events, "disconnect")
			ns.start(port)
			// A server going away closes a WebSocket ("transport close"),
			// or fails a poll ("transport error") unless its close packet
			// came first.
			if e != "disconnect:transport close" && (tc.final != "polling" || e != "disconnect:transport error") {
				t.Fatalf("got %q", e)
			}
			if e := recv(t, events, "connect again"); e != "connect" {
				t.Fatalf("got %q", e)
			}
			if n := reconnects.Load(); n != 1 {
				t.Errorf("%d reconnect events; events since: %v", n, drain(events))
			}
			if _, err := s.EmitWithAck(ctx, "echo", "back"); err != nil {
				t.Fatal(err)
			}
			_ = m.Close()
			checkNoGoroutines(t)
		})
	}
}

// drain returns what is waiting on ch.
func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		default:
			return out
		}
	}
}
