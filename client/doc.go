// Package client is a Socket.IO client: protocol v5 over Engine.IO v4, for
// Sori and for the Node reference server, with the JS client's behaviour.
//
//	s, err := client.Dial(ctx, "http://localhost:3000/", &client.Options{
//		Auth: map[string]string{"token": "abc"},
//	})
//	if err != nil { ... }          // a *ConnectError when the server refused
//	defer s.Close()
//	s.On("new_message", func(text string) { fmt.Println(text) })
//	s.On("disconnect", func(reason string) { log.Print(reason) })
//	if _, err := s.EmitWithAck(ctx, "enter_room", "lobby"); err != nil { ... }
//	s.Emit("new_message", "hello", "lobby", func(reply Reply) { ... })
//
// The parts, as in the JS client:
//
//   - Dial connects and waits; Connect (the JS io(url)) returns at once and
//     connects in the background. The URL's path is the namespace.
//   - A Manager is one connection: one Engine.IO session at a time, on
//     "websocket" or "polling" (then upgraded to WebSocket; see
//     Options.Transports), shared by the Sockets of every namespace
//     (Manager.Socket). After a loss it reconnects with exponential backoff
//     and jitter (Options.Reconnection*), and the sockets connect again,
//     auth included; a socket the server disconnected ("io server
//     disconnect") stays disconnected.
//   - A Socket is one namespace. On binds handlers whose parameters are
//     decoded from the event's arguments ([]byte for binary), a last func
//     parameter answering the server's acknowledgement. Emit sends, a last
//     func argument taking the server's answer; EmitWithAck waits for it.
//     Emits made while disconnected are buffered until connected.
//
// Handlers run one at a time on a goroutine of the Manager's, never on the
// connection's, so they may block, even on EmitWithAck. Close ends every
// goroutine the client started.
package client
