package sori

import (
	"encoding/json"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/internal/bind"
	"github.com/sori-dev/sori/socketio/parser"
)

// Args are the arguments of an event or an acknowledgement as they came
// from the peer: still encoded, to be decoded into the Go values the
// receiver wants.
type Args struct{ a adapter.Args }

// Len is the number of arguments.
func (a Args) Len() int { return len(a.a.Values) }

// Raw is argument i as JSON, binary placeholders left in place.
func (a Args) Raw(i int) json.RawMessage { return a.a.Values[i] }

// Decode decodes the arguments, in order, into the values dst points to:
// any JSON-able Go type, and []byte for binary. A missing argument leaves
// its destination untouched; extra arguments are ignored.
func (a Args) Decode(dst ...any) error { return bind.Into(a.a.Values, a.a.Attachments, dst...) }

// Values decodes every argument as encoding/json does into an any, with
// binary as []byte.
func (a Args) Values() ([]any, error) { return bind.Values(a.a.Values, a.a.Attachments) }

// argsFromPacket splits an event's or ack's payload into its arguments.
func argsFromPacket(p *parser.Packet) (Args, error) {
	values, err := bind.Split(p)
	if err != nil {
		return Args{}, err
	}
	return Args{adapter.Args{Values: values, Attachments: p.Attachments}}, nil
}

// argsOf encodes Go values as Args, for handlers called by the server
// itself (disconnect reasons).
func argsOf(values ...any) Args {
	raw := make([]json.RawMessage, len(values))
	for i, v := range values {
		raw[i], _ = json.Marshal(v)
	}
	return Args{adapter.Args{Values: raw}}
}
