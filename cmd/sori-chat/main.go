// Command sori-chat is the room chat: one binary that serves the page, the
// Socket.IO client and the server, in memory by default.
//
//	sori-chat -addr :3000
//
// Every flag has an environment variable: SORI_ADDR, SORI_CORS_ORIGINS,
// SORI_LOG_LEVEL, SORI_STATIC.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/chat"
	"github.com/sori-dev/sori/engineio"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func main() {
	addr := flag.String("addr", env("SORI_ADDR", ":3000"), "listen address (SORI_ADDR)")
	cors := flag.String("cors", env("SORI_CORS_ORIGINS", ""), "comma-separated origins allowed cross-origin, or * (SORI_CORS_ORIGINS)")
	level := flag.String("log-level", env("SORI_LOG_LEVEL", "info"), "debug, info, warn or error (SORI_LOG_LEVEL)")
	staticDir := flag.String("static", env("SORI_STATIC", ""), "serve the page from this directory instead of the embedded one (SORI_STATIC)")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "sori-chat: bad -log-level %q\n", *level)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	opts := &sori.Options{Logger: log}
	if *cors != "" {
		opts.Engine.CORS = &engineio.CORS{Origins: strings.Split(*cors, ",")}
	}
	io := sori.NewServer(opts)
	chat.Register(io, log)

	files := chat.Static()
	if *staticDir != "" {
		files = os.DirFS(*staticDir)
	}
	hs := &http.Server{Handler: chat.Handler(io, files), ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("listen", "addr", *addr, "err", err)
		os.Exit(1)
	}
	log.Info("sori-chat listening", "addr", ln.Addr().String(), "url", "http://"+displayAddr(ln.Addr()))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		log.Info("shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = io.Close(shutdown)
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		os.Exit(1)
	}
	<-done
}

func displayAddr(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
