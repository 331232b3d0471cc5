package sori

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/sori-dev/sori/socketio/parser"
)

// A handler is a Go function bound to an event: its parameters are decoded
// from the event's arguments, in order, and a last parameter of func type,
// when there is one, is the acknowledgement to call back.
type handler struct {
	fn reflect.Value
	*shape
	raw func(Args, ackFunc) error
}

// shape is what a handler's type says: worked out once per type and
// shared, since every socket registers its own closures of the same types.
type shape struct {
	params   []reflect.Type // the decoded parameters
	variadic reflect.Type   // element type of a trailing ...T, or nil
	ack      reflect.Type   // the acknowledgement's func type, or nil
	errOut   bool           // the function returns an error
}

var shapes sync.Map // reflect.Type -> *shape

// ackFunc sends an acknowledgement; nil when the peer asked for none.
type ackFunc func(args []any)

var errorType = reflect.TypeFor[error]()

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
	t := v.Type()
	if sh, ok := shapes.Load(t); ok {
		return &handler{fn: v, shape: sh.(*shape)}, nil
	}
	sh, err := shapeOf(t)
	if err != nil {
		return nil, err
	}
	shapes.Store(t, sh)
	return &handler{fn: v, shape: sh}, nil
}

func shapeOf(t reflect.Type) (*shape, error) {
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("sori: handler is %s, not a func", t)
	}
	h := &shape{}
	switch {
	case t.NumOut() == 0:
	case t.NumOut() == 1 && t.Out(0) == errorType:
		h.errOut = true
	default:
		return nil, fmt.Errorf("sori: handler %s may return nothing or an error", t)
	}
	n := t.NumIn()
	if n > 0 && t.In(n-1).Kind() == reflect.Func && !t.IsVariadic() {
		h.ack = t.In(n - 1)
		if h.ack.NumOut() != 0 {
			return nil, fmt.Errorf("sori: acknowledgement %s must return nothing", h.ack)
		}
		n--
	}
	for i := range n {
		p := t.In(i)
		if i == n-1 && t.IsVariadic() {
			h.variadic = p.Elem()
			break
		}
		if p.Kind() == reflect.Func || p.Kind() == reflect.Chan {
			return nil, fmt.Errorf("sori: parameter %d of %s cannot be decoded", i, t)
		}
		h.params = append(h.params, p)
	}
	return h, nil
}

// call decodes args and runs the handler. A payload that does not fit the
// parameters is an error, and the handler does not run.
func (h *handler) call(args Args, ack ackFunc) error {
	if h.raw != nil {
		return h.raw(args, ack)
	}
	in := make([]reflect.Value, 0, len(h.params)+1)
	for i, p := range h.params {
		ptr := reflect.New(p)
		if i < args.Len() {
			if err := parser.Unmarshal(args.a.Values[i], args.a.Attachments, ptr.Interface()); err != nil {
				return fmt.Errorf("argument %d: %w", i, err)
			}
		}
		in = append(in, ptr.Elem())
	}
	if h.variadic != nil {
		for i := len(h.params); i < args.Len(); i++ {
			ptr := reflect.New(h.variadic)
			if err := parser.Unmarshal(args.a.Values[i], args.a.Attachments, ptr.Interface()); err != nil {
				return fmt.Errorf("argument %d: %w", i, err)
			}
			in = append(in, ptr.Elem())
		}
	}
	if h.ack != nil {
		in = append(in, makeAck(h.ack, ack))
	}
	out := h.fn.Call(in)
	if h.errOut && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}

// makeAck builds a function of type t that sends its arguments back.
func makeAck(t reflect.Type, ack ackFunc) reflect.Value {
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		if ack != nil {
			vals := make([]any, 0, len(in))
			for i, v := range in {
				if t.IsVariadic() && i == len(in)-1 {
					for j := range v.Len() {
						vals = append(vals, v.Index(j).Interface())
					}
					continue
				}
				vals = append(vals, v.Interface())
			}
			ack(vals)
		}
		return nil
	})
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
