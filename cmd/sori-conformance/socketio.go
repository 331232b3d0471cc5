package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/engineio"
)

// newSocketIO is the Socket.IO suite's server.
func newSocketIO(log *slog.Logger) *sori.Server {
	io := sori.NewServer(&sori.Options{
		ConnectTimeout: time.Second,
		Engine: engineio.Options{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			CORS:         &engineio.CORS{Origins: []string{"*"}},
		},
		Logger: log,
	})
	onConnect := func(s *sori.Socket) {
		_ = s.Emit("auth", json.RawMessage(s.Handshake().Auth))
		_ = s.On("message", func(a sori.Args) {
			if vals, err := a.Values(); err == nil {
				_ = s.Emit("message-back", vals...)
			}
		})
		_ = s.On("message-with-ack", func(a sori.Args, ack func(...any)) {
			if vals, err := a.Values(); err == nil {
				ack(vals...)
			}
		})
	}
	io.OnConnection(onConnect)
	io.Of("/custom").OnConnection(onConnect)
	return io
}

func closeSocketIO(ctx context.Context, io *sori.Server) error { return io.Close(ctx) }
