package metrics_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/metrics"
)

func TestMetricsReflectActivity(t *testing.T) {
	srv := sori.NewServer(&sori.Options{DisableServeClient: true})
	joined := make(chan struct{})
	srv.OnConnection(func(s *sori.Socket) {
		_ = s.Join("lobby")
		close(joined)
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/metrics", metrics.Handler(srv))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	}()

	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil { // the open packet
		t.Fatal(err)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.HasPrefix(string(msg), "40") {
		t.Fatalf("connect answer %q, %v", msg, err)
	}
	select {
	case <-joined:
	case <-time.After(5 * time.Second):
		t.Fatal("connection handler did not run")
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`42["hello"]`)); err != nil {
		t.Fatal(err)
	}

	// The event is counted once the server has read it: poll the page.
	var page string
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(ts.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
		if strings.Contains(page, "sori_events_received_total 1\n") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		`sori_connections{transport="websocket"} 1`,
		`sori_connections{transport="polling"} 0`,
		`sori_sockets{namespace="/"} 1`,
		`sori_rooms{namespace="/"} 1`,
		"sori_events_received_total 1\n",
		"# TYPE sori_engine_bytes_received_total counter",
		"sori_adapter_errors_total 0",
		"# TYPE sori_goroutines gauge",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("metrics lack %q:\n%s", want, page)
		}
	}
}
