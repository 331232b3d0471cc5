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
	// MaxRoomsPerSocket bounds the rooms one socket may be in, its private
	// room included (1000; negative: no bound). Join past it fails.
	MaxRoomsPerSocket int
	// EventsPerSecond is the rate of events one socket may send on average
	// (100; negative: no bound). Faster senders are slowed down: their
	// connection is read no faster than the rate allows.
	EventsPerSecond float64
	// EventBurst is how many events a socket may send at once above the
	// rate (2 × EventsPerSecond).
	EventBurst int
	// FloodTimeout disconnects a socket that stays over the rate this long
	// without a break (5s), with the reason "event rate limit exceeded".
	FloodTimeout time.Duration
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
	if c.MaxRoomsPerSocket == 0 {
		c.MaxRoomsPerSocket = 1000
	}
	if c.EventsPerSecond == 0 {
		c.EventsPerSecond = 100
	}
	if c.EventBurst <= 0 {
		c.EventBurst = int(2 * max(c.EventsPerSecond, 1))
	}
	if c.FloodTimeout <= 0 {
		c.FloodTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Engine.Logger == nil {
		c.Engine.Logger = c.Logger
	}
	return c
}
