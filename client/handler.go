package client

import (
	"fmt"
	"reflect"

	"github.com/sori-dev/sori/internal/bind"
)

// A handler is a Go function bound to incoming arguments: its parameters
// are decoded from them in order, as the server's handlers are (package
// internal/bind, shared with the server). A last parameter of func type is
// the acknowledgement the server asked for; a first parameter of type error
// (only for acknowledgement callbacks) gets ErrAckTimeout or
// ErrDisconnected instead of the answer.
type handler struct {
	fn reflect.Value
	*bind.Shape
}

// ackFunc sends an acknowledgement; nil when the server asked for none.
type ackFunc func(args []any)

var errorType = bind.ErrorType

// newHandler checks fn's shape once, when it is registered. errFirst
// allows a leading error parameter.
func newHandler(fn any, errFirst bool) (*handler, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("socket.io client: handler is %T, not a func", fn)
	}
	sh, err := bind.ShapeOf(v.Type(), errFirst)
	if err != nil {
		return nil, fmt.Errorf("socket.io client: %w", err)
	}
	return &handler{fn: v, Shape: sh}, nil
}

var argsType = reflect.TypeFor[Args]()

// call decodes args and runs the handler; errVal fills a leading error
// parameter, and then the others get their zero values. A payload that
// does not fit the parameters is an error, and the handler does not run.
func (h *handler) call(args Args, ack ackFunc, errVal error) error {
	in := make([]reflect.Value, 0, len(h.Params)+2)
	if h.ErrFirst {
		if errVal == nil {
			in = append(in, reflect.Zero(errorType))
		} else {
			in = append(in, reflect.ValueOf(errVal))
		}
	}
	switch {
	case errVal != nil:
		for _, p := range h.Params {
			in = append(in, reflect.Zero(p))
		}
	case len(h.Params) == 1 && h.Params[0] == argsType && h.Variadic == nil:
		in = append(in, reflect.ValueOf(args)) // the arguments as they came
	default:
		var err error
		if in, err = h.Decode(in, args.values, args.attachments); err != nil {
			return err
		}
	}
	return h.Shape.Call(h.fn, in, ack)
}

// callLocal calls fn, a handler of a reserved or Manager event, with Go
// values: each parameter gets the value at its position when assignable,
// its zero value otherwise.
func callLocal(fn any, vals ...any) {
	v := reflect.ValueOf(fn)
	t := v.Type()
	in := make([]reflect.Value, t.NumIn())
	for i := range in {
		p := t.In(i)
		if i < len(vals) && vals[i] != nil && reflect.TypeOf(vals[i]).AssignableTo(p) {
			in[i] = reflect.ValueOf(vals[i])
		} else {
			in[i] = reflect.Zero(p)
		}
	}
	v.Call(in)
}

// checkLocal checks that fn can take the values callLocal will pass.
func checkLocal(event string, fn any) error {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return fmt.Errorf("socket.io client: %q handler is %T, not a func", event, fn)
	}
	if v.Type().IsVariadic() || v.Type().NumOut() != 0 {
		return fmt.Errorf("socket.io client: %q handler %s: no variadic parameter and no results", event, v.Type())
	}
	return nil
}
