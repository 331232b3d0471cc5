package chat

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/metrics"
)

//go:embed static
var static embed.FS

// Static is the chat page: index.html, app.js and style.css.
func Static() fs.FS {
	sub, _ := fs.Sub(static, "static")
	return sub
}

// Handler serves the page from files at "/", io at its path, /healthz and
// Prometheus metrics at /metrics.
func Handler(io *sori.Server, files fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(io.Path(), io)
	page := http.FileServerFS(files)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'")
		page.ServeHTTP(w, r)
	}))
	mux.Handle("/metrics", metrics.Handler(io))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
