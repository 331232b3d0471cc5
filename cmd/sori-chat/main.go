// Command sori-chat is the room chat: one binary that serves the page, the
// Socket.IO client and the server, in memory by default, or as one of a
// cluster of chat servers sharing a Redis (see docs/REDIS.md).
//
//	sori-chat -addr :3000
//	sori-chat -addr :3001 -redis redis://127.0.0.1:6379
//
// Every flag has an environment variable: SORI_ADDR, SORI_CORS_ORIGINS,
// SORI_LOG_LEVEL, SORI_STATIC, SORI_REDIS_URL, SORI_SHUTDOWN_TIMEOUT.
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
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/chat"
	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/redisadapter"
)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

func main() {
	addr := flag.String("addr", env("SORI_ADDR", ":3000"), "listen address (SORI_ADDR)")
	cors := flag.String("cors", env("SORI_CORS_ORIGINS", ""), "comma-separated origins allowed cross-origin, or * (SORI_CORS_ORIGINS)")
	level := flag.String("log-level", env("SORI_LOG_LEVEL", "info"), "debug, info, warn or error (SORI_LOG_LEVEL)")
	grace := flag.Duration("shutdown-timeout", envDuration("SORI_SHUTDOWN_TIMEOUT", 10*time.Second), "how long SIGTERM waits for handlers in flight and queued messages (SORI_SHUTDOWN_TIMEOUT)")
	staticDir := flag.String("static", env("SORI_STATIC", ""), "serve the page from this directory instead of the embedded one (SORI_STATIC)")
	redisURL := flag.String("redis", env("SORI_REDIS_URL", ""), "Redis URL, such as redis://127.0.0.1:6379, to share rooms with the other chat servers on it (SORI_REDIS_URL)")
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
	var rc *redis.Client
	if *redisURL != "" {
		ropts, err := redis.ParseURL(*redisURL)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sori-chat: bad -redis %q: %v\n", *redisURL, err)
			os.Exit(2)
		}
		redis.SetLogger(redisLog{log}) // its reconnection noise, at debug level
		rc = redis.NewClient(ropts)
		factory, err := redisadapter.New(rc, &redisadapter.Options{Logger: log})
		if err != nil {
			log.Error("cannot start the Redis adapter", "redis", ropts.Addr, "err", err)
			os.Exit(1)
		}
		opts.Adapter = factory
		log.Info("clustering through Redis", "redis", ropts.Addr)
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
		log.Info("shutting down", "deadline", *grace)
		shutdown, cancel := context.WithTimeout(context.Background(), *grace)
		defer cancel()
		// Stop accepting at once; long polls end as io closes their sessions.
		var wg sync.WaitGroup
		wg.Go(func() { _ = hs.Shutdown(shutdown) })
		if err := io.Close(shutdown); err != nil {
			log.Warn("shutdown deadline passed; connections cut", "err", err)
		}
		wg.Wait()
		if rc != nil {
			_ = rc.Close()
		}
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

// redisLog passes go-redis's own logs to the chat's logger, at debug level.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
