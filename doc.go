// Package sori is a Socket.IO server: protocol v5 over Engine.IO v4, for
// the official socket.io-client 4.x in browsers and in Node, unchanged.
//
// A Server is an http.Handler; mount it at /socket.io/:
//
//	io := sori.NewServer(nil)
//	io.OnConnection(func(s *sori.Socket) {
//		s.On("enter_room", func(room string, done func()) {
//			s.Join(room)
//			done()
//			s.To(room).Emit("welcome", s.ID())
//		})
//		s.On("disconnecting", func(reason string) {
//			for _, room := range s.Rooms() {
//				s.To(room).Emit("bye")
//			}
//		})
//	})
//	http.Handle("/socket.io/", io)
//
// The parts, as in the Node reference server:
//
//   - Server holds Namespaces: "/" and any created with Of, or made on
//     demand by OfFunc and OfRegexp for dynamic names.
//   - A Namespace runs middleware (Use) on each connecting Socket, then its
//     connection handlers. It broadcasts (Emit, To, Except, Volatile, Local,
//     Timeout) and acts on sockets across a cluster (FetchSockets,
//     SocketsJoin, SocketsLeave, DisconnectSockets, ServerSideEmit).
//   - A Socket is one client in one namespace. Its handlers (On) take
//     ordinary Go values, decoded from the packet, and an optional
//     acknowledgement function last. It is in its own private room, named
//     by its id, and in the rooms it Joins.
//   - An adapter.Adapter tracks rooms and carries broadcasts; the default
//     is in memory, and package redisadapter spans servers.
//
// Handlers of one socket run one at a time, in the order their packets
// came, on a goroutine that exists only while there is work; they may block,
// even on EmitWithAck to the same client, because acknowledgements are
// handled apart from events. A panic in a handler is recovered and logged,
// and the socket carries on.
//
// The official client bundle is served at <path>/socket.io.js (and .min.js,
// .esm.min.js, with source maps), as the reference's serveClient does.
package sori
