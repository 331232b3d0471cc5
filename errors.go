package sori

import "errors"

// ConnectError refuses a connection from middleware: the client gets a
// CONNECT_ERROR packet with {message, data}, as the reference sends.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Errors returned by the server's operations.
var (
	// ErrReservedEvent: the event name is one the protocol reserves.
	ErrReservedEvent = errors.New("sori: reserved event name")
	// ErrDisconnected: the socket is not connected.
	ErrDisconnected = errors.New("sori: socket disconnected")
	// ErrAckTimeout: not every acknowledgement came in time.
	ErrAckTimeout = errors.New("sori: operation has timed out")
	// ErrAckInBroadcast: a broadcast's acknowledgements need EmitWithAck.
	ErrAckInBroadcast = errors.New("sori: callbacks are not supported when broadcasting; use EmitWithAck")
)

// reserved are the event names a peer may not emit: they mean something
// to the protocol itself.
var reserved = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}
