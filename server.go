package sori

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sori-dev/sori/clientbundle"
	"github.com/sori-dev/sori/engineio"
)

// Server is a Socket.IO server and an http.Handler. Make one with
// NewServer.
type Server struct {
	opts   Options
	engine *engineio.Server
	log    *slog.Logger

	mu         sync.RWMutex
	namespaces map[string]*Namespace
	parents    []*parentNamespace
	closed     bool

	stats    counters
	inflight atomic.Int64 // handler tasks queued or running
}

// NewServer returns a server with opts; nil means every default. Its main
// namespace "/" exists from the start.
func NewServer(opts *Options) *Server {
	srv := &Server{opts: opts.withDefaults(), namespaces: make(map[string]*Namespace)}
	srv.log = srv.opts.Logger
	srv.engine = engineio.NewServer(&srv.opts.Engine)
	srv.engine.OnConnection(srv.newConn)
	srv.Of("/")
	if !srv.opts.DisableServeClient && !clientbundle.Available() {
		srv.log.Warn("socket.io client bundle not embedded; build with `make build` to serve it")
	}
	return srv
}

// Engine is the Engine.IO server beneath.
func (srv *Server) Engine() *engineio.Server { return srv.engine }

// Path is the path the server answers under.
func (srv *Server) Path() string { return srv.opts.Path }

// ServeHTTP serves the client bundle and the Engine.IO protocol.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !srv.opts.DisableServeClient && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if name, ok := strings.CutPrefix(r.URL.Path, srv.opts.Path); ok && clientbundle.Serve(w, r, name) {
			return
		}
	}
	srv.engine.ServeHTTP(w, r)
}

// Of returns the namespace with the name, creating it if need be. A name
// without a leading slash gets one.
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return srv.ofLocked(name, nil)
}

func (srv *Server) ofLocked(name string, parent *parentNamespace) *Namespace {
	if nsp, ok := srv.namespaces[name]; ok {
		return nsp
	}
	nsp := newNamespace(srv, name, parent)
	srv.namespaces[name] = nsp
	return nsp
}

// OfFunc makes namespaces on demand: a client connecting to a name that
// does not exist yet gets one when match approves it, with the middleware
// and handlers of the returned ParentNamespace.
func (srv *Server) OfFunc(match func(name string, auth []byte) bool) *ParentNamespace {
	p := &parentNamespace{match: match}
	p.ParentNamespace = &ParentNamespace{srv: srv, p: p}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p.ParentNamespace
}

// OfRegexp is OfFunc for the names re matches.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(name string, _ []byte) bool { return re.MatchString(name) })
}

// lookup finds or makes the namespace a client connects to; nil when
// there is none.
func (srv *Server) lookup(name string, auth []byte) *Namespace {
	srv.mu.RLock()
	nsp, ok := srv.namespaces[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if ok {
		return nsp
	}
	for _, p := range parents {
		if p.match(name, auth) {
			srv.mu.Lock()
			nsp := srv.ofLocked(name, p)
			srv.mu.Unlock()
			return nsp
		}
	}
	return nil
}

// Sockets is the main namespace "/".
func (srv *Server) Sockets() *Namespace { return srv.Of("/") }

// OnConnection adds a connection handler to the main namespace.
func (srv *Server) OnConnection(fn func(*Socket)) { srv.Sockets().OnConnection(fn) }

// Use adds middleware to the main namespace.
func (srv *Server) Use(fn func(*Socket) error) { srv.Sockets().Use(fn) }

// Emit sends an event to every socket of the main namespace.
func (srv *Server) Emit(event string, args ...any) error {
	return srv.Sockets().Emit(event, args...)
}

// To selects the sockets of the main namespace in rooms.
func (srv *Server) To(rooms ...string) *BroadcastOperator { return srv.Sockets().To(rooms...) }

// In is To.
func (srv *Server) In(rooms ...string) *BroadcastOperator { return srv.To(rooms...) }

// Except leaves out the sockets of the main namespace in rooms.
func (srv *Server) Except(rooms ...string) *BroadcastOperator {
	return srv.Sockets().Except(rooms...)
}

// Close shuts the server down: it lets the handlers in flight finish (their
// acknowledgements go out), disconnects every socket ("server shutting
// down"), flushes and closes the connections and waits for their
// goroutines, all within ctx. The clients see their transport close and
// reconnect, to this server restarted or to another node of a cluster.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	srv.closed = true
	all := make([]*Namespace, 0, len(srv.namespaces))
	for _, nsp := range srv.namespaces {
		all = append(all, nsp)
	}
	srv.mu.Unlock()
	srv.waitHandlers(ctx)
	for _, nsp := range all {
		// As in the reference, no DISCONNECT packet: the clients see their
		// transport close and reconnect, to this server restarted or to
		// another node of the cluster.
		for _, s := range nsp.all() {
			s.onClose(reasonServerShutdown)
		}
	}
	err := srv.engine.Close(ctx)
	for _, nsp := range all {
		_ = nsp.adapter.Close()
	}
	return err
}

func (srv *Server) connectTimeout() time.Duration { return srv.opts.ConnectTimeout }

// waitHandlers waits until no handler runs or is queued, or ctx ends.
func (srv *Server) waitHandlers(ctx context.Context) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for srv.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// The operations below are the main namespace's, as on the reference's
// Server.

// Send emits a "message" event to every socket of the main namespace.
func (srv *Server) Send(args ...any) error { return srv.Emit("message", args...) }

// EmitWithAck emits to every socket of the main namespace and gathers
// their acknowledgements.
func (srv *Server) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return srv.Sockets().EmitWithAck(ctx, event, args...)
}

// Volatile marks a broadcast to the main namespace droppable for busy clients.
func (srv *Server) Volatile() *BroadcastOperator { return srv.Sockets().Volatile() }

// Compress sets whether a broadcast to the main namespace may be compressed.
func (srv *Server) Compress(on bool) *BroadcastOperator { return srv.Sockets().Compress(on) }

// Local keeps a broadcast to the main namespace on this server.
func (srv *Server) Local() *BroadcastOperator { return srv.Sockets().Local() }

// Timeout bounds the wait for acknowledgements of a broadcast.
func (srv *Server) Timeout(d time.Duration) *BroadcastOperator { return srv.Sockets().Timeout(d) }

// FetchSockets describes every socket of the main namespace, across the
// cluster.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.Sockets().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(ctx context.Context, rooms ...string) error {
	return srv.Sockets().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(ctx context.Context, rooms ...string) error {
	return srv.Sockets().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(ctx context.Context, close bool) error {
	return srv.Sockets().DisconnectSockets(ctx, close)
}

// ServerSideEmit sends an event to the other servers of the cluster.
func (srv *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return srv.Sockets().ServerSideEmit(ctx, event, args...)
}

// ServerSideEmitWithAck sends an event to the other servers and gathers
// their answers.
func (srv *Server) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return srv.Sockets().ServerSideEmitWithAck(ctx, event, args...)
}

// OnServerSideEmit handles events the other servers send with
// ServerSideEmit (the reference's io.on(event)).
func (srv *Server) OnServerSideEmit(event string, fn any) error {
	return srv.Sockets().OnServerSideEmit(event, fn)
}
