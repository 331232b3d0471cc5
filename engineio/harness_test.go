package engineio_test

// The harness: an Engine.IO server on an httptest server, a Receiver that
// records what each session gets, and raw clients (net/http for polling,
// gorilla/websocket for WebSocket) that speak the protocol by hand.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/engineio/parser"
)

// waitTimeout bounds every wait in these tests; nothing waits forever.
const waitTimeout = 10 * time.Second

// quietOptions are options whose heartbeat never fires during a test.
func quietOptions() *engineio.Options {
	return &engineio.Options{PingInterval: time.Minute, PingTimeout: time.Minute}
}

type message struct {
	data   string
	binary bool
}

type closeEvent struct {
	reason engineio.Reason
	err    error
}

// recorder is the Receiver of one session.
type recorder struct {
	s      *engineio.Session
	echo   bool
	msgs   chan message
	closed chan closeEvent

	mu     sync.Mutex
	inMsg  bool // an OnMessage is running
	errors []string
}

func (r *recorder) OnMessage(data []byte, binary bool) {
	r.mu.Lock()
	if r.inMsg {
		r.errors = append(r.errors, "overlapping OnMessage calls")
	}
	r.inMsg = true
	r.mu.Unlock()
	select {
	case r.msgs <- message{string(data), binary}:
	default:
		r.mu.Lock()
		r.errors = append(r.errors, "message channel full")
		r.mu.Unlock()
	}
	if r.echo {
		_ = r.s.Send(engineio.NewMessage(bytes.Clone(data), binary))
	}
	r.mu.Lock()
	r.inMsg = false
	r.mu.Unlock()
}

func (r *recorder) OnClose(reason engineio.Reason, err error) {
	select {
	case r.closed <- closeEvent{reason, err}:
	default:
		r.mu.Lock()
		r.errors = append(r.errors, "OnClose called twice")
		r.mu.Unlock()
	}
}

// harness is a server under test.
type harness struct {
	t    testing.TB
	srv  *engineio.Server
	ts   *httptest.Server
	url  string // http://host:port/engine.io/
	echo bool

	mu    sync.Mutex
	bySID map[string]*recorder
	conns map[*websocket.Conn]bool // client connections, closed at cleanup

	client *http.Client
}

type harnessConfig struct {
	opts   *engineio.Options
	noEcho bool
	// onConnect, when set, runs in OnConnection, before the client has
	// its handshake.
	onConnect func(s *engineio.Session)
}

func newHarness(t testing.TB, opts *engineio.Options) *harness {
	return newHarnessConfig(t, harnessConfig{opts: opts})
}

func newHarnessConfig(t testing.TB, cfg harnessConfig) *harness {
	t.Helper()
	opts := cfg.opts
	if opts == nil {
		opts = quietOptions()
	}
	h := &harness{
		t:     t,
		srv:   engineio.NewServer(opts),
		echo:  !cfg.noEcho,
		bySID: make(map[string]*recorder),
		conns: make(map[*websocket.Conn]bool),
		client: &http.Client{
			Timeout:   waitTimeout,
			Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64},
		},
	}
	h.srv.OnConnection(func(s *engineio.Session) engineio.Receiver {
		r := &recorder{s: s, echo: h.echo, msgs: make(chan message, 1024), closed: make(chan closeEvent, 1)}
		h.mu.Lock()
		h.bySID[s.ID()] = r
		h.mu.Unlock()
		if cfg.onConnect != nil {
			cfg.onConnect(s)
		}
		return r
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", h.srv)
	h.ts = httptest.NewServer(mux)
	h.url = h.ts.URL + "/engine.io/"
	t.Cleanup(func() {
		h.mu.Lock()
		for c := range h.conns {
			_ = c.Close()
		}
		h.mu.Unlock()
		h.client.CloseIdleConnections()
		// Cut idle polling sessions off at once, then wait for every
		// goroutine of the server: none may stay behind.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = h.srv.Close(ctx)
		ctx, cancel = context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := h.srv.Close(ctx); err != nil {
			t.Errorf("server goroutines still running after Close: %v", err)
		}
		h.ts.CloseClientConnections()
		h.ts.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for sid, r := range h.bySID {
			r.mu.Lock()
			for _, e := range r.errors {
				t.Errorf("session %s: %s", sid, e)
			}
			r.mu.Unlock()
		}
	})
	return h
}

// rec returns the recorder of the session with the id.
func (h *harness) rec(sid string) *recorder {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.bySID[sid]
	if r == nil {
		h.t.Fatalf("no session %q", sid)
	}
	return r
}

// forget drops the recorder of a closed session, checking it first.
func (h *harness) forget(sid string) {
	h.t.Helper()
	h.mu.Lock()
	r := h.bySID[sid]
	delete(h.bySID, sid)
	h.mu.Unlock()
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errors {
		h.t.Errorf("session %s: %s", sid, e)
	}
}

// query builds the URL of a request with the given query.
func (h *harness) query(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return h.url + "?" + q.Encode()
}

func (h *harness) wsURL(kv ...string) string {
	return "ws" + strings.TrimPrefix(h.query(kv...), "http")
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and reads the whole answer.
func (h *harness) do(method, u, body string, header http.Header) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return response{}, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}, err
}

func (h *harness) mustDo(method, u, body string, header http.Header) response {
	h.t.Helper()
	r, err := h.do(method, u, body, header)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, u, err)
	}
	return r
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t testing.TB, text string) openPacket {
	t.Helper()
	if !strings.HasPrefix(text, "0") {
		t.Fatalf("want an open packet, got %q", text)
	}
	var o openPacket
	if err := json.Unmarshal([]byte(text[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", text, err)
	}
	if o.SID == "" {
		t.Fatalf("open packet without sid: %q", text)
	}
	return o
}

// openPolling handshakes a polling session and returns its id.
func (h *harness) openPolling() string {
	h.t.Helper()
	r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
	if r.status != 200 {
		h.t.Fatalf("handshake: %d %s", r.status, r.body)
	}
	return parseOpen(h.t, r.body).SID
}

func (h *harness) pollURL(sid string) string {
	return h.query("EIO", "4", "transport", "polling", "sid", sid)
}

// poll GETs and decodes a payload.
func (h *harness) poll(sid string) []parser.Packet {
	h.t.Helper()
	r := h.mustDo("GET", h.pollURL(sid), "", nil)
	if r.status != 200 {
		h.t.Fatalf("poll: %d %s", r.status, r.body)
	}
	return decodePayload(h.t, r.body)
}

// pollAsync starts a GET whose answer arrives on the returned channel.
func (h *harness) pollAsync(sid string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		r, err := h.do("GET", h.pollURL(sid), "", nil)
		if err != nil {
			r = response{status: -1, body: err.Error()}
		}
		ch <- r
	}()
	return ch
}

// post sends a payload; it fails the test unless the answer is 200 "ok".
func (h *harness) post(sid, payload string) {
	h.t.Helper()
	r := h.mustDo("POST", h.pollURL(sid), payload, http.Header{"Content-Type": {"text/plain;charset=UTF-8"}})
	if r.status != 200 || r.body != "ok" {
		h.t.Fatalf("post %q: %d %q", payload, r.status, r.body)
	}
}

func decodePayload(t testing.TB, body string) []parser.Packet {
	t.Helper()
	ps, err := parser.DecodePayload([]byte(body), 0)
	if err != nil {
		t.Fatalf("payload %q: %v", body, err)
	}
	return ps
}

// pollUntil polls until a packet of type typ comes, answering pings, and
// returns the packets that came before it too.
func (h *harness) pollFor(sid string, typ parser.Type) (parser.Packet, []parser.Packet) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var seen []parser.Packet
	for time.Now().Before(deadline) {
		for _, p := range h.poll(sid) {
			if p.Type == typ {
				return p, seen
			}
			seen = append(seen, p)
		}
	}
	h.t.Fatalf("no %v packet on session %s within %v; got %v", typ, sid, waitTimeout, seen)
	return parser.Packet{}, nil
}

// wsClient is a raw WebSocket client.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	sid  string
}

var wsDialer = &websocket.Dialer{HandshakeTimeout: waitTimeout}

// dialWS opens a session directly on WebSocket and reads its open packet.
func (h *harness) dialWS() *wsClient {
	h.t.Helper()
	return h.dialWSWith(wsDialer)
}

func (h *harness) dialWSWith(d *websocket.Dialer) *wsClient {
	h.t.Helper()
	conn, resp, err := d.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
	if err != nil {
		h.t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := &wsClient{t: h.t, conn: conn}
	h.track(conn)
	typ, data := c.read()
	if typ != websocket.TextMessage {
		h.t.Fatalf("first frame is binary")
	}
	c.sid = parseOpen(h.t, string(data)).SID
	return c
}

// dialUpgrade opens a WebSocket for an existing session.
func (h *harness) dialUpgrade(sid string) *wsClient {
	h.t.Helper()
	conn, resp, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket", "sid", sid), nil)
	if err != nil {
		h.t.Fatalf("dial upgrade: %v (%v)", err, resp)
	}
	h.track(conn)
	return &wsClient{t: h.t, conn: conn, sid: sid}
}

func (h *harness) track(conn *websocket.Conn) {
	h.mu.Lock()
	h.conns[conn] = true
	h.mu.Unlock()
}

// drop closes a client connection and forgets it.
func (h *harness) drop(c *wsClient) {
	_ = c.conn.Close()
	h.mu.Lock()
	delete(h.conns, c.conn)
	h.mu.Unlock()
}

func (c *wsClient) read() (int, []byte) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	typ, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("ws read: %v", err)
	}
	return typ, data
}

func (c *wsClient) readText() string {
	c.t.Helper()
	typ, data := c.read()
	if typ != websocket.TextMessage {
		c.t.Fatalf("want a text frame, got binary %x", data)
	}
	return string(data)
}

// readSkipPing reads the next frame that is not a ping, answering pings.
func (c *wsClient) readSkipPing() (int, []byte) {
	c.t.Helper()
	for {
		typ, data := c.read()
		if typ == websocket.TextMessage && string(data) == "2" {
			c.sendText("3")
			continue
		}
		return typ, data
	}
}

func (c *wsClient) sendText(s string) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatalf("ws write %q: %v", s, err)
	}
}

func (c *wsClient) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("ws write binary: %v", err)
	}
}

// waitClosed reads until the connection ends and returns the error that
// ended it (a *websocket.CloseError when the server sent a close frame).
func (c *wsClient) waitClosed() error {
	c.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	_ = c.conn.SetReadDeadline(deadline)
	for {
		_, _, err := c.conn.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.t.Fatalf("connection still open after %v", waitTimeout)
			}
			return err
		}
	}
}

// roundTrip checks that an echo session still answers on WebSocket.
func (c *wsClient) roundTrip(text string) {
	c.t.Helper()
	c.sendText("4" + text)
	typ, data := c.readSkipPing()
	if typ != websocket.TextMessage || string(data) != "4"+text {
		c.t.Fatalf("echo: got %d %q, want %q", typ, data, "4"+text)
	}
}

// pollRoundTrip checks that an echo session still answers on polling.
func (h *harness) pollRoundTrip(sid, text string) {
	h.t.Helper()
	h.post(sid, "4"+text)
	p, _ := h.pollFor(sid, parser.Message)
	if string(p.Data) != text {
		h.t.Fatalf("poll echo: got %q, want %q", p.Data, text)
	}
}

// waitMessage waits for the next message of a session.
func (r *recorder) waitMessage(t testing.TB) message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf("no message within %v", waitTimeout)
		return message{}
	}
}

// waitClose waits for OnClose.
func (r *recorder) waitClose(t testing.TB) closeEvent {
	t.Helper()
	select {
	case e := <-r.closed:
		r.closed <- e // keep it for later waits
		return e
	case <-time.After(waitTimeout):
		t.Fatalf("session %s not closed within %v", r.s.ID(), waitTimeout)
		return closeEvent{}
	}
}

func (r *recorder) isClosed() bool {
	select {
	case <-r.s.Done():
		return true
	default:
		return false
	}
}

// eventually polls cond until it holds, failing after waitTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errorBody is the JSON of a refused request.
type errorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func checkError(t testing.TB, r response, status, code int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d (body %q)", r.status, status, r.body)
	}
	var e errorBody
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("body %q is not an error: %v", r.body, err)
	}
	if e.Code != code || e.Message != msg {
		t.Fatalf("error %+v, want {%d %q}", e, code, msg)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
}

func payloadString(ps []parser.Packet) string {
	return string(parser.EncodePayload(ps))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
