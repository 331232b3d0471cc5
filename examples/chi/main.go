// Command chi mounts Sori on the chi router, beside routes of its own, with
// chi's middleware around the HTTP side. Socket.IO needs every method under
// its path (GET and POST for long-polling, the WebSocket upgrade), so it is
// mounted with Mount, not with a method route.
//
//	go run ./examples/chi -addr 127.0.0.1:8080
//
// then, from Node: io("http://127.0.0.1:8080").emitWithAck("hello", "chi").
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/sori-dev/sori"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	io := sori.NewServer(nil)
	io.OnConnection(func(s *sori.Socket) {
		_ = s.On("hello", func(name string, ack func(string)) {
			ack("hello, " + name + ", from chi")
		})
	})

	r := chi.NewRouter()
	r.Use(middleware.Recoverer)
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	r.Mount(io.Path(), io) // "/socket.io/": every method, every subpath

	hs := &http.Server{Addr: *addr, Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt)
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(ctx)
		_ = hs.Shutdown(ctx)
	}()
	log.Printf("listening on http://%s", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
