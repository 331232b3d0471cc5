package client

import (
	"fmt"
	"reflect"

	"github.com/sori-dev/sori/socketio/parser"
)

// A handler is a Go function bound to incoming arguments: its parameters
// are decoded from them in order, as the server's handlers are. A last
// parameter of func type is the acknowledgement the server asked for; a
// first parameter of type error (only for acknowledgement callbacks) gets
// ErrAckTimeout or ErrDisconnected instead of the answer.
type handler struct {
	fn       reflect.Value
	params   []reflect.Type // the decoded parameters
	variadic reflect.Type   // element type of a trailing ...T, or nil
	ack      reflect.Type   // the acknowledgement's func type, or nil
	errFirst bool           // the first parameter is an error, filled by us
	errOut   bool           // the function returns an error
}

// ackFunc sends an acknowledgement; nil when the server asked for none.
type ackFunc func(args []any)

var errorType = reflect.TypeFor[error]()

// newHandler checks fn's shape once, when it is registered. errFirst
// allows a leading error parameter.
func newHandler(fn any, errFirst bool) (*handler, error) {
	v := reflect.ValueOf(fn)
	if !v.IsValid() || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("socket.io client: handler is %T, not a func", fn)
	}
	t := v.Type()
	h := &handler{fn: v}
	switch {
	case t.NumOut() == 0:
	case t.NumOut() == 1 && t.Out(0) == errorType:
		h.errOut = true
	default:
		return nil, fmt.Errorf("socket.io client: handler %s may return nothing or an error", t)
	}
	first := 0
	if errFirst && t.NumIn() > 0 && t.In(0) == errorType {
		h.errFirst = true
		first = 1
	}
	n := t.NumIn()
	if n > first && t.In(n-1).Kind() == reflect.Func && !t.IsVariadic() {
		h.ack = t.In(n - 1)
		if h.ack.NumOut() != 0 {
			return nil, fmt.Errorf("socket.io client: acknowledgement %s must return nothing", h.ack)
		}
		n--
	}
	for i := first; i < n; i++ {
		p := t.In(i)
		if i == n-1 && t.IsVariadic() {
			h.variadic = p.Elem()
			break
		}
		if p.Kind() == reflect.Func || p.Kind() == reflect.Chan {
			return nil, fmt.Errorf("socket.io client: parameter %d of %s cannot be decoded", i, t)
		}
		h.params = append(h.params, p)
	}
	return h, nil
}

var argsType = reflect.TypeFor[Args]()

// call decodes args and runs the handler; errVal fills a leading error
// parameter. A payload that does not fit the parameters is an error, and
// the handler does not run.
func (h *handler) call(args Args, ack ackFunc, errVal error) error {
	in := make([]reflect.Value, 0, len(h.params)+2)
	if h.errFirst {
		if errVal == nil {
			in = append(in, reflect.Zero(errorType))
		} else {
			in = append(in, reflect.ValueOf(errVal))
		}
	}
	if errVal == nil {
		for i, p := range h.params {
			if p == argsType && len(h.params) == 1 {
				in = append(in, reflect.ValueOf(args))
				continue
			}
			ptr := reflect.New(p)
			if i < args.Len() {
				if err := parser.Unmarshal(args.values[i], args.attachments, ptr.Interface()); err != nil {
					return fmt.Errorf("argument %d: %w", i, err)
				}
			}
			in = append(in, ptr.Elem())
		}
		if h.variadic != nil {
			for i := len(h.params); i < args.Len(); i++ {
				ptr := reflect.New(h.variadic)
				if err := parser.Unmarshal(args.values[i], args.attachments, ptr.Interface()); err != nil {
					return fmt.Errorf("argument %d: %w", i, err)
				}
				in = append(in, ptr.Elem())
			}
		}
	} else {
		for _, p := range h.params {
			in = append(in, reflect.Zero(p))
		}
	}
	if h.ack != nil {
		in = append(in, makeAck(h.ack, ack))
	}
	out := h.fn.Call(in) // a variadic func takes its trailing values one by one
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
