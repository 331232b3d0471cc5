package engineio_test

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/engineio/parser"
)

func TestHandshakePolling(t *testing.T) {
	opts := &engineio.Options{PingInterval: 1500 * time.Millisecond, PingTimeout: 900 * time.Millisecond, MaxHTTPBufferSize: 12345}
	h := newHarness(t, opts)
	r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling", "foo", "bar"), "", http.Header{"X-Custom": {"yes"}})
	if r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	checkPollingHeaders(t, r)
	o := parseOpen(t, r.body)
	if !slices.Equal(o.Upgrades, []string{"websocket"}) || o.PingInterval != 1500 || o.PingTimeout != 900 || o.MaxPayload != 12345 {
		t.Fatalf("open packet %+v", o)
	}
	if len(o.SID) < 20 {
		t.Fatalf("sid %q is short", o.SID)
	}
	rec := h.rec(o.SID)
	hs := rec.s.Handshake()
	if hs.Transport != "polling" || hs.Query().Get("foo") != "bar" || hs.Header().Get("X-Custom") != "yes" || hs.Get("x-custom") != "yes" || hs.RemoteAddr == "" || hs.Time.IsZero() || hs.Secure {
		t.Fatalf("handshake %+v", hs)
	}
	if !strings.Contains(hs.URL, "foo=bar") {
		t.Fatalf("handshake URL %q", hs.URL)
	}
	if rec.s.ID() != o.SID || rec.s.Transport() != "polling" || h.srv.Session(o.SID) != rec.s || h.srv.Len() != 1 {
		t.Fatal("session not registered as handshaken")
	}

	// A POST answers "ok" as text/html, a GET carries the payload.
	post := h.mustDo("POST", h.pollURL(o.SID), "4hello\x1e4world", nil)
	if post.status != 200 || post.body != "ok" || post.header.Get("Content-Type") != "text/html" || post.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST answer %d %q %v", post.status, post.body, post.header)
	}
	get := h.mustDo("GET", h.pollURL(o.SID), "", nil)
	checkPollingHeaders(t, get)
	if get.body != "4hello\x1e4world" {
		t.Fatalf("poll %q", get.body)
	}
	for _, want := range []string{"hello", "world"} {
		if m := rec.waitMessage(t); m.data != want || m.binary {
			t.Fatalf("message %+v, want %q", m, want)
		}
	}
}

func checkPollingHeaders(t *testing.T, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	if r.header.Get("Content-Encoding") == "" && r.header.Get("Content-Length") == "" {
		t.Fatal("no Content-Length")
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 2 * time.Second, PingTimeout: time.Second})
	conn, resp, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket", "k", "v"), http.Header{"X-Custom": {"ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	c := &wsClient{t: t, conn: conn}
	o := parseOpen(t, c.readText())
	if o.Upgrades == nil || len(o.Upgrades) != 0 || o.PingInterval != 2000 || o.PingTimeout != 1000 || o.MaxPayload != 1e6 {
		t.Fatalf("open packet %+v", o)
	}
	rec := h.rec(o.SID)
	if hs := rec.s.Handshake(); hs.Transport != "websocket" || hs.Query().Get("k") != "v" || hs.Header().Get("X-Custom") != "ws" {
		t.Fatalf("handshake %+v", hs)
	}
	if rec.s.Transport() != "websocket" {
		t.Fatal("transport")
	}
}

func TestHandshakeUpgradesList(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts engineio.Options
		want []string
	}{
		{"default", engineio.Options{}, []string{"websocket"}},
		{"upgrades disallowed", engineio.Options{DisallowUpgrades: true}, []string{}},
		{"polling only", engineio.Options{Transports: []string{"polling"}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			h := newHarness(t, &o)
			r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
			if got := parseOpen(t, r.body).Upgrades; !slices.Equal(got, tc.want) {
				t.Fatalf("upgrades %v, want %v", got, tc.want)
			}
		})
	}
	// WebSocket only: polling is an unknown transport.
	h := newHarness(t, &engineio.Options{Transports: []string{"websocket"}})
	checkError(t, h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil), 400, 0, "Transport unknown")
	h.dialWS().roundTrip("ws only")
}

func TestCookie(t *testing.T) {
	h := newHarness(t, &engineio.Options{Cookie: &http.Cookie{}})
	r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
	sid := parseOpen(t, r.body).SID
	sc := r.header.Get("Set-Cookie")
	for _, want := range []string{"io=" + sid, "Path=/", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %q", sc, want)
		}
	}
	// Only on the handshake.
	if r := h.mustDo("POST", h.pollURL(sid), "4x", nil); r.header.Get("Set-Cookie") != "" {
		t.Fatal("cookie sent again on a POST")
	}

	h2 := newHarness(t, &engineio.Options{Cookie: &http.Cookie{Name: "eio", Path: "/app", SameSite: http.SameSiteStrictMode}})
	r = h2.mustDo("GET", h2.query("EIO", "4", "transport", "polling"), "", nil)
	sc = r.header.Get("Set-Cookie")
	for _, want := range []string{"eio=" + parseOpen(t, r.body).SID, "Path=/app", "SameSite=Strict"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("Set-Cookie %q lacks %q", sc, want)
		}
	}

	// No cookie by default.
	h3 := newHarness(t, nil)
	if r := h3.mustDo("GET", h3.query("EIO", "4", "transport", "polling"), "", nil); r.header.Get("Set-Cookie") != "" {
		t.Fatal("cookie without the option")
	}
}

func TestCORS(t *testing.T) {
	t.Run("any origin", func(t *testing.T) {
		h := newHarness(t, &engineio.Options{CORS: &engineio.CORS{Origins: []string{"*"}}})
		r := h.mustDo("OPTIONS", h.query("EIO", "4", "transport", "polling"), "", http.Header{
			"Origin":                         {"https://example.com"},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"content-type,x-token"},
		})
		if r.status != 204 {
			t.Fatalf("preflight status %d", r.status)
		}
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Fatalf("Allow-Origin %q", got)
		}
		if got := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(got, "POST") || !strings.Contains(got, "GET") {
			t.Fatalf("Allow-Methods %q", got)
		}
		if got := r.header.Get("Access-Control-Allow-Headers"); got != "content-type,x-token" {
			t.Fatalf("Allow-Headers %q", got)
		}
		if r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatal("credentials allowed")
		}
		// Preflights for an existing session, and the actual requests.
		sid := h.openPolling()
		if r := h.mustDo("OPTIONS", h.pollURL(sid), "", http.Header{"Origin": {"https://example.com"}}); r.status != 204 {
			t.Fatalf("session preflight %d", r.status)
		}
		r = h.mustDo("POST", h.pollURL(sid), "4hi", http.Header{"Origin": {"https://example.com"}})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("POST %d, Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
		// Errors carry the headers too, so that browsers can read them.
		r = h.mustDo("GET", h.query("EIO", "4", "transport", "nope"), "", http.Header{"Origin": {"https://example.com"}})
		if r.status != 400 || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("error %d, Allow-Origin %q", r.status, r.header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("listed origins with credentials", func(t *testing.T) {
		h := newHarness(t, &engineio.Options{CORS: &engineio.CORS{
			Origins:        []string{"https://good.example"},
			Credentials:    true,
			AllowedHeaders: "x-a",
			MaxAge:         time.Hour,
		}})
		r := h.mustDo("OPTIONS", h.query("EIO", "4", "transport", "polling"), "", http.Header{"Origin": {"https://good.example"}, "Access-Control-Request-Method": {"GET"}})
		if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "https://good.example" ||
			r.header.Get("Access-Control-Allow-Credentials") != "true" || r.header.Get("Access-Control-Allow-Headers") != "x-a" ||
			r.header.Get("Access-Control-Max-Age") != "3600" {
			t.Fatalf("preflight %d %v", r.status, r.header)
		}
		if !slices.Contains(r.header.Values("Vary"), "Origin") {
			t.Fatalf("Vary %v", r.header.Values("Vary"))
		}
		r = h.mustDo("OPTIONS", h.query("EIO", "4", "transport", "polling"), "", http.Header{"Origin": {"https://evil.example"}})
		if r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("unlisted origin allowed: %v", r.header)
		}
		r = h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", http.Header{"Origin": {"https://good.example"}})
		if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "https://good.example" {
			t.Fatalf("handshake %d %v", r.status, r.header)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		h := newHarness(t, nil)
		r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", http.Header{"Origin": {"https://x.example"}})
		if r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS headers without the option")
		}
	})
}

func TestHTTPCompression(t *testing.T) {
	big := strings.Repeat("compress me ", 200) // over the 1024-byte threshold
	for _, tc := range []struct {
		name    string
		opts    engineio.Options
		accept  string
		payload string
		want    string // Content-Encoding
	}{
		{"gzip", engineio.Options{}, "gzip, deflate, br", big, "gzip"},
		{"deflate", engineio.Options{}, "deflate", big, "deflate"},
		{"gzip refused", engineio.Options{}, "gzip;q=0, deflate", big, "deflate"},
		{"not accepted", engineio.Options{}, "", big, ""},
		{"identity only", engineio.Options{}, "identity", big, ""},
		{"under the threshold", engineio.Options{}, "gzip", "small", ""},
		{"disabled", engineio.Options{DisableHTTPCompression: true}, "gzip", big, ""},
		{"custom threshold", engineio.Options{CompressionThreshold: 10}, "gzip", "just over ten", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			o.PingInterval, o.PingTimeout = time.Minute, time.Minute
			h := newHarness(t, &o)
			sid := h.openPolling()
			h.post(sid, "4"+tc.payload)
			h.rec(sid).waitMessage(t)
			var hdr http.Header
			if tc.accept != "" {
				hdr = http.Header{"Accept-Encoding": {tc.accept}}
			}
			r := h.mustDo("GET", h.pollURL(sid), "", hdr)
			if got := r.header.Get("Content-Encoding"); got != tc.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
			}
			body := []byte(r.body)
			switch tc.want {
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(body))
				must(t, err)
				body, err = io.ReadAll(zr)
				must(t, err)
			case "deflate":
				zr, err := zlib.NewReader(bytes.NewReader(body))
				must(t, err)
				body, err = io.ReadAll(zr)
				must(t, err)
			}
			if string(body) != "4"+tc.payload {
				t.Fatalf("body %.40q..., want the echo", body)
			}
			if tc.want != "" && len(body) > 1024 && len(r.body) >= len(body) {
				t.Fatalf("compressed body is %d bytes for %d", len(r.body), len(body))
			}
		})
	}
}

func TestBinaryPolling(t *testing.T) {
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	bin := []byte{0, 1, 2, 0xfe, 0xff}
	// Text and binary in one payload, and an empty binary message.
	h.post(sid, "4text\x1ebAAEC/v8=\x1eb\x1e4€ 안녕")
	want := []message{{"text", false}, {string(bin), true}, {"", true}, {"€ 안녕", false}}
	for _, w := range want {
		if m := rec.waitMessage(t); m != w {
			t.Fatalf("message %+v, want %+v", m, w)
		}
	}
	var got []parser.Packet
	for len(got) < len(want) {
		got = append(got, h.poll(sid)...)
	}
	if p := payloadString(got); p != "4text\x1ebAAEC/v8=\x1eb\x1e4€ 안녕" {
		t.Fatalf("echo payload %q", p)
	}
}

func TestBinaryWebSocket(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dialWS()
	rec := h.rec(c.sid)
	bin := []byte{0, 1, 2, 0xfe, 0xff}
	c.sendBinary(bin)
	if m := rec.waitMessage(t); m.data != string(bin) || !m.binary {
		t.Fatalf("message %+v", m)
	}
	typ, data := c.readSkipPing()
	if typ != websocket.BinaryMessage || !bytes.Equal(data, bin) {
		t.Fatalf("echo %d %x", typ, data)
	}
	c.sendBinary(nil)
	if m := rec.waitMessage(t); m.data != "" || !m.binary {
		t.Fatalf("empty binary %+v", m)
	}
	if typ, data := c.readSkipPing(); typ != websocket.BinaryMessage || len(data) != 0 {
		t.Fatalf("empty binary echo %d %x", typ, data)
	}
	c.sendText("4€ 안녕")
	if m := rec.waitMessage(t); m.data != "€ 안녕" || m.binary {
		t.Fatalf("text %+v", m)
	}
	if got := c.readText(); got != "4€ 안녕" {
		t.Fatalf("text echo %q", got)
	}
	// Large frames both ways (16- and 64-bit lengths).
	for _, n := range []int{200, 70000} {
		big := bytes.Repeat([]byte{0xab}, n)
		c.sendBinary(big)
		if typ, data := c.readSkipPing(); typ != websocket.BinaryMessage || !bytes.Equal(data, big) {
			t.Fatalf("%d-byte echo: %d, %d bytes", n, typ, len(data))
		}
		rec.waitMessage(t)
	}
	// Server-initiated batches keep their order and kinds.
	must(t, rec.s.SendBatch([]*engineio.Message{
		engineio.NewMessage([]byte("a"), false),
		engineio.NewMessage([]byte{1}, true),
		engineio.NewTextMessage([]byte("4c")),
	}))
	for _, w := range []struct {
		typ  int
		data string
	}{{websocket.TextMessage, "4a"}, {websocket.BinaryMessage, "\x01"}, {websocket.TextMessage, "4c"}} {
		if typ, data := c.readSkipPing(); typ != w.typ || string(data) != w.data {
			t.Fatalf("batch frame %d %q, want %d %q", typ, data, w.typ, w.data)
		}
	}
}
