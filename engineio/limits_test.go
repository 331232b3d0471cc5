package engineio_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
)

func handshake(h *harness) response {
	h.t.Helper()
	return h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
}

func TestMaxConnections(t *testing.T) {
	opts := quietOptions()
	opts.MaxConnections = 2
	h := newHarness(t, opts)
	first := parseOpen(t, handshake(h).body).SID
	parseOpen(t, handshake(h).body)

	r := handshake(h)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "too many connections") {
		t.Fatalf("third handshake: %d %s, want 503 too many connections", r.status, r.body)
	}
	// A WebSocket is refused before its upgrade, with the same answer.
	_, resp, err := websocket.DefaultDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("websocket over the limit: %v %v", resp, err)
	}
	// A slot frees when a session ends.
	h.post(first, "1")
	if ev := h.rec(first).waitClose(t); ev.reason != engineio.ReasonTransportClose {
		t.Fatalf("close reason %q", ev.reason)
	}
	h.forget(first)
	if r := handshake(h); r.status != http.StatusOK {
		t.Fatalf("handshake after a close: %d %s", r.status, r.body)
	}
}

func TestMaxConnectionsPerIP(t *testing.T) {
	opts := quietOptions()
	opts.MaxConnectionsPerIP = 2
	// The tests all come from 127.0.0.1: a header stands for two addresses.
	opts.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	h := newHarness(t, opts)
	from := func(ip string) response {
		return h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", http.Header{"X-Test-Client": {ip}})
	}
	for range 2 {
		if r := from("a"); r.status != http.StatusOK {
			t.Fatalf("handshake within the limit: %d %s", r.status, r.body)
		}
	}
	r := from("a")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third from one address: %d %s, want 429", r.status, r.body)
	}
	var body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body.Message == "" {
		t.Fatalf("refusal body %q: %v", r.body, err)
	}
	if r := from("b"); r.status != http.StatusOK {
		t.Fatalf("another address is not limited: %d %s", r.status, r.body)
	}
}

func TestWebSocketOriginCheck(t *testing.T) {
	opts := quietOptions()
	opts.CORS = &engineio.CORS{Origins: []string{"https://friend.example"}}
	h := newHarness(t, opts)
	dialFrom := func(origin string) (*http.Response, error) {
		hdr := http.Header{}
		if origin != "" {
			hdr.Set("Origin", origin)
		}
		c, resp, err := websocket.DefaultDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), hdr)
		if err == nil {
			h.track(c)
		}
		return resp, err
	}
	// Cross-site WebSocket hijacking: a page of another site is refused.
	if resp, err := dialFrom("https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin accepted: %v %v", resp, err)
	}
	host := strings.TrimPrefix(h.ts.URL, "http://")
	for _, origin := range []string{"", "http://" + host, "https://friend.example"} {
		if _, err := dialFrom(origin); err != nil {
			t.Fatalf("origin %q refused: %v", origin, err)
		}
	}
}
