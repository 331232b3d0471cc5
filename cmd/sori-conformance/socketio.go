package main

import (
	"context"
	"log/slog"
	"net/http"
)

// Placeholder until the Socket.IO layer lands.
func newSocketIO(*slog.Logger) http.Handler { return http.NotFoundHandler() }

func closeSocketIO(context.Context, http.Handler) error { return nil }
