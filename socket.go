package sori

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// Disconnect reasons, as the reference server names them. The Engine.IO
// reasons ("transport close", "ping timeout", ...) come through as they are.
const (
	reasonServerDisconnect = "server namespace disconnect"
	reasonClientDisconnect = "client namespace disconnect"
	reasonServerShutdown   = "server shutting down"
	reasonParseError       = "parse error"
)

// Socket is one client in one namespace. Its methods are safe for
// concurrent use.
type Socket struct {
	id   string
	nsp  *Namespace
	conn *conn
	hs   *Handshake
	data Data

	mu          sync.Mutex
	connected   bool
	closed      bool
	handlers    []eventHandlers // few per socket: a slice beats a map
	hooks       *hooks          // made on the first hook: most sockets have none
	acks        map[uint64]func(Args)
	connectOnce sync.Once // the CONNECT answer, sent once
	rate        bucket    // incoming events; used by the read path only

	// The executor: handlers run one at a time, in order, on a goroutine
	// that lives only while tasks are queued.
	xmu      sync.Mutex
	tasks    []func()
	draining bool
}

func newSocket(nsp *Namespace, c *conn, auth json.RawMessage) *Socket {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return &Socket{
		id:   base64.RawURLEncoding.EncodeToString(b[:]),
		nsp:  nsp,
		conn: c,
		hs:   newHandshake(c.es.Handshake(), auth),
	}
}

// ID is the socket's id: random, and the name of its private room. It is
// not the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace is the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake describes how the socket connected.
func (s *Socket) Handshake() *Handshake { return s.hs }

// Data is the socket's own store.
func (s *Socket) Data() *Data { return &s.data }

// Transport is the connection's transport: "polling" or "websocket".
func (s *Socket) Transport() string { return s.conn.es.Transport() }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// setConnected marks the socket connected, unless it was closed while its
// middleware ran: then it must not join.
func (s *Socket) setConnected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.connected = true
	return true
}

// Rooms lists the rooms the socket is in, its private room too.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// Join puts the socket in rooms.
// It fails, joining none, when that would pass Options.MaxRoomsPerSocket.
func (s *Socket) Join(rooms ...string) error {
	if !s.Connected() {
		return ErrDisconnected
	}
	if max := s.nsp.srv.opts.MaxRoomsPerSocket; max > 0 && len(rooms) > 0 {
		mine := s.nsp.adapter.SocketRooms(s.id)
		n := len(mine)
		for _, r := range rooms {
			if !slices.Contains(mine, r) {
				n++
			}
		}
		if n > max {
			return ErrTooManyRooms
		}
	}
	s.nsp.adapter.AddAll(s.id, rooms...)
	return nil
}

// Leave takes the socket out of a room.
func (s *Socket) Leave(room string) { s.nsp.adapter.Del(s.id, room) }

// On registers a handler for an event. The handler's parameters are
// decoded from the event's arguments in order: strings, numbers, bools,
// structs, maps, slices, []byte for binary, or Args to decode later. A last
// parameter of func type is the acknowledgement: calling it sends its
// arguments back to the client's callback. The handler may return an
// error, which goes to the OnError handlers, as does a payload that does not
// fit the parameters.
//
// "disconnecting" and "disconnect" handlers take the reason, a string:
// during "disconnecting" the socket is still in its rooms. "error" handlers
// are OnError's.
func (s *Socket) On(event string, fn any) error {
	if event == "error" {
		if f, ok := fn.(func(error)); ok {
			s.OnError(f)
			return nil
		}
		return fmt.Errorf("sori: an error handler is a func(error)")
	}
	h, err := newHandler(fn)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if i := s.handlerIndex(event); i >= 0 {
		s.handlers[i].hs = append(s.handlers[i].hs, h)
	} else {
		s.handlers = append(s.handlers, eventHandlers{event, []*handler{h}})
	}
	s.mu.Unlock()
	return nil
}

// Off removes every handler of an event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	if i := s.handlerIndex(event); i >= 0 {
		s.handlers = slices.Delete(s.handlers, i, i+1)
	}
	s.mu.Unlock()
}

// OnError adds a handler of the socket's errors: handler errors, payloads
// that do not fit a handler, and refusals by per-packet middleware.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.hook().onError = append(s.hook().onError, fn)
	s.mu.Unlock()
}

// OnAny adds a handler that sees every incoming event, before the
// per-packet middleware and the event's own handlers.
func (s *Socket) OnAny(fn func(event string, args Args)) {
	s.mu.Lock()
	s.hook().anyIn = append(s.hook().anyIn, fn)
	s.mu.Unlock()
}

// PrependAny adds a handler of every incoming event, ahead of the others.
func (s *Socket) PrependAny(fn func(event string, args Args)) {
	s.mu.Lock()
	s.hook().anyIn = append([]func(string, Args){fn}, s.hook().anyIn...)
	s.mu.Unlock()
}

// OffAny removes every OnAny handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.hook().anyIn = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler that sees every event the socket emits.
func (s *Socket) OnAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	s.hook().anyOut = append(s.hook().anyOut, fn)
	s.mu.Unlock()
}

// PrependAnyOutgoing adds a handler of outgoing events, ahead of the others.
func (s *Socket) PrependAnyOutgoing(fn func(event string, args []any)) {
	s.mu.Lock()
	s.hook().anyOut = append([]func(string, []any){fn}, s.hook().anyOut...)
	s.mu.Unlock()
}

// OffAnyOutgoing removes every OnAnyOutgoing handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.hook().anyOut = nil
	s.mu.Unlock()
}

// Use adds per-packet middleware: it sees each incoming event before any
// handler, and an error drops the event and goes to the OnError handlers.
func (s *Socket) Use(fn func(event string, args Args) error) {
	s.mu.Lock()
	s.hook().middlewares = append(s.hook().middlewares, fn)
	s.mu.Unlock()
}

// exec queues a task on the socket's executor.
func (s *Socket) exec(task func()) {
	if s.queue(task) {
		go s.drain()
	}
}

// queue adds a task to the executor; true when the caller must start
// draining it.
func (s *Socket) queue(task func()) bool {
	s.nsp.srv.inflight.Add(1)
	s.xmu.Lock()
	defer s.xmu.Unlock()
	s.tasks = append(s.tasks, task)
	if s.draining {
		return false
	}
	s.draining = true
	return true
}

func (s *Socket) drain() {
	for {
		s.xmu.Lock()
		if len(s.tasks) == 0 {
			s.draining = false
			s.tasks = nil
			s.xmu.Unlock()
			return
		}
		task := s.tasks[0]
		s.tasks[0] = nil
		s.tasks = s.tasks[1:]
		s.xmu.Unlock()
		task()
		s.nsp.srv.inflight.Add(-1)
	}
}

// safely runs a user function, turning a panic into an error that is
// logged with what was running.
func (s *Socket) safely(what string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errPanic, p)
			s.nsp.srv.log.Error("socket.io: handler panicked", "event", what, "socket", s.id,
				"nsp", s.nsp.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
	}()
	return fn()
}

func (s *Socket) reportError(err error) {
	s.mu.Lock()
	hs := s.hooks.errorHandlers()
	s.mu.Unlock()
	if len(hs) == 0 {
		s.nsp.srv.log.Debug("socket.io: socket error", "socket", s.id, "err", err)
	}
	for _, fn := range hs {
		_ = s.safely("error", func() error { fn(err); return nil })
	}
}

// onEvent runs the handlers of an incoming event.
func (s *Socket) onEvent(pkt *parser.Packet) {
	args, err := argsFromPacket(pkt)
	if err != nil || args.Len() == 0 {
		s.reportError(fmt.Errorf("sori: malformed event: %v", err))
		return
	}
	var event string
	if err := parser.Unmarshal(args.a.Values[0], nil, &event); err != nil {
		var n json.Number
		if parser.Unmarshal(args.a.Values[0], nil, &n) != nil {
			s.reportError(fmt.Errorf("sori: event name is not a string"))
			return
		}
		event = n.String()
	}
	rest := Args{adapter.Args{Values: args.a.Values[1:], Attachments: args.a.Attachments}}
	s.nsp.srv.stats.eventsIn.Add(1)
	var ack ackFunc
	if pkt.HasID {
		ack = s.ackSender(pkt.ID)
	}
	task := func() { s.dispatch(event, rest, ack) }
	if s.conn.es.InBurst() {
		// The engine's reading goroutine runs it when its burst of reads
		// is over (conn.OnReadIdle): no goroutine to start.
		if s.queue(task) {
			s.conn.ready(s)
		}
		return
	}
	s.exec(task)
}

func (s *Socket) dispatch(event string, args Args, ack ackFunc) {
	s.mu.Lock()
	if !s.connected {
		s.mu.Unlock()
		return
	}
	mws, anyIn, hs := s.hooks.incoming(), s.hooks.any(), s.handlersOf(event)
	s.mu.Unlock()
	// As in the reference, OnAny handlers see every event, those the
	// middleware then refuses too.
	for _, fn := range anyIn {
		_ = s.safely(event, func() error { fn(event, args); return nil })
	}
	for _, mw := range mws {
		if err := s.safely(event, func() error { return mw(event, args) }); err != nil {
			s.reportError(err)
			return
		}
	}
	for _, h := range hs {
		if err := s.safely(event, func() error { return h.call(args, ack) }); err != nil {
			s.reportError(fmt.Errorf("sori: event %q: %w", event, err))
		}
	}
}

// ackSender answers the peer's acknowledgement id, once.
func (s *Socket) ackSender(id uint64) ackFunc {
	var once sync.Once
	return func(args []any) {
		once.Do(func() {
			if args == nil {
				args = []any{}
			}
			err := s.conn.writePacket(&parser.Packet{Type: parser.Ack, Namespace: s.nsp.name,
				ID: id, HasID: true, Data: args}, false)
			if err != nil {
				s.reportError(fmt.Errorf("sori: acknowledgement: %w", err))
			}
		})
	}
}

// expectAck registers fn for the acknowledgement with the id.
func (s *Socket) expectAck(id uint64, fn func(Args)) {
	s.mu.Lock()
	if s.acks == nil {
		s.acks = make(map[uint64]func(Args))
	}
	s.acks[id] = fn
	s.mu.Unlock()
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// onAck runs the callback of an acknowledgement, at once: never behind
// the events, so a handler may wait for one.
func (s *Socket) onAck(pkt *parser.Packet) {
	s.mu.Lock()
	fn, ok := s.acks[pkt.ID]
	delete(s.acks, pkt.ID)
	s.mu.Unlock()
	if !ok || !pkt.HasID {
		return // unknown or reused id: ignored, as in the reference
	}
	args, err := argsFromPacket(pkt)
	if err != nil {
		s.reportError(err)
		return
	}
	_ = s.safely("ack", func() error { fn(args); return nil })
}

// Disconnect disconnects the socket from its namespace; close also closes
// the underlying connection, and with it the client's other namespaces.
func (s *Socket) Disconnect(close bool) { s.disconnect(close, reasonServerDisconnect) }

func (s *Socket) disconnect(close bool, reason string) {
	if !s.Connected() {
		return
	}
	s.sendConnect()
	_ = s.conn.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, false)
	s.onClose(reason)
	if close {
		s.conn.es.Close()
	}
}

// onClose runs disconnecting, leaves every room, then runs disconnect.
func (s *Socket) onClose(reason string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	was := s.connected
	s.mu.Unlock()
	if was {
		s.nsp.srv.stats.disconnect(reason)
	}
	s.conn.remove(s)
	if !was {
		return
	}
	s.exec(func() {
		s.fire("disconnecting", reason)
		s.mu.Lock()
		s.connected = false
		s.acks = nil
		s.mu.Unlock()
		s.nsp.adapter.DelAll(s.id)
		s.nsp.remove(s)
		s.fire("disconnect", reason)
	})
}

func (s *Socket) fire(event, reason string) {
	s.mu.Lock()
	hs := s.handlersOf(event)
	s.mu.Unlock()
	args := argsOf(reason)
	for _, h := range hs {
		if err := s.safely(event, func() error { return h.call(args, nil) }); err != nil {
			s.reportError(err)
		}
	}
}

// info describes the socket for FetchSockets.
func (s *Socket) info() adapter.SocketInfo {
	hs, _ := json.Marshal(s.hs)
	data, _ := json.Marshal(&s.data)
	rooms := s.Rooms()
	if rooms == nil {
		rooms = []string{}
	}
	return adapter.SocketInfo{ID: s.id, Handshake: hs, Rooms: slices.Clone(rooms), Data: data, Local: true}
}

// eventHandlers are the handlers of one event.
type eventHandlers struct {
	event string
	hs    []*handler
}

// handlerIndex finds the handlers of event; s.mu must be held.
func (s *Socket) handlerIndex(event string) int {
	for i := range s.handlers {
		if s.handlers[i].event == event {
			return i
		}
	}
	return -1
}

// handlersOf returns the handlers of event; s.mu must be held.
func (s *Socket) handlersOf(event string) []*handler {
	if i := s.handlerIndex(event); i >= 0 {
		return s.handlers[i].hs
	}
	return nil
}

// sendConnect answers the client's CONNECT, once.
func (s *Socket) sendConnect() {
	s.connectOnce.Do(func() {
		_ = s.conn.writePacket(&parser.Packet{Type: parser.Connect, Namespace: s.nsp.name,
			Data: map[string]string{"sid": s.id}}, false)
	})
}

// hooks are a socket's handlers beside its events' own, rarely set: kept
// apart so that a socket without any pays one pointer.
type hooks struct {
	anyIn       []func(event string, args Args)
	anyOut      []func(event string, args []any)
	middlewares []func(event string, args Args) error
	onError     []func(error)
}

// hook returns the socket's hooks, made if need be; s.mu must be held.
func (s *Socket) hook() *hooks {
	if s.hooks == nil {
		s.hooks = &hooks{}
	}
	return s.hooks
}

// The readers below take a nil *hooks (no hook set) as empty; s.mu must
// be held.

func (h *hooks) errorHandlers() []func(error) {
	if h == nil {
		return nil
	}
	return h.onError
}

func (h *hooks) incoming() []func(string, Args) error {
	if h == nil {
		return nil
	}
	return h.middlewares
}

func (h *hooks) any() []func(string, Args) {
	if h == nil {
		return nil
	}
	return h.anyIn
}

func (h *hooks) outgoing() []func(string, []any) {
	if h == nil {
		return nil
	}
	return h.anyOut
}
