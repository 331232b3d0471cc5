package parser

import (
	"errors"
	"strconv"
)

// Type is a Socket.IO packet type, sent as the first character of the text
// part of every packet.
type Type byte

// Packet types of protocol v5, numbered as on the wire.
const (
	Connect      Type = iota // 0: connect to a namespace (auth object in, sid object out)
	Disconnect               // 1: leave a namespace
	Event                    // 2: ["name", args...]
	Ack                      // 3: [args...] answering an Event with the same ID
	ConnectError             // 4: namespace connection refused
	BinaryEvent              // 5: Event whose payload holds binary placeholders
	BinaryAck                // 6: Ack whose payload holds binary placeholders
)

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the name the reference implementation uses for t
// (e.g. "BINARY_EVENT"), or "Type(N)" for an unknown value.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// valid reports whether t is one of the seven protocol types.
func (t Type) valid() bool { return t <= BinaryAck }

// binary reports whether packets of type t announce an attachment count.
func (t Type) binary() bool { return t == BinaryEvent || t == BinaryAck }

// Packet is one Socket.IO packet.
type Packet struct {
	Type      Type
	Namespace string // "/" when absent on the wire; the encoder omits "/" (and "")
	ID        uint64 // ack id, valid when HasID
	HasID     bool

	// Data is the payload.
	//
	// When encoding it is any value encoding/json can marshal, or nil for no
	// payload: for Event []any{name, arg1, ...}, for Ack []any{args...}, for
	// Connect an auth/handshake object or nil, for ConnectError an object
	// such as map[string]any{"message": ..., "data": ...}. For Event and Ack
	// (and their binary variants) every non-nil []byte reachable the way
	// encoding/json sees the value (slice and array elements, map values,
	// exported struct fields, pointers, interfaces) is sent as a binary
	// attachment and replaced by {"_placeholder":true,"num":N}; the type then
	// becomes BinaryEvent or BinaryAck by itself. Values with their own
	// MarshalJSON/MarshalText are opaque and never searched.
	//
	// When decoding Data is a json.RawMessage (nil when the packet has no
	// payload) that still holds the placeholders; use Args and Unmarshal to
	// get at the values with the attachments put back.
	Data any

	// Attachments are the binary parts of a BinaryEvent/BinaryAck, in
	// placeholder order. The decoder fills them. When encoding, a non-empty
	// Attachments means Data was already deconstructed (it holds the
	// placeholders, e.g. a decoded packet being relayed): Data is then sent
	// as is and Attachments are sent unchanged.
	Attachments [][]byte
}

// Sentinel errors. Every error from this package matches one of them with
// errors.Is; decode errors are *Error values carrying context.
var (
	ErrUnknownType        = errors.New("unknown packet type")
	ErrAttachments        = errors.New("illegal attachments")
	ErrTooManyAttachments = errors.New("too many attachments")
	ErrNamespace          = errors.New("invalid namespace")
	ErrAckID              = errors.New("invalid ack id")
	ErrInvalidJSON        = errors.New("invalid JSON payload")
	ErrInvalidPayload     = errors.New("invalid payload")
	ErrUnexpectedBinary   = errors.New("got binary data when not reconstructing a packet")
	ErrUnexpectedText     = errors.New("got plaintext data when reconstructing a packet")
	ErrPlaceholder        = errors.New("illegal binary placeholder")
	ErrEncode             = errors.New("cannot encode packet")
)

// Error describes why a packet could not be decoded or encoded.
type Error struct {
	Op     string // "decode", "encode" or "unmarshal"
	Err    error  // one of the sentinel errors above
	Detail string // human readable context, may be empty
	Cause  error  // underlying error (e.g. from encoding/json), may be nil
}

func (e *Error) Error() string {
	s := "socket.io parser: " + e.Op + ": " + e.Err.Error()
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap exposes both the sentinel and the cause, so errors.Is(err,
// ErrInvalidJSON) and errors.As(err, new(*json.SyntaxError)) both work.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Err, e.Cause}
	}
	return []error{e.Err}
}

func decodeErr(sentinel error, detail string) *Error {
	return &Error{Op: "decode", Err: sentinel, Detail: detail}
}
