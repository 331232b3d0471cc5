// Command sori-cluster-node is a Sori server on the Redis adapter that the
// cluster tests (test/redis-cluster.test.mjs) drive beside Node servers.
//
//	sori-cluster-node -addr 127.0.0.1:3001 -redis redis://127.0.0.1:6379 [-name sori]
//
// Namespace "/": a socket keeps its "name" query parameter in its data and
// joins the rooms of its "rooms" parameter (comma-separated); it may emit
// join(room, ack) and leave(room, ack). Server-side events: "hello" is
// recorded, "ping"(arg, ack) answers "pong from <name>: <arg>".
//
// Namespace "/control" runs the cluster operations for the test, each an
// event with an acknowledgement that gets {ok, ...} or {error}: emit,
// emitWithAck, fetchSockets, remote (emit/join/leave/disconnect on one
// fetched socket), socketsJoin, socketsLeave, disconnectSockets,
// serverSideEmit, serverSideEmitWithAck, allRooms, serverCount, received.
package main

import (
	"context"
	"encoding/json"
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
	"github.com/sori-dev/sori/redisadapter"
)

// op chooses sockets and flags, as the test sends them.
type op struct {
	Rooms     []string `json:"rooms"`
	Except    []string `json:"except"`
	Local     bool     `json:"local"`
	Volatile  bool     `json:"volatile"`
	TimeoutMs int      `json:"timeoutMs"`
	Event     string   `json:"event"`
	Args      []any    `json:"args"`
	Join      []string `json:"join"`  // rooms to join or leave
	Close     bool     `json:"close"` // for disconnects
	ID        string   `json:"id"`    // for remote
	Action    string   `json:"action"`
}

func (o *op) operator(nsp *sori.Namespace) *sori.BroadcastOperator {
	b := nsp.To(o.Rooms...)
	if len(o.Except) > 0 {
		b = b.Except(o.Except...)
	}
	if o.Local {
		b = b.Local()
	}
	if o.Volatile {
		b = b.Volatile()
	}
	if o.TimeoutMs > 0 {
		b = b.Timeout(time.Duration(o.TimeoutMs) * time.Millisecond)
	}
	return b
}

func values(list []sori.Args) []any {
	out := make([]any, 0, len(list))
	for _, a := range list {
		v, err := a.Values()
		if err != nil || len(v) == 0 {
			out = append(out, nil)
			continue
		}
		out = append(out, v[0])
	}
	return out
}

func result(err error, kv ...any) map[string]any {
	m := map[string]any{"ok": err == nil}
	if err != nil {
		m["error"] = err.Error()
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "listen address")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379", "Redis URL")
	name := flag.String("name", "sori", "this server's name in answers")
	timeout := flag.Duration("requests-timeout", 5*time.Second, "cluster requests timeout")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ropts, err := redis.ParseURL(*redisURL)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sori-cluster-node: bad -redis: %v\n", err)
		os.Exit(2)
	}
	rc := redis.NewClient(ropts)
	defer rc.Close()
	factory, err := redisadapter.New(rc, &redisadapter.Options{Logger: log, RequestsTimeout: *timeout})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sori-cluster-node: %v\n", err)
		os.Exit(1)
	}
	io := sori.NewServer(&sori.Options{Adapter: factory, Logger: log, DisableServeClient: true})
	root := io.Sockets()

	var mu sync.Mutex
	var received []any
	io.OnConnection(func(s *sori.Socket) {
		q := s.Handshake().Query()
		s.Data().Set("name", q.Get("name"))
		if rooms := q.Get("rooms"); rooms != "" {
			s.Join(strings.Split(rooms, ",")...)
		}
		_ = s.On("join", func(room string, ack func(...any)) { s.Join(room); ack() })
		_ = s.On("leave", func(room string, ack func(...any)) { s.Leave(room); ack() })
	})
	_ = root.OnServerSideEmit("hello", func(args sori.Args) {
		v, _ := args.Values()
		mu.Lock()
		received = append(received, v)
		mu.Unlock()
	})
	_ = root.OnServerSideEmit("ping", func(arg any, ack func(...any)) {
		ack(fmt.Sprintf("pong from %s: %v", *name, arg))
	})

	ctl := io.Of("/control")
	ctl.OnConnection(func(s *sori.Socket) {
		ctx := func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		}
		handle := func(event string, fn func(o *op) map[string]any) {
			_ = s.On(event, func(o op, ack func(...any)) { ack(fn(&o)) })
		}
		handle("emit", func(o *op) map[string]any {
			return result(o.operator(root).Emit(o.Event, o.Args...))
		})
		handle("emitWithAck", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			res, err := o.operator(root).EmitWithAck(c, o.Event, o.Args...)
			return result(err, "responses", values(res))
		})
		handle("fetchSockets", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			socks, err := o.operator(root).FetchSockets(c)
			out := make([]map[string]any, 0, len(socks))
			for _, r := range socks {
				var data any
				_ = r.DataInto(&data)
				hs, _ := json.Marshal(r.Handshake)
				out = append(out, map[string]any{"id": r.ID, "rooms": r.Rooms, "data": data, "local": r.Local,
					"handshake": json.RawMessage(hs)})
			}
			return result(err, "sockets", out)
		})
		handle("remote", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			socks, err := root.In(o.ID).FetchSockets(c)
			if err != nil {
				return result(err)
			}
			if len(socks) != 1 {
				return result(fmt.Errorf("socket %s not found (%d)", o.ID, len(socks)))
			}
			r := socks[0]
			switch o.Action {
			case "emit":
				err = r.Emit(o.Event, o.Args...)
			case "join":
				err = r.Join(c, o.Join...)
			case "leave":
				err = r.Leave(c, o.Join...)
			case "disconnect":
				err = r.Disconnect(c, o.Close)
			default:
				err = errors.New("unknown action " + o.Action)
			}
			return result(err)
		})
		handle("socketsJoin", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			return result(o.operator(root).SocketsJoin(c, o.Join...))
		})
		handle("socketsLeave", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			return result(o.operator(root).SocketsLeave(c, o.Join...))
		})
		handle("disconnectSockets", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			return result(o.operator(root).DisconnectSockets(c, o.Close))
		})
		handle("serverSideEmit", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			return result(root.ServerSideEmit(c, o.Event, o.Args...))
		})
		handle("serverSideEmitWithAck", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			res, err := root.ServerSideEmitWithAck(c, o.Event, o.Args...)
			return result(err, "responses", values(res))
		})
		handle("allRooms", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			rooms, err := root.Adapter().AllRooms(c)
			return result(err, "rooms", rooms)
		})
		handle("serverCount", func(o *op) map[string]any {
			c, cancel := ctx()
			defer cancel()
			n, err := root.Adapter().ServerCount(c)
			return result(err, "count", n)
		})
		handle("received", func(o *op) map[string]any {
			mu.Lock()
			defer mu.Unlock()
			return result(nil, "events", append([]any{}, received...))
		})
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sori-cluster-node: listen: %v\n", err)
		os.Exit(1)
	}
	hs := &http.Server{Handler: io, ReadHeaderTimeout: 10 * time.Second}
	log.Info("sori-cluster-node listening", "addr", ln.Addr().String(), "name", *name)

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
		fmt.Fprintf(os.Stderr, "sori-cluster-node: %v\n", err)
		os.Exit(1)
	}
}
