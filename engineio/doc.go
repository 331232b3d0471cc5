// Package engineio is an Engine.IO protocol v4 server: the transport layer
// under Socket.IO.
//
// A Server is an http.Handler. Mount it on any mux at the path clients use
// (the bare engine at "/engine.io/", Socket.IO at "/socket.io/"):
//
//	srv := engineio.NewServer(nil) // the reference server's defaults
//	srv.OnConnection(func(s *engineio.Session) engineio.Receiver {
//		return echo{s}
//	})
//	http.Handle("/engine.io/", srv)
//
// Each client is a Session. It begins on HTTP long-polling or directly on
// WebSocket, and may move from polling to WebSocket by the protocol's upgrade
// (2probe, 3probe, 5). The layer above sees none of that: it gets the
// session's Handshake, each message through its Receiver, and a close
// reason once.
//
// Cost per session: while idle on WebSocket a session holds one goroutine
// (blocked reading its connection), a small read buffer, and no write
// buffer; a writer goroutine exists only while there is something to write,
// and it writes everything queued in one system call. Heartbeats use a
// runtime timer, not a goroutine. Outgoing messages wait in a queue bounded
// in bytes (Options.MaxQueuedBytes); a client that cannot keep up is closed
// with ReasonQueueFull and its queue released, so no slow reader ever
// blocks the server or its other clients.
//
// A Message is encoded once and can be sent to any number of sessions:
// broadcasts share its bytes.
package engineio
