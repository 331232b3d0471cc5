package sori

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// Namespace is a channel of its own over the server's connections: its
// sockets, rooms, middleware and handlers are apart from those of other
// namespaces. It implements adapter.Namespace for its adapter.
type Namespace struct {
	name    string
	srv     *Server
	parent  *parentNamespace
	adapter adapter.Adapter
	ackIDs  atomic.Uint64

	mu             sync.RWMutex
	sockets        map[string]*Socket
	middlewares    []func(*Socket) error
	onConnection   []func(*Socket)
	serverHandlers map[string][]*handler
}

func newNamespace(srv *Server, name string, parent *parentNamespace) *Namespace {
	nsp := &Namespace{name: name, srv: srv, parent: parent, sockets: make(map[string]*Socket)}
	nsp.adapter = srv.opts.Adapter(nsp)
	return nsp
}

// Name is the namespace's name, such as "/" or "/admin".
func (nsp *Namespace) Name() string { return nsp.name }

// Server is the server the namespace belongs to.
func (nsp *Namespace) Server() *Server { return nsp.srv }

// Adapter is the namespace's adapter: its rooms, and its cluster.
func (nsp *Namespace) Adapter() adapter.Adapter { return nsp.adapter }

// Use adds middleware, run in order on each connecting socket before it
// joins; an error refuses the socket with CONNECT_ERROR (a *ConnectError
// also sends its Data).
func (nsp *Namespace) Use(fn func(*Socket) error) {
	nsp.mu.Lock()
	nsp.middlewares = append(nsp.middlewares, fn)
	nsp.mu.Unlock()
}

// OnConnection adds a handler run for each socket that joins.
func (nsp *Namespace) OnConnection(fn func(*Socket)) {
	nsp.mu.Lock()
	nsp.onConnection = append(nsp.onConnection, fn)
	nsp.mu.Unlock()
}

// Socket returns the local socket with the id, or nil.
func (nsp *Namespace) Socket(id string) *Socket {
	nsp.mu.RLock()
	defer nsp.mu.RUnlock()
	return nsp.sockets[id]
}

// Len is the number of local sockets.
func (nsp *Namespace) Len() int {
	nsp.mu.RLock()
	defer nsp.mu.RUnlock()
	return len(nsp.sockets)
}

func (nsp *Namespace) all() []*Socket {
	nsp.mu.RLock()
	defer nsp.mu.RUnlock()
	out := make([]*Socket, 0, len(nsp.sockets))
	for _, s := range nsp.sockets {
		out = append(out, s)
	}
	return out
}

// admit runs the middleware on s, then joins it: its private room, the
// CONNECT answer, and the connection handlers. It runs on s's executor.
func (nsp *Namespace) admit(s *Socket) {
	nsp.mu.RLock()
	mws := nsp.middlewares
	handlers := nsp.onConnection
	nsp.mu.RUnlock()
	if p := nsp.parent; p != nil {
		p.mu.RLock()
		mws = append(append([]func(*Socket) error(nil), p.middlewares...), mws...)
		handlers = append(append([]func(*Socket){}, p.onConnection...), handlers...)
		p.mu.RUnlock()
	}
	for _, mw := range mws {
		if err := s.safely("middleware", func() error { return mw(s) }); err != nil {
			s.conn.remove(s)
			body := map[string]any{"message": err.Error()}
			if ce, ok := err.(*ConnectError); ok && ce.Data != nil {
				body["data"] = ce.Data
			}
			_ = s.conn.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: nsp.name, Data: body}, false)
			return
		}
	}
	s.conn.mu.Lock()
	closed := s.conn.closed
	s.conn.mu.Unlock()
	if closed || !s.setConnected() {
		return // the client left while the middleware ran
	}
	nsp.mu.Lock()
	nsp.sockets[s.id] = s
	nsp.mu.Unlock()
	nsp.adapter.AddAll(s.id, s.id)
	s.conn.connected()
	// The CONNECT answer goes out once the connection handlers have run, or
	// before the first packet one of them sends: a client that sees it
	// knows the rooms they joined, as with the reference, and a handler may
	// still wait on an acknowledgement.
	for _, fn := range handlers {
		_ = s.safely("connection", func() error { fn(s); return nil })
	}
	s.sendConnect()
}

func (nsp *Namespace) remove(s *Socket) {
	nsp.mu.Lock()
	if nsp.sockets[s.id] == s {
		delete(nsp.sockets, s.id)
	}
	nsp.mu.Unlock()
}

// Deliver implements adapter.Namespace: it encodes pkt once and queues the
// same bytes for every receiver.
func (nsp *Namespace) Deliver(pkt *parser.Packet, ids iter.Seq[string], flags adapter.Flags,
	onAck func(id string, args adapter.Args)) int {
	pkt.Namespace = nsp.name
	msgs, err := encode(pkt)
	if err != nil {
		nsp.srv.log.Error("socket.io: broadcast not encodable", "nsp", nsp.name, "err", err)
		return 0
	}
	nsp.mu.RLock()
	receivers := make([]*Socket, 0, 16)
	for id := range ids {
		if s := nsp.sockets[id]; s != nil {
			receivers = append(receivers, s)
		}
	}
	nsp.mu.RUnlock()
	if onAck != nil {
		for _, s := range receivers {
			s.expectAck(pkt.ID, func(a Args) { onAck(s.id, a.a) })
		}
	}
	// Queued, not written here: each receiver's writer goroutine writes,
	// on every core, batching what piles up under load.
	n := 0
	for _, s := range receivers {
		s.sendConnect() // a socket still in its connection handlers
		if s.conn.queue(msgs, flags.Volatile) == nil {
			n++
		}
	}
	nsp.srv.stats.eventsOut.Add(uint64(n))
	return n
}

// Info implements adapter.Namespace.
func (nsp *Namespace) Info(id string) (adapter.SocketInfo, bool) {
	s := nsp.Socket(id)
	if s == nil {
		return adapter.SocketInfo{}, false
	}
	return s.info(), true
}

// Disconnect implements adapter.Namespace.
func (nsp *Namespace) Disconnect(id string, close bool) {
	if s := nsp.Socket(id); s != nil {
		s.Disconnect(close)
	}
}

// NextAckID implements adapter.Namespace.
func (nsp *Namespace) NextAckID() uint64 { return nsp.ackIDs.Add(1) - 1 }

// ReceiveServerSideEmit implements adapter.Namespace: it runs the handlers
// that OnServerSideEmit registered for the event.
func (nsp *Namespace) ReceiveServerSideEmit(args adapter.Args, ack func([]any)) {
	a := Args{args}
	var event string
	if a.Len() == 0 || a.Decode(&event) != nil {
		return
	}
	nsp.mu.RLock()
	hs := nsp.serverHandlers[event]
	nsp.mu.RUnlock()
	rest := Args{adapter.Args{Values: args.Values[1:], Attachments: args.Attachments}}
	var af ackFunc
	if ack != nil {
		var once sync.Once
		af = func(v []any) { once.Do(func() { ack(v) }) }
	}
	for _, h := range hs {
		if err := h.call(rest, af); err != nil {
			nsp.srv.log.Warn("socket.io: server-side event handler failed", "event", event, "err", err)
		}
	}
}

// OnServerSideEmit registers a handler for events that other servers of
// the cluster send with ServerSideEmit (the reference's io.on(event)). Its
// parameters are decoded like a socket event's, with an optional
// acknowledgement last.
func (nsp *Namespace) OnServerSideEmit(event string, fn any) error {
	h, err := newHandler(fn)
	if err != nil {
		return err
	}
	nsp.mu.Lock()
	if nsp.serverHandlers == nil {
		nsp.serverHandlers = make(map[string][]*handler)
	}
	nsp.serverHandlers[event] = append(nsp.serverHandlers[event], h)
	nsp.mu.Unlock()
	return nil
}

// ServerSideEmit sends an event to the other servers of the cluster. With
// an acknowledgement wanted, it waits for every server's answer or ctx.
func (nsp *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if reserved[event] {
		return ErrReservedEvent
	}
	_, err := nsp.adapter.ServerSideEmit(ctx, append([]any{event}, args...), false)
	return err
}

// ServerSideEmitWithAck is ServerSideEmit waiting for the answers of the
// other servers, until they all answered or ctx ends.
func (nsp *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if reserved[event] {
		return nil, ErrReservedEvent
	}
	res, err := nsp.adapter.ServerSideEmit(ctx, append([]any{event}, args...), true)
	out := make([]Args, len(res))
	for i, r := range res {
		out[i] = Args{r}
	}
	return out, err
}

// The broadcast operations of the whole namespace.

func (nsp *Namespace) op() *BroadcastOperator { return &BroadcastOperator{nsp: nsp} }

// To selects the sockets in rooms.
func (nsp *Namespace) To(rooms ...string) *BroadcastOperator { return nsp.op().To(rooms...) }

// In is To.
func (nsp *Namespace) In(rooms ...string) *BroadcastOperator { return nsp.op().To(rooms...) }

// Except leaves out the sockets in rooms.
func (nsp *Namespace) Except(rooms ...string) *BroadcastOperator { return nsp.op().Except(rooms...) }

// Volatile marks the broadcast droppable for busy clients.
func (nsp *Namespace) Volatile() *BroadcastOperator { return nsp.op().Volatile() }

// Compress sets whether the broadcast may be compressed.
func (nsp *Namespace) Compress(on bool) *BroadcastOperator { return nsp.op().Compress(on) }

// Local keeps the broadcast on this server.
func (nsp *Namespace) Local() *BroadcastOperator { return nsp.op().Local() }

// Timeout bounds the wait for acknowledgements of EmitWithAck.
func (nsp *Namespace) Timeout(d time.Duration) *BroadcastOperator { return nsp.op().Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (nsp *Namespace) Emit(event string, args ...any) error { return nsp.op().Emit(event, args...) }

// EmitWithAck sends an event to every socket and gathers their
// acknowledgements, until all came or ctx ends.
func (nsp *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return nsp.op().EmitWithAck(ctx, event, args...)
}

// FetchSockets describes every socket of the namespace, across the cluster.
func (nsp *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return nsp.op().FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms, across the cluster.
func (nsp *Namespace) SocketsJoin(ctx context.Context, rooms ...string) error {
	return nsp.op().SocketsJoin(ctx, rooms...)
}

// SocketsLeave makes every socket leave rooms, across the cluster.
func (nsp *Namespace) SocketsLeave(ctx context.Context, rooms ...string) error {
	return nsp.op().SocketsLeave(ctx, rooms...)
}

// DisconnectSockets disconnects every socket, across the cluster.
func (nsp *Namespace) DisconnectSockets(ctx context.Context, close bool) error {
	return nsp.op().DisconnectSockets(ctx, close)
}

var _ adapter.Namespace = (*Namespace)(nil)

// Send emits a "message" event to every socket of the namespace.
func (nsp *Namespace) Send(args ...any) error { return nsp.Emit("message", args...) }
