package sori

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/sori-dev/sori/internal/bind"
)

// A handler is a Go function bound to an event: its parameters are decoded
// from the event's arguments, in order, and a last parameter of func type,
// when there is one, is the acknowledgement to call back (package
// internal/bind, which the client shares).
type handler struct {
	fn reflect.Value
	*bind.Shape
	raw func(Args, ackFunc) error // the common signatures, without reflection
}

// ackFunc sends an acknowledgement; nil when the peer asked for none.
type ackFunc func(args []any)

var errorType = bind.ErrorType

// newHandler checks fn's shape once, when it is registered.
func newHandler(fn any) (*handler, error) {
	switch f := fn.(type) {
	case func():
		return &handler{raw: func(Args, ackFunc) error { f(); return nil }}, nil
	case func(Args):
		return &handler{raw: func(a Args, _ ackFunc) error { f(a); return nil }}, nil
	case func(Args, func(...any)):
		return &handler{raw: func(a Args, ack ackFunc) error { f(a, variadicAck(ack)); return nil }}, nil
	}
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("sori: handler is %T, not a func", fn)
	}
	sh, err := bind.ShapeOf(v.Type(), false)
	if err != nil {
		return nil, fmt.Errorf("sori: %w", err)
	}
	return &handler{fn: v, Shape: sh}, nil
}

// call decodes args and runs the handler. A payload that does not fit the
// parameters is an error, and the handler does not run.
func (h *handler) call(args Args, ack ackFunc) error {
	if h.raw != nil {
		return h.raw(args, ack)
	}
	in, err := h.Decode(make([]reflect.Value, 0, len(h.Params)+1), args.a.Values, args.a.Attachments)
	if err != nil {
		return err
	}
	return h.Shape.Call(h.fn, in, ack)
}

func variadicAck(ack ackFunc) func(...any) {
	return func(args ...any) {
		if ack != nil {
			ack(args)
		}
	}
}

// errPanic wraps a recovered panic.
var errPanic = errors.New("sori: handler panicked")
