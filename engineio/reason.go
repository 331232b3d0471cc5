package engineio

// Reason says why a session closed. The names are those of the Node
// reference server, so handlers written for it read the same.
type Reason string

// Close reasons.
const (
	// ReasonTransportClose: the client closed the connection or sent a close packet.
	ReasonTransportClose Reason = "transport close"
	// ReasonTransportError: the connection failed, or the client broke the protocol's rules
	// (an overlapping poll, a message over the size limit).
	ReasonTransportError Reason = "transport error"
	// ReasonPingTimeout: the client did not answer a ping within PingTimeout.
	ReasonPingTimeout Reason = "ping timeout"
	// ReasonForcedClose: the server closed the session (Session.Close).
	ReasonForcedClose Reason = "forced close"
	// ReasonParseError: the client sent a packet that does not decode.
	ReasonParseError Reason = "parse error"
	// ReasonQueueFull: the client read too slowly and its send queue passed MaxQueuedBytes.
	ReasonQueueFull Reason = "send queue full"
	// ReasonServerShutdown: the server is closing (Server.Close).
	ReasonServerShutdown Reason = "server shutting down"
)
