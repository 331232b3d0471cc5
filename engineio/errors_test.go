package engineio_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
)

const testMaxBuffer = 1000

// refusingOptions refuse handshakes carrying X-Deny, as AllowRequest does.
func refusingOptions() *engineio.Options {
	o := quietOptions()
	o.MaxHTTPBufferSize = testMaxBuffer
	o.UpgradeTimeout = 300 * time.Millisecond
	o.AllowRequest = func(r *http.Request) error {
		switch r.Header.Get("X-Deny") {
		case "":
			return nil
		case "teapot":
			return &engineio.RequestError{Code: engineio.CodeBadRequest, Message: "no teapots"}
		default:
			return errors.New("denied by test")
		}
	}
	return o
}

// healthy is a session of each transport opened before the bad requests,
// checked after each of them.
type healthy struct {
	h    *harness
	ws   *wsClient
	poll string
	n    int
}

func newHealthy(h *harness) *healthy {
	return &healthy{h: h, ws: h.dialWS(), poll: h.openPolling()}
}

func (x *healthy) check(t *testing.T, after string) {
	t.Helper()
	x.n++
	if x.h.rec(x.ws.sid).isClosed() || x.h.rec(x.poll).isClosed() {
		t.Fatalf("after %s: a healthy session was closed", after)
	}
	x.ws.roundTrip("still here " + after)
	x.h.pollRoundTrip(x.poll, "still here "+after)
}

// TestRefusedRequests sends requests the server must refuse, each answered
// as the reference server answers it, none harming other sessions.
func TestRefusedRequests(t *testing.T) {
	h := newHarness(t, refusingOptions())
	ok := newHealthy(h)
	wsSession := h.dialWS()

	for _, tc := range []struct {
		name   string
		method string
		query  []string // nil: a handshake without query
		header http.Header
		body   string
		status int
		code   int
		msg    string
	}{
		{"unknown sid", "GET", []string{"EIO", "4", "transport", "polling", "sid", "nope"}, nil, "", 400, 1, "Session ID unknown"},
		{"unknown sid POST", "POST", []string{"EIO", "4", "transport", "polling", "sid", "nope"}, nil, "4hi", 400, 1, "Session ID unknown"},
		{"missing EIO", "GET", []string{"transport", "polling"}, nil, "", 400, 5, "Unsupported protocol version"},
		{"EIO 3", "GET", []string{"EIO", "3", "transport", "polling"}, nil, "", 400, 5, "Unsupported protocol version"},
		{"EIO garbage", "GET", []string{"EIO", "x4", "transport", "polling"}, nil, "", 400, 5, "Unsupported protocol version"},
		{"unknown transport", "GET", []string{"EIO", "4", "transport", "carrier-pigeon"}, nil, "", 400, 0, "Transport unknown"},
		{"missing transport", "GET", []string{"EIO", "4"}, nil, "", 400, 0, "Transport unknown"},
		{"no query", "GET", nil, nil, "", 400, 0, "Transport unknown"},
		{"unknown transport with sid", "GET", []string{"EIO", "4", "transport", "flash", "sid", ok.poll}, nil, "", 400, 0, "Transport unknown"},
		{"POST handshake", "POST", []string{"EIO", "4", "transport", "polling"}, nil, "4hi", 400, 2, "Bad handshake method"},
		{"PUT handshake", "PUT", []string{"EIO", "4", "transport", "polling"}, nil, "", 400, 2, "Bad handshake method"},
		{"OPTIONS handshake without CORS", "OPTIONS", []string{"EIO", "4", "transport", "polling"}, nil, "", 400, 2, "Bad handshake method"},
		{"websocket without upgrade header", "GET", []string{"EIO", "4", "transport", "websocket"}, nil, "", 400, 3, "Bad request"},
		{"websocket without upgrade header, with sid", "GET", []string{"EIO", "4", "transport", "websocket", "sid", ok.poll}, nil, "", 400, 3, "Bad request"},
		{"POST to a websocket session", "POST", []string{"EIO", "4", "transport", "polling", "sid", wsSession.sid}, nil, "4hi", 400, 3, "Bad request"},
		{"GET polling on a websocket session", "GET", []string{"EIO", "4", "transport", "polling", "sid", wsSession.sid}, nil, "", 400, 3, "Bad request"},
		{"EIO 3 on a v4 session", "GET", []string{"EIO", "3", "transport", "polling", "sid", ok.poll}, nil, "", 400, 3, "Bad request"},
		{"PUT on a session", "PUT", []string{"EIO", "4", "transport", "polling", "sid", ok.poll}, nil, "", 400, 3, "Bad request"},
		{"refused by AllowRequest", "GET", []string{"EIO", "4", "transport", "polling"}, http.Header{"X-Deny": {"yes"}}, "", 403, 4, "denied by test"},
		{"refused by AllowRequest with a RequestError", "GET", []string{"EIO", "4", "transport", "polling"}, http.Header{"X-Deny": {"teapot"}}, "", 400, 3, "no teapots"},
	} {
		t.Logf("case %q", tc.name)
		u := h.url
		if tc.query != nil {
			u = h.query(tc.query...)
		}
		r := h.mustDo(tc.method, u, tc.body, tc.header)
		checkError(t, r, tc.status, tc.code, tc.msg)
		ok.check(t, tc.name)
	}

	// The refused requests on the WebSocket session left it alone.
	wsSession.roundTrip("mismatch survived")

	// WebSocket handshakes refused before the upgrade: an HTTP answer.
	for _, tc := range []struct {
		name   string
		query  []string
		header http.Header
		status int
		code   int
		msg    string
	}{
		{"upgrade for an unknown session", []string{"EIO", "4", "transport", "websocket", "sid", "nope"}, nil, 400, 1, "Session ID unknown"},
		{"websocket with EIO 3", []string{"EIO", "3", "transport", "websocket"}, nil, 400, 5, "Unsupported protocol version"},
		{"websocket with unknown transport", []string{"EIO", "4", "transport", "nope"}, nil, 400, 0, "Transport unknown"},
		{"websocket refused by AllowRequest", []string{"EIO", "4", "transport", "websocket"}, http.Header{"X-Deny": {"yes"}}, 403, 4, "denied by test"},
	} {
		t.Logf("case %q", tc.name)
		conn, resp, err := wsDialer.Dial("ws"+strings.TrimPrefix(h.query(tc.query...), "http"), tc.header)
		if err == nil {
			conn.Close()
			t.Fatalf("%s: the WebSocket was accepted", tc.name)
		}
		if resp == nil {
			t.Fatalf("%s: no HTTP answer: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		checkError(t, response{resp.StatusCode, resp.Header, string(body)}, tc.status, tc.code, tc.msg)
		ok.check(t, tc.name)
	}

	if n := h.srv.Len(); n != 3 {
		t.Fatalf("%d sessions open, want 3", n)
	}
}

// TestPollingProtocolErrors: requests that break the polling protocol close
// their session, with the reference's answer, and nothing else.
func TestPollingProtocolErrors(t *testing.T) {
	h := newHarness(t, refusingOptions())
	ok := newHealthy(h)

	overLimit := "4" + strings.Repeat("x", testMaxBuffer)
	for _, tc := range []struct {
		name   string
		body   string
		header http.Header
		status int
		code   int // -1: no JSON body to check
		reason engineio.Reason
	}{
		{"garbage", "abc", nil, 400, 3, engineio.ReasonParseError},
		{"unknown packet type", "8hello", nil, 400, 3, engineio.ReasonParseError},
		{"empty body", "", nil, 400, 3, engineio.ReasonParseError},
		{"truncated payload", "4hello\x1e", nil, 400, 3, engineio.ReasonParseError},
		{"empty packet inside", "4a\x1e\x1e4b", nil, 400, 3, engineio.ReasonParseError},
		{"garbage after a good packet", "4hello\x1e%%%", nil, 400, 3, engineio.ReasonParseError},
		{"bad base64", "b!!!!", nil, 400, 3, engineio.ReasonParseError},
		{"truncated base64", "bAQI", nil, 400, 3, engineio.ReasonParseError},
		{"binary body", "4hi", http.Header{"Content-Type": {"application/octet-stream"}}, 400, 3, engineio.ReasonTransportError},
		{"over maxHttpBufferSize", overLimit, nil, 413, -1, engineio.ReasonTransportError},
	} {
		t.Logf("case %q", tc.name)
		sid := h.openPolling()
		rec := h.rec(sid)
		r := h.mustDo("POST", h.pollURL(sid), tc.body, tc.header)
		if tc.code >= 0 {
			checkError(t, r, tc.status, tc.code, "Bad request")
		} else if r.status != tc.status {
			t.Fatalf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if e := rec.waitClose(t); e.reason != tc.reason {
			t.Fatalf("%s: closed with %q (%v), want %q", tc.name, e.reason, e.err, tc.reason)
		}
		select {
		case m := <-rec.msgs:
			t.Fatalf("%s: a message was delivered from a refused payload: %+v", tc.name, m)
		default:
		}
		checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")
		ok.check(t, tc.name)
	}

	t.Log("case: over maxHttpBufferSize, chunked")
	{
		sid := h.openPolling()
		rec := h.rec(sid)
		req, _ := http.NewRequest("POST", h.pollURL(sid), io.MultiReader(strings.NewReader(overLimit), strings.NewReader("yyyy")))
		if req.ContentLength != 0 {
			t.Fatal("want a request of unknown length")
		}
		resp, err := h.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 413 {
				t.Fatalf("status %d, want 413", resp.StatusCode)
			}
		}
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportError {
			t.Fatalf("closed with %q, want transport error", e.reason)
		}
		ok.check(t, "chunked body over the limit")
	}

	t.Log("case: at maxHttpBufferSize exactly")
	{
		sid := h.openPolling()
		h.post(sid, "4"+strings.Repeat("y", testMaxBuffer-1))
		if m := h.rec(sid).waitMessage(t); len(m.data) != testMaxBuffer-1 {
			t.Fatalf("got %d bytes", len(m.data))
		}
		ok.check(t, "payload at the limit")
	}

	t.Log("case: second concurrent GET")
	{
		sid := h.openPolling()
		rec := h.rec(sid)
		first := h.pollAsync(sid)
		eventually(t, "the first GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
		second := h.mustDo("GET", h.pollURL(sid), "", nil)
		checkError(t, second, 400, 3, "Bad request")
		select {
		case r := <-first:
			if r.status != 200 || r.body != "1" {
				t.Fatalf("first GET: %d %q, want 200 \"1\"", r.status, r.body)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the first GET was not released")
		}
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportError {
			t.Fatalf("closed with %q, want transport error", e.reason)
		}
		checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")
		ok.check(t, "second GET")
	}

	t.Log("case: second concurrent POST")
	{
		sid := h.openPolling()
		rec := h.rec(sid)
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("POST", h.pollURL(sid), pr)
		firstDone := make(chan struct{})
		go func() {
			defer close(firstDone)
			if resp, err := h.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		_, _ = pw.Write([]byte("4par"))
		eventually(t, "the first POST to be read", func() bool { return engineio.Posting(rec.s) })
		checkError(t, h.mustDo("POST", h.pollURL(sid), "4second", nil), 400, 3, "Bad request")
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportError {
			t.Fatalf("closed with %q, want transport error", e.reason)
		}
		_ = pw.Close()
		select {
		case <-firstDone:
		case <-time.After(waitTimeout):
			t.Fatal("the first POST never ended")
		}
		select {
		case m := <-rec.msgs:
			t.Fatalf("a message was delivered to a closed session: %+v", m)
		default:
		}
		ok.check(t, "second POST")
	}

	if n := h.srv.Len(); n != 3 {
		t.Fatalf("%d sessions open, want the 2 healthy ones and the last", n)
	}
}

// TestWebSocketProtocolErrors: frames that break the protocol close their
// session and nothing else.
func TestWebSocketProtocolErrors(t *testing.T) {
	h := newHarness(t, refusingOptions())
	ok := newHealthy(h)

	for _, tc := range []struct {
		name      string
		send      func(c *wsClient)
		reason    engineio.Reason
		closeCode int // the close frame's code, 0: any ending
	}{
		{"garbage text frame", func(c *wsClient) { c.sendText("hello") }, engineio.ReasonParseError, 0},
		{"empty text frame", func(c *wsClient) { c.sendText("") }, engineio.ReasonParseError, 0},
		{"unknown packet type", func(c *wsClient) { c.sendText("9x") }, engineio.ReasonParseError, 0},
		{"text over maxHttpBufferSize", func(c *wsClient) { c.sendText("4" + strings.Repeat("z", testMaxBuffer+1)) }, engineio.ReasonTransportError, websocket.CloseMessageTooBig},
		{"binary over maxHttpBufferSize", func(c *wsClient) { c.sendBinary(make([]byte, testMaxBuffer+2)) }, engineio.ReasonTransportError, websocket.CloseMessageTooBig},
	} {
		t.Logf("case %q", tc.name)
		c := h.dialWS()
		rec := h.rec(c.sid)
		tc.send(c)
		if e := rec.waitClose(t); e.reason != tc.reason {
			t.Fatalf("%s: closed with %q (%v), want %q", tc.name, e.reason, e.err, tc.reason)
		}
		err := c.waitClosed()
		if tc.closeCode != 0 && !websocket.IsCloseError(err, tc.closeCode) {
			t.Fatalf("%s: connection ended with %v, want close code %d", tc.name, err, tc.closeCode)
		}
		ok.check(t, tc.name)
	}

	t.Log("case: a message at the limit passes")
	c := h.dialWS()
	payload := strings.Repeat("q", testMaxBuffer)
	c.sendText("4" + payload)
	if m := h.rec(c.sid).waitMessage(t); m.data != payload {
		t.Fatalf("got %d bytes", len(m.data))
	}
	ok.check(t, "message at the limit")
}

// TestAbandonedUpgrade: a client that probes a WebSocket and then goes
// quiet loses the probe after UpgradeTimeout; its session goes on polling.
func TestAbandonedUpgrade(t *testing.T) {
	opts := refusingOptions()
	h := newHarness(t, opts)
	ok := newHealthy(h)

	sid := h.openPolling()
	rec := h.rec(sid)
	pending := h.pollAsync(sid)
	eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })

	start := time.Now()
	c := h.dialUpgrade(sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	select {
	case r := <-pending:
		if r.status != 200 || r.body != "6" {
			t.Fatalf("pending GET: %d %q, want 200 \"6\"", r.status, r.body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the pending GET was not released with a noop")
	}
	// Silence: no "5".
	err := c.waitClosed()
	if elapsed := time.Since(start); elapsed < opts.UpgradeTimeout*9/10 {
		t.Fatalf("probe closed after %v (%v), before UpgradeTimeout %v", elapsed, err, opts.UpgradeTimeout)
	}
	eventually(t, "the probe to be forgotten", func() bool { p, _ := engineio.Probing(rec.s); return !p })
	if rec.isClosed() {
		t.Fatal("the session closed with its probe")
	}
	if tr := rec.s.Transport(); tr != "polling" {
		t.Fatalf("transport %q, want polling", tr)
	}
	h.pollRoundTrip(sid, "after the abandoned upgrade")

	// The session can upgrade again after that.
	c2 := h.dialUpgrade(sid)
	pending = h.pollAsync(sid)
	c2.sendText("2probe")
	if got := c2.readText(); got != "3probe" {
		t.Fatalf("second probe answer %q", got)
	}
	select {
	case r := <-pending:
		if r.status != 200 || r.body != "6" {
			t.Fatalf("GET during the second probe: %d %q", r.status, r.body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("GET during the probe not answered")
	}
	c2.sendText("5")
	c2.roundTrip("upgraded at last")
	ok.check(t, "abandoned upgrade")
}

// TestProbeBrokenByClient: a probe that sends anything but 2probe or 5 is
// closed; the session stays on polling.
func TestProbeBrokenByClient(t *testing.T) {
	h := newHarness(t, refusingOptions())
	for _, first := range []string{"4hello", "3", "2notprobe", "garbage"} {
		sid := h.openPolling()
		rec := h.rec(sid)
		c := h.dialUpgrade(sid)
		c.sendText(first)
		_ = c.waitClosed()
		eventually(t, "the probe to be dropped", func() bool { p, _ := engineio.Probing(rec.s); return !p })
		if rec.isClosed() {
			t.Fatalf("%q: session closed", first)
		}
		h.pollRoundTrip(sid, "after "+first)
	}
}

// TestUpgradeRefusedStates: a WebSocket for a session already upgraded or
// upgrading is accepted and closed at once (as the reference does); the
// session is unharmed.
func TestUpgradeRefusedStates(t *testing.T) {
	h := newHarness(t, refusingOptions())

	sid := h.openPolling()
	c := h.dialUpgrade(sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// While upgrading.
	dup := h.dialUpgrade(sid)
	if err := dup.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("second WebSocket during the upgrade ended with %v", err)
	}
	c.sendText("5")
	c.roundTrip("upgraded")
	// After the upgrade.
	dup = h.dialUpgrade(sid)
	if err := dup.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("second WebSocket after the upgrade ended with %v", err)
	}
	checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 3, "Bad request")
	c.roundTrip("still upgraded")

	// A session that began on WebSocket.
	ws := h.dialWS()
	dup = h.dialUpgrade(ws.sid)
	if err := dup.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("second WebSocket for a WebSocket session ended with %v", err)
	}
	ws.roundTrip("unharmed")

	// With upgrades disallowed.
	opts := quietOptions()
	opts.DisallowUpgrades = true
	h2 := newHarness(t, opts)
	sid2 := h2.openPolling()
	_, resp, err := wsDialer.Dial(h2.wsURL("EIO", "4", "transport", "websocket", "sid", sid2), nil)
	if err == nil || resp == nil || resp.StatusCode != 400 {
		t.Fatalf("upgrade with DisallowUpgrades: %v %v", err, resp)
	}
	var e errorBody
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Code != 3 {
		t.Fatalf("upgrade with DisallowUpgrades: body %+v %v", e, err)
	}
	resp.Body.Close()
	h2.pollRoundTrip(sid2, "still polling")
}
