package client

import (
	"encoding/json"

	"github.com/sori-dev/sori/internal/bind"
	"github.com/sori-dev/sori/socketio/parser"
)

// Args are the arguments of an event or an acknowledgement as they came
// from the server: still encoded, to be decoded into the Go values wanted.
type Args struct {
	values      []json.RawMessage
	attachments [][]byte
}

// Len is the number of arguments.
func (a Args) Len() int { return len(a.values) }

// Raw is argument i as JSON, binary placeholders left in place.
func (a Args) Raw(i int) json.RawMessage { return a.values[i] }

// Decode decodes the arguments, in order, into the values dst points to:
// any type encoding/json handles, and []byte for binary. A missing argument
// leaves its destination untouched; extra arguments are ignored.
func (a Args) Decode(dst ...any) error { return bind.Into(a.values, a.attachments, dst...) }

// Values decodes every argument as encoding/json does into an any, with
// binary as []byte.
func (a Args) Values() ([]any, error) { return bind.Values(a.values, a.attachments) }

// argsOf splits a decoded Event or Ack payload into its arguments.
func argsOf(p *parser.Packet) (Args, error) {
	values, err := bind.Split(p)
	if err != nil {
		return Args{}, err
	}
	return Args{values: values, attachments: p.Attachments}, nil
}
