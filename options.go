package sori

import (
	"log/slog"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/engineio"
)

// Options configures a Server. Zero fields take the reference server's
// defaults.
type Options struct {
	// Path the server answers under ("/socket.io/"); used by the client
	// bundle's routes. Mount the Server on the same path.
	Path string
	// ConnectTimeout closes a connection that joins no namespace in time
	// (45s).
	ConnectTimeout time.Duration
	// Adapter makes each namespace's adapter (adapter.NewMemory).
	Adapter func(nsp adapter.Namespace) adapter.Adapter
	// DisableServeClient stops serving the client bundle.
	DisableServeClient bool
	// MaxAttachments bounds the binary attachments of one packet (10).
	MaxAttachments int
	// Engine configures the Engine.IO server beneath.
	Engine engineio.Options
	// Logger receives the server's logs (slog.Default()).
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 45 * time.Second
	}
	if c.Adapter == nil {
		c.Adapter = func(nsp adapter.Namespace) adapter.Adapter { return adapter.NewMemory(nsp) }
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return c
}
