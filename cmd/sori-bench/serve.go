package main

import (
	"context"
	"errors"
	"expvar"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/sori-dev/sori"
)

// serve runs Sori with the bench handlers.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:3000", "listen address")
	debugAddr := fs.String("debug-addr", "", "serve expvar and pprof on this address")
	eventRate := fs.Float64("event-rate", -1, "events a second one socket may send (Options.EventsPerSecond); negative: no bound, as in the Node server")
	level := fs.String("log-level", "error", "debug, info, warn or error")
	_ = fs.Parse(args)

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("bad -log-level %q", *level)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	// Default options but one: the Node reference server has no per-socket
	// event rate limit, and the fan-out sender emits far above Sori's
	// default (100/s), so the bench lifts it unless told otherwise.
	io := sori.NewServer(&sori.Options{Logger: log, EventsPerSecond: *eventRate})
	io.OnConnection(func(s *sori.Socket) {
		_ = s.On("enter_room", func(room string, ack func()) {
			s.Join(room)
			ack()
		})
		_ = s.On("new_message", func(msg, room string, ack func()) {
			_ = s.To(room).Emit("new_message", msg)
			ack()
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *debugAddr != "" {
		dln, err := net.Listen("tcp", *debugAddr)
		if err != nil {
			return err
		}
		expvar.Publish("goroutines", expvar.Func(func() any { return runtime.NumGoroutine() }))
		expvar.Publish("sessions", expvar.Func(func() any { return io.Engine().Len() }))
		dm := http.NewServeMux()
		dm.Handle("/debug/vars", expvar.Handler())
		dm.HandleFunc("/debug/pprof/", pprof.Index)
		dm.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		dm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		dm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		dm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		// /debug/gc collects and returns memory to the OS, so that the
		// memstats that follow show what is live.
		dm.HandleFunc("/debug/gc", func(w http.ResponseWriter, _ *http.Request) {
			runtime.GC()
			debug.FreeOSMemory()
			fmt.Fprintln(w, "ok")
		})
		go func() { _ = http.Serve(dln, dm) }()
		fmt.Printf("debug listening on %s\n", dln.Addr())
	}
	fmt.Printf("listening on %s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(shutdown)
		_ = hs.Shutdown(shutdown)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
