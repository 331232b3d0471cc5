// Command auth checks a token in the Socket.IO handshake with namespace
// middleware: a client without a valid token is refused with a
// *sori.ConnectError, whose message and data the client gets in its
// connect_error event.
//
//	go run ./examples/auth -addr 127.0.0.1:8080
//
// From Node, with socket.io-client:
//
//	const socket = io("http://127.0.0.1:8080", { auth: { token: "alice-token" } });
//	socket.on("connect_error", (err) => console.log(err.message, err.data));
//	socket.emit("whoami", (name) => console.log("I am", name));
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/sori-dev/sori"
)

// users stands in for a real token store.
var users = map[string]string{
	"alice-token": "alice",
	"bob-token":   "bob",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	io := sori.NewServer(nil)

	// Middleware runs on each connecting socket, before it joins the
	// namespace; returning an error refuses it.
	io.Use(func(s *sori.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		_ = json.Unmarshal(s.Handshake().Auth, &auth) // the client's auth option
		if auth.Token == "" {
			return &sori.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "no token"}}
		}
		name, ok := users[auth.Token]
		if !ok {
			return &sori.ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "unknown token"}}
		}
		s.Data().Set("user", name)
		return nil
	})

	io.OnConnection(func(s *sori.Socket) {
		user := s.Data().String("user", "")
		log.Printf("%s connected as %s", s.ID(), user)
		s.Join("user:" + user) // every socket of this user, on any tab
		_ = s.On("whoami", func(ack func(string)) { ack(user) })
		_ = s.On("logout", func() {
			// The client sees "io server disconnect" and does not reconnect
			// by itself.
			s.Disconnect(false)
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(shutdown)
		_ = hs.Shutdown(shutdown)
	}()
	log.Printf("listening on %s", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
