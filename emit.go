package sori

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/sori-dev/sori/socketio/parser"
)

// Emitter emits to one socket with flags: see Socket.Timeout,
// Socket.Volatile and Socket.Compress.
type Emitter struct {
	s          *Socket
	timeout    time.Duration
	volatile   bool
	noCompress bool
}

// Timeout bounds the wait for the acknowledgement of an emit.
func (s *Socket) Timeout(d time.Duration) Emitter { return Emitter{s: s, timeout: d} }

// Volatile lets the event be dropped if the client is not ready for it.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, volatile: true} }

// Compress sets whether the event may be compressed.
func (s *Socket) Compress(on bool) Emitter { return Emitter{s: s, noCompress: !on} }

// Timeout bounds the wait for the acknowledgement.
func (e Emitter) Timeout(d time.Duration) Emitter { e.timeout = d; return e }

// Volatile lets the event be dropped if the client is not ready for it.
func (e Emitter) Volatile() Emitter { e.volatile = true; return e }

// Compress sets whether the event may be compressed.
func (e Emitter) Compress(on bool) Emitter { e.noCompress = !on; return e }

// Emit sends an event to the client with any number of JSON-able
// arguments; []byte values go as binary. When the last argument is a
// function, it is the acknowledgement callback, its parameters decoded like
// a handler's from the client's answer; with a Timeout, a first parameter
// of type error receives ErrAckTimeout if no answer came in time.
func (s *Socket) Emit(event string, args ...any) error { return Emitter{s: s}.Emit(event, args...) }

// EmitWithAck sends an event and waits for the client's acknowledgement,
// or for ctx to end.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return Emitter{s: s}.EmitWithAck(ctx, event, args...)
}

// Send emits a "message" event.
func (s *Socket) Send(args ...any) error { return s.Emit("message", args...) }

// Emit sends an event; see Socket.Emit.
func (e Emitter) Emit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if n := len(args); n > 0 && args[n-1] != nil && reflect.TypeOf(args[n-1]).Kind() == reflect.Func {
		return e.emitWithCallback(event, args[:n-1], args[n-1])
	}
	return e.send(event, args, 0, false)
}

func (e Emitter) send(event string, args []any, id uint64, withID bool) error {
	s := e.s
	s.mu.Lock()
	live := s.connected && !s.closed
	anyOut := s.hooks.outgoing()
	s.mu.Unlock()
	if !live {
		return ErrDisconnected
	}
	for _, fn := range anyOut {
		_ = s.safely(event, func() error { fn(event, args); return nil })
	}
	data := make([]any, 0, len(args)+1)
	data = append(append(data, event), args...)
	s.nsp.srv.stats.eventsOut.Add(1)
	s.sendConnect() // a connection handler's first emit: CONNECT goes first
	return s.conn.writePacket(&parser.Packet{Type: parser.Event, Namespace: s.nsp.name,
		ID: id, HasID: withID, Data: data}, e.volatile)
}

// EmitWithAck sends an event and waits for the acknowledgement, until the
// Timeout or ctx ends.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	if reserved[event] {
		return Args{}, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	id := e.s.nsp.NextAckID()
	got := make(chan Args, 1)
	e.s.expectAck(id, func(a Args) { got <- a })
	if err := e.send(event, args, id, true); err != nil {
		e.s.dropAck(id)
		return Args{}, err
	}
	select {
	case a := <-got:
		return a, nil
	case <-ctx.Done():
		e.s.dropAck(id)
		if ctx.Err() == context.DeadlineExceeded {
			return Args{}, ErrAckTimeout
		}
		return Args{}, ctx.Err()
	}
}

// emitWithCallback sends an event whose answer runs cb.
func (e Emitter) emitWithCallback(event string, args []any, cb any) error {
	t := reflect.TypeOf(cb)
	withErr := t.NumIn() > 0 && t.In(0) == errorType
	h, err := newHandler(cb)
	if err != nil {
		return err
	}
	if withErr {
		// The error parameter is filled here, not decoded.
		h2, err := newHandler(reflect.MakeFunc(reflect.FuncOf(inTypes(t)[1:], nil, false),
			func(in []reflect.Value) []reflect.Value {
				reflect.ValueOf(cb).Call(append([]reflect.Value{reflect.Zero(errorType)}, in...))
				return nil
			}).Interface())
		if err != nil {
			return err
		}
		h = h2
	}
	id := e.s.nsp.NextAckID()
	var timer *time.Timer
	e.s.expectAck(id, func(a Args) {
		if timer != nil {
			timer.Stop()
		}
		if err := h.call(a, nil); err != nil {
			e.s.reportError(fmt.Errorf("sori: acknowledgement of %q: %w", event, err))
		}
	})
	if e.timeout > 0 {
		timer = time.AfterFunc(e.timeout, func() {
			e.s.mu.Lock()
			_, pending := e.s.acks[id]
			delete(e.s.acks, id)
			e.s.mu.Unlock()
			if pending && withErr {
				in := []reflect.Value{reflect.ValueOf(ErrAckTimeout)}
				for _, p := range inTypes(t)[1:] {
					in = append(in, reflect.Zero(p))
				}
				_ = e.s.safely("ack timeout", func() error { reflect.ValueOf(cb).Call(in); return nil })
			}
		})
	}
	if err := e.send(event, args, id, true); err != nil {
		e.s.dropAck(id)
		if timer != nil {
			timer.Stop()
		}
		return err
	}
	return nil
}

func inTypes(t reflect.Type) []reflect.Type {
	out := make([]reflect.Type, t.NumIn())
	for i := range out {
		out[i] = t.In(i)
	}
	return out
}
