// Package parser encodes and decodes Socket.IO protocol v5 packets, the
// format of socket.io-parser (the reference implementation's default
// parser). Each packet travels as one Engine.IO text message, followed by
// one Engine.IO binary message per attachment.
//
// Text format:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
//	type         one digit, 0-6 (see Type)
//	attachments  only for BinaryEvent (5) and BinaryAck (6): the number of
//	             binary messages that follow, at least 1
//	namespace    only when not "/": starts with "/", ends at the comma
//	ack id       decimal digits, when an acknowledgement is requested or given
//	payload      JSON: Connect {auth} or nothing, Disconnect nothing,
//	             Event ["name", args...], Ack [args...],
//	             ConnectError {"message":...} or "message"
//
// Examples:
//
//	0                                   connect to "/"
//	0/admin,{"token":"123"}             connect to "/admin" with auth
//	1/admin,                            leave "/admin"
//	2["hello",1]                        event "hello" with argument 1
//	2/admin,13["foo"]                   event on "/admin" asking for ack 13
//	3/admin,13["bar"]                   the ack
//	4{"message":"Not authorized"}       connect error
//	51-["baz",{"_placeholder":true,"num":0}]   + 1 binary message
//
// Binary data cannot be put in JSON, so each binary value is replaced by a
// placeholder {"_placeholder":true,"num":N}, N indexing the binary messages
// that follow the text, and the type becomes BinaryEvent or BinaryAck.
//
// API:
//
//   - Encode turns a Packet into its text and attachments; []byte values
//     anywhere in Packet.Data become attachments automatically.
//   - A Decoder (one per connection) is fed every Engine.IO message with
//     Add and returns each packet once complete. Data is left as a
//     json.RawMessage with placeholders in place, Attachments holds the
//     binary parts, and the wire type (BinaryEvent/BinaryAck) is kept.
//   - Args splits an Event/Ack payload into its arguments, and Unmarshal
//     decodes one argument into a Go value with the attachments put back
//     where the placeholders were. HasBinary tells whether a value holds
//     []byte.
//
// Every malformed input is reported as an *Error matching one of the Err*
// sentinel values; nothing in this package panics on bad input.
package parser
