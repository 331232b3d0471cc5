package chat_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/chat"
)

func TestHandlerServesPageHealthAndMetrics(t *testing.T) {
	srv := sori.NewServer(&sori.Options{DisableServeClient: true})
	chat.Register(srv, nil)
	ts := httptest.NewServer(chat.Handler(srv, chat.Static()))
	defer ts.Close()
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, page := get("/")
	for _, want := range []string{`id="welcome"`, `placeholder="room name"`, `id="room"`, `id="name"`, `id="msg"`, `/socket.io/socket.io.js`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if resp, body := get("/healthz"); resp.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/metrics"); resp.StatusCode != 200 || !strings.Contains(body, `sori_sockets{namespace="/"} 0`) {
		t.Errorf("/metrics: %d %q", resp.StatusCode, body)
	}
}
