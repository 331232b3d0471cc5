package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	eparser "github.com/sori-dev/sori/engineio/parser"
	"github.com/sori-dev/sori/socketio/parser"
)

// Socket is the client of one namespace, over its Manager's connection.
// Its methods are safe for concurrent use.
//
// Besides the server's events, a Socket has three of its own: "connect"
// func(), "connect_error" func(error) (a *ConnectError when the server
// refused, else the connection's error) and "disconnect" func(reason
// string), the reason being one of "io server disconnect" (the server
// disconnected the socket: no reconnection), "io client disconnect",
// "ping timeout", "transport close", "transport error" and "parse error".
//
// Handlers run one at a time, in the order their packets came, on a
// goroutine apart from the connection's, so they may block, even on
// EmitWithAck.
type Socket struct {
	m      *Manager
	nsp    string
	auth   any
	active atomic.Bool // wants to be connected: Connect was called, and no disconnect since

	mu        sync.Mutex
	id        string
	connected bool
	sentOn    *engine // the session its CONNECT went on
	handlers  map[string][]*handler
	local     map[string][]any // connect, connect_error, disconnect
	anyIn     []func(event string, args Args)
	onErr     []func(error)
	nextID    uint64
	acks      map[uint64]*pendingAck
	buffer    []buffered // emitted while not connected
	waiters   []chan error
}

// buffered is an encoded packet waiting for the connection.
type buffered struct {
	ps    []eparser.Packet
	id    uint64
	hasID bool
}

// pendingAck waits for the server's acknowledgement of an emit: a
// callback, or a channel for EmitWithAck.
type pendingAck struct {
	cb    *handler
	ch    chan ackResult
	timer *time.Timer
}

type ackResult struct {
	args Args
	err  error
}

// Dial connects to the namespace of url (its path, "/" when empty) and
// returns once the socket is connected. It fails with the first error:
// the connection's, the server's refusal (a *ConnectError), or ctx's;
// reconnection only applies once connected. Close the Socket to end it.
func Dial(ctx context.Context, url string, opts *Options) (*Socket, error) {
	_, nsp, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	m, err := NewManager(url, opts)
	if err != nil {
		return nil, err
	}
	s := m.Socket(nsp, nil)
	ch := s.addWaiter()
	if err := s.Connect(); err != nil {
		_ = m.Close()
		return nil, err
	}
	select {
	case err = <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		_ = m.Close()
		return nil, err
	}
	return s, nil
}

// Connect is the JS client's io(url): it returns the Socket of url's
// namespace at once and connects in the background, with reconnection as
// Options say; "connect" and "connect_error" tell how it goes. Handlers
// registered right after it returns may miss the first of those events:
// to be sure to see them, make the Socket with NewManager(url,
// opts).Socket(nsp, nil), register, then call its Connect.
func Connect(url string, opts *Options) (*Socket, error) {
	_, nsp, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	m, err := NewManager(url, opts)
	if err != nil {
		return nil, err
	}
	s := m.Socket(nsp, nil)
	return s, s.Connect()
}

// Manager is the socket's connection, shared with the other namespaces
// of the same Manager.
func (s *Socket) Manager() *Manager { return s.m }

// Namespace is the socket's namespace.
func (s *Socket) Namespace() string { return s.nsp }

// ID is the socket's id, given by the server at each connection; "" while
// disconnected.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected
}

// Connect connects the socket, or connects it again after a disconnect;
// it returns at once ("connect" tells when it is done).
func (s *Socket) Connect() error {
	s.mu.Lock()
	if s.connected {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	s.active.Store(true)
	return s.m.open(s)
}

// Disconnect leaves the namespace ("io client disconnect"); the last
// socket of a Manager to leave closes the connection. It does not wait;
// Close does.
func (s *Socket) Disconnect() {
	s.active.Store(false)
	s.mu.Lock()
	was := s.connected
	if was {
		if e := s.m.engine(); e != nil {
			_ = s.writeLocked(e, &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
		}
	}
	s.leaveLocked(ErrDisconnected)
	s.mu.Unlock()
	if was {
		s.fireLocal("disconnect", nil, nil, "io client disconnect")
	}
	s.m.maybeCloseIdle()
}

// Close disconnects the socket and, when no other socket of its Manager
// is active, closes the Manager, waiting for its goroutines (see
// Manager.Close).
func (s *Socket) Close() error {
	s.Disconnect()
	s.m.mu.Lock()
	idle := true
	for _, o := range s.m.sockets {
		if o.active.Load() {
			idle = false
		}
	}
	s.m.mu.Unlock()
	if idle {
		return s.m.Close()
	}
	return nil
}

// leaveLocked marks the socket disconnected: pending acknowledgements of
// packets sent fail with ErrDisconnected, Dial's waiters with err.
func (s *Socket) leaveLocked(err error) {
	s.connected = false
	s.id = ""
	s.sentOn = nil
	s.clearAcksLocked()
	for _, ch := range s.waiters {
		ch <- err
	}
	s.waiters = nil
}

// On registers a handler of an event. Its parameters are decoded from the
// event's arguments in order, as the server's handlers are: strings,
// numbers, bools, structs, maps, slices, []byte for binary, or a single
// Args to decode later; a trailing ...T takes the rest. When the server
// asks for an acknowledgement, a last parameter of func type sends its
// arguments back. A handler may return an error; it goes to the OnError
// handlers, as does a payload that does not fit the parameters.
//
// "connect" takes func(), "connect_error" func(error), "disconnect"
// func(reason string).
func (s *Socket) On(event string, fn any) error {
	switch event {
	case "connect", "connect_error", "disconnect":
		if err := checkLocal(event, fn); err != nil {
			return err
		}
		s.mu.Lock()
		if s.local == nil {
			s.local = make(map[string][]any)
		}
		s.local[event] = append(s.local[event], fn)
		s.mu.Unlock()
		return nil
	}
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	h, err := newHandler(fn, false)
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.handlers == nil {
		s.handlers = make(map[string][]*handler)
	}
	s.handlers[event] = append(s.handlers[event], h)
	s.mu.Unlock()
	return nil
}

// Off removes every handler of an event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	delete(s.handlers, event)
	delete(s.local, event)
	s.mu.Unlock()
}

// OnAny adds a handler that sees every event from the server, before the
// event's own handlers.
func (s *Socket) OnAny(fn func(event string, args Args)) {
	s.mu.Lock()
	s.anyIn = append(s.anyIn, fn)
	s.mu.Unlock()
}

// OnError adds a handler of the errors of the socket's handlers: returned
// errors, panics, and payloads that do not fit. Without one they are
// logged.
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.onErr = append(s.onErr, fn)
	s.mu.Unlock()
}

// Emitter emits with flags: see Socket.Timeout and Socket.Volatile.
type Emitter struct {
	s        *Socket
	timeout  time.Duration
	volatile bool
}

// Timeout bounds the wait for the acknowledgement: an acknowledgement
// callback whose first parameter is an error gets ErrAckTimeout, and
// EmitWithAck returns it.
func (s *Socket) Timeout(d time.Duration) Emitter { return Emitter{s: s, timeout: d} }

// Volatile drops the event, rather than buffering it, when the socket is
// not connected.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Timeout: see Socket.Timeout.
func (e Emitter) Timeout(d time.Duration) Emitter { e.timeout = d; return e }

// Volatile: see Socket.Volatile.
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Emit sends an event with any number of JSON-able arguments; []byte
// values anywhere in them go as binary. When the last argument is a
// function, it is the acknowledgement callback: its parameters are decoded
// from the server's answer like a handler's, and a first parameter of type
// error gets ErrAckTimeout (with Timeout) or ErrDisconnected instead.
// While the socket is not connected, events wait in a buffer (see
// Options.MaxBuffered) and go out once it is.
func (s *Socket) Emit(event string, args ...any) error { return Emitter{s: s}.Emit(event, args...) }

// EmitWithAck sends an event and waits for the server's acknowledgement,
// ctx's end, or the socket's disconnection (ErrDisconnected).
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return Emitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Send emits a "message" event.
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// Emit: see Socket.Emit.
func (e Emitter) Emit(event string, args ...any) error {
	if n := len(args); n > 0 && args[n-1] != nil && reflect.TypeOf(args[n-1]).Kind() == reflect.Func {
		cb, err := newHandler(args[n-1], true)
		if err != nil {
			return err
		}
		if cb.Ack != nil {
			return fmt.Errorf("socket.io client: an acknowledgement callback cannot take an acknowledgement")
		}
		_, err = e.emit(event, args[:n-1], &pendingAck{cb: cb})
		return err
	}
	_, err := e.emit(event, args, nil)
	return err
}

// EmitWithAck: see Socket.EmitWithAck.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	pa := &pendingAck{ch: make(chan ackResult, 1)}
	id, err := e.emit(event, args, pa)
	if err != nil {
		return Args{}, err
	}
	select {
	case r := <-pa.ch:
		return r.args, r.err
	case <-ctx.Done():
		e.s.dropAck(id)
		return Args{}, ctx.Err()
	}
}

// emit encodes and sends (or buffers) an event, registering pa for its
// acknowledgement.
func (e Emitter) emit(event string, args []any, pa *pendingAck) (uint64, error) {
	if reserved[event] {
		return 0, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	s := e.s
	data := make([]any, 0, len(args)+1)
	data = append(append(data, event), args...)
	p := &parser.Packet{Type: parser.Event, Namespace: s.nsp, Data: data}
	s.mu.Lock()
	defer s.mu.Unlock()
	var id uint64
	if pa != nil {
		id = s.nextID
		s.nextID++
		p.ID, p.HasID = id, true
	}
	ps, err := encode(p)
	if err != nil {
		return 0, err
	}
	var eng *engine
	if s.connected {
		eng = s.m.engine()
	}
	if eng == nil {
		if e.volatile {
			return 0, nil
		}
		if len(s.buffer) >= s.m.opts.MaxBuffered {
			return 0, ErrBufferFull
		}
		s.buffer = append(s.buffer, buffered{ps: ps, id: id, hasID: pa != nil})
	}
	if pa != nil {
		if s.acks == nil {
			s.acks = make(map[uint64]*pendingAck)
		}
		s.acks[id] = pa
		if e.timeout > 0 {
			pa.timer = time.AfterFunc(e.timeout, func() { s.ackFailed(id, ErrAckTimeout) })
		}
	}
	if eng != nil && !eng.send(ps...) {
		if pa != nil {
			s.removeAckLocked(id)
		}
		return 0, ErrDisconnected
	}
	return id, nil
}

// encode turns a Socket.IO packet into Engine.IO messages: its text, then
// each binary attachment.
func encode(p *parser.Packet) ([]eparser.Packet, error) {
	text, atts, err := parser.Encode(p)
	if err != nil {
		return nil, err
	}
	ps := make([]eparser.Packet, 1, 1+len(atts))
	ps[0] = eparser.Packet{Type: eparser.Message, Data: text}
	for _, a := range atts {
		ps = append(ps, eparser.Packet{Type: eparser.Message, Data: a, Binary: true})
	}
	return ps, nil
}

// writeLocked sends a packet on e.
func (s *Socket) writeLocked(e *engine, p *parser.Packet) error {
	ps, err := encode(p)
	if err != nil {
		return err
	}
	if !e.send(ps...) {
		return ErrDisconnected
	}
	return nil
}

func (s *Socket) removeAckLocked(id uint64) *pendingAck {
	pa := s.acks[id]
	if pa != nil {
		delete(s.acks, id)
		if pa.timer != nil {
			pa.timer.Stop()
		}
	}
	return pa
}

func (s *Socket) dropAck(id uint64) {
	s.mu.Lock()
	s.removeAckLocked(id)
	s.mu.Unlock()
}

// ackFailed ends a pending acknowledgement with err.
func (s *Socket) ackFailed(id uint64, err error) {
	s.mu.Lock()
	pa := s.removeAckLocked(id)
	s.mu.Unlock()
	s.failAck(pa, err)
}

func (s *Socket) failAck(pa *pendingAck, err error) {
	switch {
	case pa == nil:
	case pa.ch != nil:
		pa.ch <- ackResult{err: err}
	case pa.cb.ErrFirst:
		s.m.exec.do(func() {
			s.m.safely("ack", func() error { return pa.cb.call(Args{}, nil, err) }, s)
		})
	}
}

// clearAcksLocked fails the acknowledgements of packets already sent, as
// the JS client does on disconnect; those of buffered packets stay.
func (s *Socket) clearAcksLocked() {
	inBuffer := make(map[uint64]bool, len(s.buffer))
	for _, b := range s.buffer {
		if b.hasID {
			inBuffer[b.id] = true
		}
	}
	for id := range s.acks {
		if !inBuffer[id] {
			s.failAck(s.removeAckLocked(id), ErrDisconnected)
		}
	}
}

// addWaiter returns a channel told of the outcome of the next connection:
// nil, or the error.
func (s *Socket) addWaiter() chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	return ch
}

// fireLocal runs the handlers of a reserved event on the executor, then
// tells waiters (Dial) err: so Dial returns once the handlers of its
// connection's events have run, and handlers registered after it do not
// see them.
func (s *Socket) fireLocal(event string, waiters []chan error, err error, vals ...any) {
	s.m.exec.do(func() {
		s.mu.Lock()
		hs := s.local[event]
		s.mu.Unlock()
		for _, fn := range hs {
			s.m.safely(event, func() error { callLocal(fn, vals...); return nil }, s)
		}
		for _, ch := range waiters {
			ch <- err
		}
	})
}

// onOpen sends the socket's CONNECT on a new session.
func (s *Socket) onOpen(e *engine) {
	s.mu.Lock()
	if !s.active.Load() || s.connected || s.sentOn == e {
		s.mu.Unlock()
		return
	}
	s.sentOn = e
	auth := s.auth
	if f, ok := auth.(func() any); ok {
		auth = f()
	}
	p := &parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: auth}
	err := s.writeLocked(e, p)
	if err == nil || errors.Is(err, ErrDisconnected) {
		s.mu.Unlock()
		return
	}
	// An auth value that does not encode: the socket cannot connect.
	s.sentOn = nil
	s.active.Store(false)
	waiters := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	s.fireLocal("connect_error", waiters, err, err)
}

// onConnectFailure: the connection could not be opened.
func (s *Socket) onConnectFailure(err error) {
	if !s.active.Load() {
		return
	}
	s.mu.Lock()
	if s.connected {
		s.mu.Unlock()
		return
	}
	waiters := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	s.fireLocal("connect_error", waiters, err, err)
}

// onEngineClose: the session was lost.
func (s *Socket) onEngineClose(reason string) {
	s.mu.Lock()
	was := s.connected
	s.connected = false
	s.id = ""
	s.sentOn = nil
	if was {
		s.clearAcksLocked()
	}
	s.mu.Unlock()
	if was {
		s.fireLocal("disconnect", nil, nil, reason)
	}
}

// onManagerClose: the Manager is closing; e, if any, is still writable.
func (s *Socket) onManagerClose(e *engine) {
	s.active.Store(false)
	s.mu.Lock()
	was := s.connected
	if was && e != nil {
		_ = s.writeLocked(e, &parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
	}
	s.leaveLocked(ErrClosed)
	s.mu.Unlock()
	if was {
		s.fireLocal("disconnect", nil, nil, "io client disconnect")
	}
}

// onPacket handles a packet of the socket's namespace.
func (s *Socket) onPacket(e *engine, p *parser.Packet) {
	switch p.Type {
	case parser.Connect:
		s.onConnect(e, p)
	case parser.ConnectError:
		s.onConnectError(p)
	case parser.Disconnect:
		s.onServerDisconnect()
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	}
}

func (s *Socket) onConnect(e *engine, p *parser.Packet) {
	var d struct {
		SID string `json:"sid"`
	}
	if raw, ok := p.Data.(json.RawMessage); ok {
		_ = json.Unmarshal(raw, &d)
	}
	s.mu.Lock()
	if !s.active.Load() || s.connected {
		s.mu.Unlock()
		return
	}
	s.id = d.SID
	s.connected = true
	for _, b := range s.buffer {
		e.send(b.ps...)
	}
	s.buffer = nil
	waiters := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	s.fireLocal("connect", waiters, nil)
}

func (s *Socket) onConnectError(p *parser.Packet) {
	ce := &ConnectError{}
	if raw, ok := p.Data.(json.RawMessage); ok {
		var d struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &d) == nil {
			ce.Message, ce.Data = d.Message, d.Data
		} else {
			_ = json.Unmarshal(raw, &ce.Message)
		}
	}
	s.active.Store(false)
	s.mu.Lock()
	s.sentOn = nil
	waiters := s.waiters
	s.waiters = nil
	s.mu.Unlock()
	s.fireLocal("connect_error", waiters, ce, error(ce))
	s.m.maybeCloseIdle()
}

func (s *Socket) onServerDisconnect() {
	s.active.Store(false)
	s.mu.Lock()
	was := s.connected
	s.leaveLocked(ErrDisconnected)
	s.mu.Unlock()
	if was {
		s.fireLocal("disconnect", nil, nil, "io server disconnect")
	}
	s.m.maybeCloseIdle()
}

func (s *Socket) onEvent(p *parser.Packet) {
	args, err := argsOf(p)
	if err != nil || args.Len() == 0 {
		s.m.safely("event", func() error { return fmt.Errorf("socket.io client: malformed event: %v", err) }, s)
		return
	}
	var event string
	if parser.Unmarshal(args.values[0], nil, &event) != nil {
		var n json.Number
		if parser.Unmarshal(args.values[0], nil, &n) != nil {
			return
		}
		event = n.String()
	}
	rest := Args{values: args.values[1:], attachments: args.attachments}
	var ack ackFunc
	if p.HasID {
		ack = s.ackSender(p.ID)
	}
	s.m.exec.do(func() { s.dispatch(event, rest, ack) })
}

func (s *Socket) dispatch(event string, args Args, ack ackFunc) {
	s.mu.Lock()
	anyIn, hs := s.anyIn, s.handlers[event]
	s.mu.Unlock()
	for _, fn := range anyIn {
		s.m.safely(event, func() error { fn(event, args); return nil }, s)
	}
	for _, h := range hs {
		s.m.safely(event, func() error {
			if err := h.call(args, ack, nil); err != nil {
				return fmt.Errorf("socket.io client: event %q: %w", event, err)
			}
			return nil
		}, s)
	}
}

// ackSender answers the server's acknowledgement id, once.
func (s *Socket) ackSender(id uint64) ackFunc {
	var once sync.Once
	return func(args []any) {
		once.Do(func() {
			if args == nil {
				args = []any{}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.connected {
				return
			}
			if e := s.m.engine(); e != nil {
				if err := s.writeLocked(e, &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id, HasID: true, Data: args}); err != nil && !errors.Is(err, ErrDisconnected) {
					s.m.exec.do(func() { s.m.safely("ack", func() error { return err }, s) })
				}
			}
		})
	}
}

func (s *Socket) onAck(p *parser.Packet) {
	if !p.HasID {
		return
	}
	s.mu.Lock()
	pa := s.removeAckLocked(p.ID)
	s.mu.Unlock()
	if pa == nil {
		return // unknown, timed out, or answered already
	}
	args, err := argsOf(p)
	if pa.ch != nil {
		pa.ch <- ackResult{args: args, err: err}
		return
	}
	s.m.exec.do(func() {
		s.m.safely("ack", func() error {
			if err != nil {
				return err
			}
			return pa.cb.call(args, nil, nil)
		}, s)
	})
}
