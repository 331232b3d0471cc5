// Command sori-conformance serves what the official protocol test suites
// (socketio/engine.io-protocol and socketio/socket.io-protocol, folder
// test-suite/) expect to find on 127.0.0.1:3000: a bare Engine.IO server at
// /engine.io/ that echoes every message, and a Socket.IO server at
// /socket.io/. See docs/CONFORMANCE.md.
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sori-dev/sori/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	mux := http.NewServeMux()
	eio := newEngine(log)
	mux.Handle("/engine.io/", eio)
	sio := newSocketIO(log)
	mux.Handle("/socket.io/", sio)

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
		_ = eio.Close(shutdown)
		_ = closeSocketIO(shutdown, sio)
	}()
	log.Info("sori-conformance listening", "addr", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
}

// newEngine is the Engine.IO suite's server: echo every message.
func newEngine(log *slog.Logger) *engineio.Server {
	srv := engineio.NewServer(&engineio.Options{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		CORS:         &engineio.CORS{Origins: []string{"*"}},
		Logger:       log,
	})
	srv.OnConnection(func(s *engineio.Session) engineio.Receiver { return echo{s} })
	return srv
}

type echo struct{ s *engineio.Session }

func (e echo) OnMessage(data []byte, binary bool) {
	_ = e.s.Send(engineio.NewMessage(data, binary))
}

func (echo) OnClose(engineio.Reason, error) {}
