package sori

import (
	"encoding/json"
	"fmt"

	"github.com/sori-dev/sori/adapter"
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
func (a Args) Decode(dst ...any) error {
	for i, d := range dst {
		if i >= len(a.a.Values) {
			return nil
		}
		if err := parser.Unmarshal(a.a.Values[i], a.a.Attachments, d); err != nil {
			return fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return nil
}

// Values decodes every argument as encoding/json does into an any, with
// binary as []byte.
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.a.Values))
	for i := range out {
		if err := parser.Unmarshal(a.a.Values[i], a.a.Attachments, &out[i]); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return out, nil
}

// argsFromPacket splits an event's or ack's payload into its arguments.
func argsFromPacket(p *parser.Packet) (Args, error) {
	raw, _ := p.Data.(json.RawMessage)
	if raw == nil {
		return Args{}, nil
	}
	values, err := parser.Args(raw)
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
