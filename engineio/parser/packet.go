package parser

import (
	"errors"
	"fmt"
)

// Type is the kind of an Engine.IO packet.
type Type byte

// The Engine.IO v4 packet types.
const (
	Open Type = iota
	Close
	Ping
	Pong
	Message
	Upgrade
	Noop
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= Noop }

// Packet is one Engine.IO packet. Binary is meaningful for Message only.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

// ErrInvalid is wrapped by every decoding error.
var ErrInvalid = errors.New("engine.io: invalid packet")

// ErrTooLarge is returned when a payload holds more bytes than allowed.
var ErrTooLarge = errors.New("engine.io: payload too large")

// Separator divides the packets of a long-polling payload.
const Separator = 0x1e

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}
