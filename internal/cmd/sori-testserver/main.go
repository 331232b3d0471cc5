// Command sori-testserver is the Sori server of the Node interop tests
// (test/socketio-interop.test.mjs): its handlers exercise every feature,
// each triggered by an event the official client sends.
//
//	sori-testserver -addr 127.0.0.1:3001 -ping-interval 300ms -ping-timeout 500ms
//
// Namespaces: "/" and "/other" with the handlers below, "/private" behind
// a token (auth {token: "let-me-in"}, else CONNECT_ERROR "not authorized"
// with data {code: 4001}), and /dyn-<digits> made on demand.
//
// Events (an acknowledgement answers when the client asks for one):
//
//	echo ...args                  emits "echo" with the same args, and acks them
//	ack-echo ...args              acks the same args
//	no-ack                        never acks
//	typed n:int name:string       acks name+n; other types -> "error-report"
//	forbidden                     refused by per-packet middleware -> "error-report"
//	panic                         the handler panics; the socket carries on
//	binary                        emits "binary" with a buffer and a nested one
//	ask {event,payload,timeout}   EmitWithAck to this client; acks {answer, error}
//	ask-callback {...}            the same through an Emit callback with an error first
//	join rooms, leave room        acks the socket's rooms
//	to {rooms,except,event,args}  socket.To(rooms).Except(except).Emit (not the sender)
//	io-to {rooms,except,...}      namespace-wide: the sender too
//	volatile-one                  one volatile "vol" event
//	volatile-burst n              n volatile "vol" events, then "vol-done"
//	poll-room {room,timeout}      broadcast EmitWithAck "poll" to the room; acks {answers, error}
//	disconnect-me close:bool      the server disconnects this socket
//	set-data key value            socket.Data().Set
//	fetch room                    acks FetchSockets of the room ("" all)
//	sockets-join {room,rooms}     SocketsJoin; sockets-leave the same; acks
//	disconnect-sockets {room,close}
//	report-any on:bool            from now on, "any-in" (event, argc) for every
//	                              incoming event and "any-out" (event) for every
//	                              outgoing one
//	where                         acks the namespace's name
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/engineio"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "listen address")
	pingInterval := flag.Duration("ping-interval", 25*time.Second, "Engine.IO ping interval")
	pingTimeout := flag.Duration("ping-timeout", 20*time.Second, "Engine.IO ping timeout")
	connectTimeout := flag.Duration("connect-timeout", 45*time.Second, "time a connection has to join a namespace")
	verbose := flag.Bool("v", false, "debug logs")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	io := sori.NewServer(&sori.Options{
		ConnectTimeout:     *connectTimeout,
		DisableServeClient: true,
		Logger:             log,
		Engine: engineio.Options{
			PingInterval: *pingInterval,
			PingTimeout:  *pingTimeout,
		},
	})
	io.OnConnection(setup)
	io.Of("/other").OnConnection(setup)

	private := io.Of("/private")
	private.Use(func(s *sori.Socket) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "let-me-in" {
			return &sori.ConnectError{Message: "not authorized", Data: map[string]any{"code": 4001}}
		}
		return nil
	})
	private.OnConnection(setup)

	io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(setup)

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = io.Close(shutdown)
		_ = hs.Shutdown(shutdown)
	}()
	log.Info("sori-testserver listening", "addr", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("listen", "err", err)
		os.Exit(1)
	}
}

// values decodes every argument, binary as []byte.
func values(a sori.Args) []any {
	v, err := a.Values()
	if err != nil {
		return nil
	}
	return v
}

func errString(err error) any {
	if err == nil {
		return nil
	}
	return err.Error()
}

type askRequest struct {
	Event   string `json:"event"`
	Payload any    `json:"payload"`
	Timeout int    `json:"timeout"` // ms
}

type roomsRequest struct {
	Rooms  []string `json:"rooms"`
	Except []string `json:"except"`
	Event  string   `json:"event"`
	Args   []any    `json:"args"`
}

type socketsRequest struct {
	Room  string   `json:"room"`
	Rooms []string `json:"rooms"`
	Close bool     `json:"close"`
}

// selected is the namespace's sockets in room, or all of them.
func selected(nsp *sori.Namespace, room string) *sori.BroadcastOperator {
	if room == "" {
		return nsp.Except()
	}
	return nsp.In(room)
}

func setup(s *sori.Socket) {
	nsp := s.Namespace()
	var reportAny atomic.Bool

	s.Use(func(event string, _ sori.Args) error {
		if event == "forbidden" {
			return errors.New("forbidden event refused")
		}
		return nil
	})
	s.OnError(func(err error) { _ = s.Emit("error-report", err.Error()) })
	s.OnAny(func(event string, a sori.Args) {
		if reportAny.Load() && event != "report-any" {
			_ = s.Emit("any-in", event, a.Len())
		}
	})
	s.OnAnyOutgoing(func(event string, _ []any) {
		if reportAny.Load() && event != "any-in" && event != "any-out" {
			_ = s.Emit("any-out", event)
		}
	})

	_ = s.On("echo", func(a sori.Args, ack func(...any)) {
		v := values(a)
		_ = s.Emit("echo", v...)
		ack(v...)
	})
	_ = s.On("ack-echo", func(a sori.Args, ack func(...any)) { ack(values(a)...) })
	_ = s.On("no-ack", func(func()) {})
	_ = s.On("typed", func(n int, name string, ack func(string)) { ack(fmt.Sprint(name, n)) })
	_ = s.On("forbidden", func(ack func(string)) { ack("should never run") })
	_ = s.On("panic", func() { panic("handler panicked on purpose") })
	_ = s.On("binary", func() {
		_ = s.Emit("binary", []byte{1, 2, 3}, map[string]any{"nested": []byte("deep"), "n": 1})
	})
	_ = s.On("where", func(ack func(string)) { ack(nsp.Name()) })

	_ = s.On("ask", func(r askRequest, ack func(map[string]any)) {
		// A zero Timeout waits as long as it takes.
		a, err := s.Timeout(time.Duration(r.Timeout)*time.Millisecond).EmitWithAck(context.Background(), r.Event, r.Payload)
		ack(map[string]any{"answer": values(a), "error": errString(err)})
	})
	_ = s.On("ask-callback", func(r askRequest, ack func(map[string]any)) {
		_ = s.Timeout(time.Duration(r.Timeout)*time.Millisecond).Emit(r.Event, r.Payload, func(err error, answer any) {
			_ = s.Emit("ask-result", map[string]any{"answer": answer, "error": errString(err)})
		})
		ack(map[string]any{"sent": true})
	})

	_ = s.On("join", func(rooms []string, ack func([]string)) {
		s.Join(rooms...)
		ack(s.Rooms())
	})
	_ = s.On("leave", func(room string, ack func([]string)) {
		s.Leave(room)
		ack(s.Rooms())
	})
	_ = s.On("to", func(r roomsRequest, ack func()) {
		_ = s.To(r.Rooms...).Except(r.Except...).Emit(r.Event, r.Args...)
		ack()
	})
	_ = s.On("io-to", func(r roomsRequest, ack func()) {
		op := nsp.Except(r.Except...)
		if len(r.Rooms) > 0 {
			op = op.To(r.Rooms...)
		}
		_ = op.Emit(r.Event, r.Args...)
		ack()
	})
	_ = s.On("volatile-one", func() { _ = s.Volatile().Emit("vol", 0) })
	_ = s.On("volatile-burst", func(n int) {
		for i := range n {
			_ = s.Volatile().Emit("vol", i)
		}
		_ = s.Emit("vol-done", n)
	})
	_ = s.On("poll-room", func(r struct {
		Room    string `json:"room"`
		Timeout int    `json:"timeout"`
	}, ack func(map[string]any)) {
		answers, err := nsp.To(r.Room).Timeout(time.Duration(r.Timeout)*time.Millisecond).
			EmitWithAck(context.Background(), "poll", r.Room)
		out := make([]any, 0, len(answers))
		for _, a := range answers {
			if v := values(a); len(v) > 0 {
				out = append(out, v[0])
			}
		}
		ack(map[string]any{"answers": out, "error": errString(err)})
	})
	_ = s.On("disconnect-me", func(close bool) { s.Disconnect(close) })
	_ = s.On("set-data", func(key string, value any, ack func()) {
		s.Data().Set(key, value)
		ack()
	})
	_ = s.On("fetch", func(room string, ack func([]map[string]any)) {
		sockets, err := selected(nsp, room).FetchSockets(context.Background())
		if err != nil {
			ack(nil)
			return
		}
		out := make([]map[string]any, 0, len(sockets))
		for _, r := range sockets {
			out = append(out, map[string]any{"id": r.ID, "rooms": r.Rooms, "data": r.Data})
		}
		ack(out)
	})
	_ = s.On("sockets-join", func(r socketsRequest, ack func(any)) {
		ack(errString(selected(nsp, r.Room).SocketsJoin(context.Background(), r.Rooms...)))
	})
	_ = s.On("sockets-leave", func(r socketsRequest, ack func(any)) {
		ack(errString(selected(nsp, r.Room).SocketsLeave(context.Background(), r.Rooms...)))
	})
	_ = s.On("disconnect-sockets", func(r socketsRequest, ack func(any)) {
		ack(errString(selected(nsp, r.Room).DisconnectSockets(context.Background(), r.Close)))
	})
	_ = s.On("report-any", func(on bool, ack func()) {
		reportAny.Store(on)
		ack()
	})
}
