// Command sori-eio-testserver is the bare Engine.IO server of the Node
// interop tests (test/engineio-interop.test.mjs), its options set from
// flags:
//
//	sori-eio-testserver -addr 127.0.0.1:3002 -ping-interval 300ms -max-http-buffer-size 1000
//
// It echoes every message, text or binary, except these text commands:
//
//	__close__          the server closes the session (Session.Close)
//	__burst__ N        the server sends "burst 0" ... "burst N-1"
//	__binary__ N       the server sends a binary message of N bytes (i%256)
//	__transport__      the server answers "transport <name>"
//
// On stdout it writes one line per session event, for tests to wait on:
//
//	event=open sid=... transport=polling
//	event=close sid=... reason="transport close" err=...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sori-dev/sori/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3002", "listen address")
	path := flag.String("path", "/engine.io/", "path the server is mounted at")
	pingInterval := flag.Duration("ping-interval", 300*time.Millisecond, "ping interval")
	pingTimeout := flag.Duration("ping-timeout", 200*time.Millisecond, "ping timeout")
	upgradeTimeout := flag.Duration("upgrade-timeout", 0, "upgrade timeout (0: default)")
	maxBuffer := flag.Int("max-http-buffer-size", 0, "largest message or polling body (0: default 1e6)")
	maxQueued := flag.Int("max-queued-bytes", 0, "send queue bound per session (0: default)")
	transports := flag.String("transports", "polling,websocket", "allowed transports, comma-separated")
	noUpgrades := flag.Bool("no-upgrades", false, "disallow upgrades")
	corsOrigin := flag.String("cors-origin", "", `allowed CORS origins, comma-separated ("*": any; empty: CORS off)`)
	credentials := flag.Bool("credentials", false, "CORS: allow credentials")
	token := flag.String("allow-request-token", "", "when set, handshakes need ?token=<this>, else 403")
	cookie := flag.String("cookie", "", "when set, the handshake sets a cookie of this name")
	noCompression := flag.Bool("no-http-compression", false, "disable gzip of polling responses")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	opts := &engineio.Options{
		PingInterval:           *pingInterval,
		PingTimeout:            *pingTimeout,
		UpgradeTimeout:         *upgradeTimeout,
		MaxHTTPBufferSize:      *maxBuffer,
		MaxQueuedBytes:         *maxQueued,
		DisallowUpgrades:       *noUpgrades,
		DisableHTTPCompression: *noCompression,
		Logger:                 log,
	}
	for _, t := range strings.Split(*transports, ",") {
		if t = strings.TrimSpace(t); t != "" {
			opts.Transports = append(opts.Transports, t)
		}
	}
	if *corsOrigin != "" {
		opts.CORS = &engineio.CORS{Origins: strings.Split(*corsOrigin, ","), Credentials: *credentials}
	}
	if *token != "" {
		want := *token
		opts.AllowRequest = func(r *http.Request) error {
			if r.URL.Query().Get("token") != want {
				return errors.New("bad token")
			}
			return nil
		}
	}
	if *cookie != "" {
		opts.Cookie = &http.Cookie{Name: *cookie}
	}

	srv := engineio.NewServer(opts)
	events := &eventLog{}
	srv.OnConnection(func(s *engineio.Session) engineio.Receiver {
		events.printf("event=open sid=%s transport=%s", s.ID(), s.Transport())
		return &echo{s: s, events: events}
	})
	mux := http.NewServeMux()
	mux.Handle(*path, srv)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "sessions=%d\n", srv.Len())
	})

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdown)
		_ = srv.Close(shutdown)
	}()
	fmt.Fprintf(os.Stderr, "sori-eio-testserver listening on %s%s\n", *addr, *path)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	<-done
}

type eventLog struct{ mu sync.Mutex }

func (l *eventLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

type echo struct {
	s      *engineio.Session
	events *eventLog
}

func (e *echo) OnMessage(data []byte, binary bool) {
	if !binary {
		cmd, arg, _ := strings.Cut(string(data), " ")
		n, _ := strconv.Atoi(arg)
		switch cmd {
		case "__close__":
			e.s.Close()
			return
		case "__burst__":
			ms := make([]*engineio.Message, n)
			for i := range ms {
				ms[i] = engineio.NewMessage([]byte("burst "+strconv.Itoa(i)), false)
			}
			_ = e.s.SendBatch(ms)
			return
		case "__binary__":
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i)
			}
			_ = e.s.Send(engineio.NewMessage(b, true))
			return
		case "__transport__":
			_ = e.s.Send(engineio.NewMessage([]byte("transport "+e.s.Transport()), false))
			return
		}
	}
	_ = e.s.Send(engineio.NewMessage(data, binary))
}

func (e *echo) OnClose(reason engineio.Reason, err error) {
	e.events.printf("event=close sid=%s reason=%q err=%q", e.s.ID(), string(reason), errString(err))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
