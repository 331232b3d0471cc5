// Package parser encodes and decodes Engine.IO protocol v4 packets and
// payloads.
//
// An Engine.IO packet is a one-digit type followed by its data:
//
//	0 open     the handshake, sent by the server: 0{"sid":...}
//	1 close    the transport is closing
//	2 ping     sent by the server; "2probe" from a client tests a WebSocket
//	3 pong     the answer to a ping; "3probe" answers "2probe"
//	4 message  application data: 4hello
//	5 upgrade  sent by the client on the new transport to finish an upgrade
//	6 noop     releases a pending long-polling request during an upgrade
//
// On WebSocket each frame carries one packet; a binary frame is a binary
// message without a type digit. On HTTP long-polling a payload carries
// several packets separated by the record separator 0x1e, and a binary
// message is written as "b" followed by the standard base64 of its bytes.
//
// The decoders never panic: every malformed input yields an error wrapping
// ErrInvalid.
package parser
