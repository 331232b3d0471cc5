package client

import (
	"encoding/json"
	"errors"
)

// Errors returned by the client.
var (
	// ErrClosed: the Manager was closed.
	ErrClosed = errors.New("socket.io client: closed")
	// ErrDisconnected: the socket was disconnected before the answer came.
	ErrDisconnected = errors.New("socket.io client: socket has been disconnected")
	// ErrAckTimeout: no acknowledgement came within the Timeout.
	ErrAckTimeout = errors.New("socket.io client: operation has timed out")
	// ErrReservedEvent: the event name has a meaning of its own and cannot
	// be emitted.
	ErrReservedEvent = errors.New("socket.io client: reserved event name")
	// ErrBufferFull: the socket is not connected and already holds
	// Options.MaxBuffered packets waiting for the connection.
	ErrBufferFull = errors.New("socket.io client: send buffer full")
	// ErrReconnectFailed: every reconnection attempt failed.
	ErrReconnectFailed = errors.New("socket.io client: reconnection failed")
)

// ConnectError is the server's refusal of a namespace connection (a
// CONNECT_ERROR packet), given to "connect_error" handlers and returned by
// Dial: Message is its message, Data what the server's middleware attached.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

func (e *ConnectError) Error() string { return "socket.io client: connect error: " + e.Message }

// reserved event names, as in the JS client.
var reserved = map[string]bool{
	"connect":        true,
	"connect_error":  true,
	"disconnect":     true,
	"disconnecting":  true,
	"newListener":    true,
	"removeListener": true,
}
