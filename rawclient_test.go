package sori

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sori-dev/sori/engineio"
)

// The Go tests talk to the server as a client would, over a real
// WebSocket (or long-polling), in Engine.IO and Socket.IO text: no Node.

const waitLimit = 5 * time.Second

// testLog collects what the server logs, for tests that check it.
type testLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *testLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newTestServer starts srv behind httptest; both stop when the test ends.
// opts may be nil; the heartbeat is made fast and the logs go to the
// returned testLog.
func newTestServer(t testing.TB, opts *Options) (*Server, *httptest.Server, *testLog) {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	logs := &testLog{}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Engine.PingInterval == 0 {
		o.Engine.PingInterval = 200 * time.Millisecond
	}
	if o.Engine.PingTimeout == 0 {
		o.Engine.PingTimeout = 2 * time.Second
	}
	o.DisableServeClient = true
	srv := NewServer(&o)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		_ = srv.Close(ctx)
		ts.CloseClientConnections()
		ts.Close()
	})
	return srv, ts, logs
}

// frame is one Engine.IO message the client got: Socket.IO packet text, or
// a binary attachment.
type frame struct {
	text   string
	bin    []byte
	binary bool
}

func (f frame) String() string {
	if f.binary {
		return fmt.Sprintf("<binary %x>", f.bin)
	}
	return f.text
}

// rawClient is an Engine.IO v4 WebSocket client that answers pings and
// hands every other message over.
type rawClient struct {
	t      testing.TB
	ws     *websocket.Conn
	sid    string
	open   map[string]any
	frames chan frame
	done   chan struct{} // closed when the connection ended
	wmu    sync.Mutex
}

// dial opens a WebSocket session to ts (query adds to the URL).
func dial(t testing.TB, ts *httptest.Server, query ...string) *rawClient {
	t.Helper()
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	for _, q := range query {
		u += "&" + q
	}
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &rawClient{t: t, ws: ws, frames: make(chan frame, 1024), done: make(chan struct{})}
	_ = ws.SetReadDeadline(time.Now().Add(waitLimit))
	typ, msg, err := ws.ReadMessage()
	if err != nil || typ != websocket.TextMessage || len(msg) == 0 || msg[0] != '0' {
		t.Fatalf("no open packet: %q %v", msg, err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	if err := json.Unmarshal(msg[1:], &c.open); err != nil {
		t.Fatalf("open packet: %v", err)
	}
	c.sid, _ = c.open["sid"].(string)
	go c.read()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *rawClient) read() {
	defer close(c.done)
	for {
		typ, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if typ == websocket.BinaryMessage {
			c.frames <- frame{bin: msg, binary: true}
			continue
		}
		switch {
		case len(msg) == 0:
		case msg[0] == '2': // ping
			c.write(websocket.TextMessage, []byte("3"))
		case msg[0] == '4':
			c.frames <- frame{text: string(msg[1:])}
		case msg[0] == '1': // the server closes
			_ = c.ws.Close()
			return
		}
	}
}

func (c *rawClient) write(typ int, b []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteMessage(typ, b)
}

// send sends one Socket.IO packet's text.
func (c *rawClient) send(packet string) { c.write(websocket.TextMessage, []byte("4"+packet)) }

// sendBin sends one binary attachment.
func (c *rawClient) sendBin(b []byte) { c.write(websocket.BinaryMessage, b) }

// next returns the next message, failing the test after waitLimit or when
// the connection ends first.
func (c *rawClient) next() frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection closed while waiting for a packet")
	case <-time.After(waitLimit):
		c.t.Fatalf("no packet within %v", waitLimit)
	}
	return frame{}
}

// recv returns the next Socket.IO packet's text.
func (c *rawClient) recv() string {
	c.t.Helper()
	f := c.next()
	if f.binary {
		c.t.Fatalf("got binary %x, want text", f.bin)
	}
	return f.text
}

// recvBin returns the next binary attachment.
func (c *rawClient) recvBin() []byte {
	c.t.Helper()
	f := c.next()
	if !f.binary {
		c.t.Fatalf("got %q, want binary", f.text)
	}
	return f.bin
}

// expect fails unless the next packet is want.
func (c *rawClient) expect(want string) {
	c.t.Helper()
	if got := c.recv(); got != want {
		c.t.Fatalf("got packet %q, want %q", got, want)
	}
}

// expectJSON fails unless the next packet is prefix followed by JSON equal
// to want.
func (c *rawClient) expectJSON(prefix, want string) {
	c.t.Helper()
	got := c.recv()
	rest, ok := strings.CutPrefix(got, prefix)
	if !ok || !jsonEqual(rest, want) {
		c.t.Fatalf("got packet %q, want %s%s", got, prefix, want)
	}
}

// connect joins namespace nsp ("/" or "/name") with an optional auth
// payload and returns the socket id.
func (c *rawClient) connect(nsp string, auth ...string) string {
	c.t.Helper()
	c.send("0" + nspPrefix(nsp) + strings.Join(auth, ""))
	got := c.recv()
	body, ok := strings.CutPrefix(got, "0"+nspPrefix(nsp))
	if !ok {
		c.t.Fatalf("connect %s: got %q", nsp, got)
	}
	var m struct{ SID string }
	if err := json.Unmarshal([]byte(body), &m); err != nil || m.SID == "" {
		c.t.Fatalf("connect %s: bad answer %q", nsp, got)
	}
	return m.SID
}

// waitClosed fails unless the server ends the connection in time.
func (c *rawClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitLimit):
		c.t.Fatalf("connection still open after %v", waitLimit)
	}
}

// closed reports whether the connection has ended.
func (c *rawClient) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// nspPrefix is how a namespace appears in a packet: nothing for "/".
func nspPrefix(nsp string) string {
	if nsp == "/" || nsp == "" {
		return ""
	}
	return nsp + ","
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// pollClient is an Engine.IO v4 long-polling client, for what only
// polling shows deterministically (volatile packets wait in the queue
// until the client polls).
type pollClient struct {
	t   testing.TB
	url string
	sid string
}

func dialPolling(t testing.TB, ts *httptest.Server) *pollClient {
	t.Helper()
	c := &pollClient{t: t, url: ts.URL + "/socket.io/?EIO=4&transport=polling"}
	body := c.get(c.url)
	if !strings.HasPrefix(body, "0") {
		t.Fatalf("polling handshake: %q", body)
	}
	var open struct{ SID string }
	if err := json.Unmarshal([]byte(body[1:]), &open); err != nil {
		t.Fatalf("polling handshake: %v", err)
	}
	c.sid = open.SID
	c.url += "&sid=" + c.sid
	return c
}

func (c *pollClient) get(u string) string {
	c.t.Helper()
	client := &http.Client{Timeout: waitLimit}
	resp, err := client.Get(u)
	if err != nil {
		c.t.Fatalf("poll: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("poll: %s %s", resp.Status, b)
	}
	return string(b)
}

// send posts Socket.IO packets' text, one Engine.IO message each.
func (c *pollClient) send(packets ...string) {
	c.t.Helper()
	msgs := make([]string, len(packets))
	for i, p := range packets {
		msgs[i] = "4" + p
	}
	resp, err := http.Post(c.url, "text/plain", strings.NewReader(strings.Join(msgs, "\x1e")))
	if err != nil {
		c.t.Fatalf("post: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("post: %s", resp.Status)
	}
}

// poll returns the Socket.IO packets of the next poll, pings answered and
// left out.
func (c *pollClient) poll() []string {
	c.t.Helper()
	var out []string
	for _, m := range strings.Split(c.get(c.url), "\x1e") {
		switch {
		case m == "2":
			c.sendRaw("3")
		case strings.HasPrefix(m, "4"):
			out = append(out, m[1:])
		}
	}
	return out
}

func (c *pollClient) sendRaw(msg string) {
	resp, err := http.Post(c.url, "text/plain", strings.NewReader(msg))
	if err == nil {
		_ = resp.Body.Close()
	}
}

// sessionConn opens a long-polling session straight through ServeHTTP, no
// network, and returns the conn the server made for it: for feeding
// packets to conn.OnMessage.
func sessionConn(t testing.TB, srv *Server) *conn {
	t.Helper()
	got := make(chan *conn, 1)
	srv.engine.OnConnection(func(es *engineio.Session) engineio.Receiver {
		c := srv.newConn(es).(*conn)
		got <- c
		return c
	})
	defer srv.engine.OnConnection(srv.newConn)
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/socket.io/?EIO=4&transport=polling", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("handshake: %d %s", rec.Code, rec.Body)
	}
	select {
	case c := <-got:
		return c
	default:
		t.Fatalf("no session made")
		return nil
	}
}
