// Package bind binds Go functions to Socket.IO arguments: a function's
// parameters are decoded, in order, from an event's JSON arguments (binary
// placeholders resolved to []byte), and a last parameter of func type is
// an acknowledgement that sends its own arguments back. The server (package
// sori) and the client (package client) share it, so that handlers read the
// same on both sides.
package bind

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	"github.com/sori-dev/sori/socketio/parser"
)

// Shape is what a function's type says, worked out once per type and
// shared: every socket registers its own closures of the same few types.
type Shape struct {
	Params   []reflect.Type // the decoded parameters
	Variadic reflect.Type   // element type of a trailing ...T, or nil
	Ack      reflect.Type   // the acknowledgement's func type, or nil
	ErrFirst bool           // a leading error parameter, filled by the caller
	ErrOut   bool           // the function returns an error
}

// ErrorType is the type of error values.
var ErrorType = reflect.TypeFor[error]()

var shapes sync.Map // shapeKey -> *Shape

type shapeKey struct {
	t        reflect.Type
	errFirst bool
}

// ShapeOf checks t, a func type, once: it may return nothing or an error;
// its parameters must be decodable. errFirst allows a leading error
// parameter (acknowledgement callbacks).
func ShapeOf(t reflect.Type, errFirst bool) (*Shape, error) {
	key := shapeKey{t, errFirst}
	if sh, ok := shapes.Load(key); ok {
		return sh.(*Shape), nil
	}
	if t.Kind() != reflect.Func {
		return nil, fmt.Errorf("handler is %s, not a func", t)
	}
	sh := &Shape{}
	switch {
	case t.NumOut() == 0:
	case t.NumOut() == 1 && t.Out(0) == ErrorType:
		sh.ErrOut = true
	default:
		return nil, fmt.Errorf("handler %s may return nothing or an error", t)
	}
	first := 0
	if errFirst && t.NumIn() > 0 && t.In(0) == ErrorType {
		sh.ErrFirst, first = true, 1
	}
	n := t.NumIn()
	if n > first && t.In(n-1).Kind() == reflect.Func && !t.IsVariadic() {
		sh.Ack = t.In(n - 1)
		if sh.Ack.NumOut() != 0 {
			return nil, fmt.Errorf("acknowledgement %s must return nothing", sh.Ack)
		}
		n--
	}
	for i := first; i < n; i++ {
		p := t.In(i)
		if i == n-1 && t.IsVariadic() {
			sh.Variadic = p.Elem()
			break
		}
		if p.Kind() == reflect.Func || p.Kind() == reflect.Chan {
			return nil, fmt.Errorf("parameter %d of %s cannot be decoded", i, t)
		}
		sh.Params = append(sh.Params, p)
	}
	shapes.Store(key, sh)
	return sh, nil
}

// Decode appends to in the parameter values decoded from args: a missing
// argument gives its parameter's zero value, extra ones go to a variadic
// parameter or are ignored. An argument that does not fit is an error.
func (sh *Shape) Decode(in []reflect.Value, args []json.RawMessage, attachments [][]byte) ([]reflect.Value, error) {
	for i, p := range sh.Params {
		ptr := reflect.New(p)
		if i < len(args) {
			if err := parser.Unmarshal(args[i], attachments, ptr.Interface()); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i, err)
			}
		}
		in = append(in, ptr.Elem())
	}
	if sh.Variadic != nil {
		for i := len(sh.Params); i < len(args); i++ {
			ptr := reflect.New(sh.Variadic)
			if err := parser.Unmarshal(args[i], attachments, ptr.Interface()); err != nil {
				return nil, fmt.Errorf("argument %d: %w", i, err)
			}
			in = append(in, ptr.Elem())
		}
	}
	return in, nil
}

// Call calls fn with in, the acknowledgement appended when the shape has
// one, and returns the error fn returned.
func (sh *Shape) Call(fn reflect.Value, in []reflect.Value, ack func([]any)) error {
	if sh.Ack != nil {
		in = append(in, MakeAck(sh.Ack, ack))
	}
	out := fn.Call(in) // a variadic func takes its trailing values one by one
	if sh.ErrOut && !out[0].IsNil() {
		return out[0].Interface().(error)
	}
	return nil
}

// MakeAck builds a function of type t that passes its arguments to send;
// nil send makes it do nothing (the peer asked for no acknowledgement).
func MakeAck(t reflect.Type, send func([]any)) reflect.Value {
	return reflect.MakeFunc(t, func(in []reflect.Value) []reflect.Value {
		if send != nil {
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
			send(vals)
		}
		return nil
	})
}
