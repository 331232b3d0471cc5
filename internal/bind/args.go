package bind

import (
	"encoding/json"
	"fmt"

	"github.com/sori-dev/sori/socketio/parser"
)

// Split splits a decoded Event or Ack payload into its arguments; none
// when the packet has no payload.
func Split(p *parser.Packet) ([]json.RawMessage, error) {
	raw, _ := p.Data.(json.RawMessage)
	if raw == nil {
		return nil, nil
	}
	return parser.Args(raw)
}

// Into decodes args, in order, into the values dst points to. A missing
// argument leaves its destination untouched; extra ones are ignored.
func Into(args []json.RawMessage, attachments [][]byte, dst ...any) error {
	for i, d := range dst {
		if i >= len(args) {
			return nil
		}
		if err := parser.Unmarshal(args[i], attachments, d); err != nil {
			return fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return nil
}

// Values decodes every argument as encoding/json does into an any, with
// binary as []byte.
func Values(args []json.RawMessage, attachments [][]byte) ([]any, error) {
	out := make([]any, len(args))
	for i := range out {
		if err := parser.Unmarshal(args[i], attachments, &out[i]); err != nil {
			return nil, fmt.Errorf("argument %d: %w", i, err)
		}
	}
	return out, nil
}
