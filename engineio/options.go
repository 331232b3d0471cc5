package engineio

import (
	"log/slog"
	"net/http"
	"time"
)

// Options configures a Server. The zero value of each field means the
// reference server's default, noted beside it.
type Options struct {
	// PingInterval is how often the server pings a client (25s).
	PingInterval time.Duration
	// PingTimeout is how long a client has to answer a ping before its
	// session closes with ReasonPingTimeout (20s).
	PingTimeout time.Duration
	// UpgradeTimeout is how long a client has to finish an upgrade to
	// WebSocket once it opened one (10s); the session stays on polling
	// when it does not.
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest message, or polling request body,
	// a client may send, in bytes (1e6). A larger one closes the session.
	MaxHTTPBufferSize int
	// MaxQueuedBytes bounds the bytes waiting to be written to one client
	// (4 MiB, and never less than MaxHTTPBufferSize). Past it the session
	// closes with ReasonQueueFull.
	MaxQueuedBytes int
	// Transports lists the transports clients may use, of "polling" and
	// "websocket" (both).
	Transports []string
	// DisallowUpgrades stops clients from moving from polling to
	// WebSocket (the reference's allowUpgrades: false).
	DisallowUpgrades bool
	// AllowRequest, when set, sees each handshake and upgrade request; an
	// error refuses it with 403 and {"code":4,"message":err.Error()}, or
	// with the code and message of a *RequestError.
	AllowRequest func(r *http.Request) error
	// CORS, when set, answers cross-origin requests and preflights. Off by
	// default, as in the reference server.
	CORS *CORS
	// Cookie, when set, is sent with the handshake, its value the session
	// id. Name defaults to "io", Path to "/" and SameSite to Lax; it is
	// always HttpOnly, as the reference's default (a bool cannot tell an
	// unset field from false).
	Cookie *http.Cookie
	// PerMessageDeflate enables the WebSocket permessage-deflate extension
	// (off). Messages under CompressionThreshold are sent uncompressed.
	PerMessageDeflate bool
	// DisableHTTPCompression turns off gzip/deflate of polling responses
	// (the reference's httpCompression, on by default).
	DisableHTTPCompression bool
	// CompressionThreshold is the size from which a polling response or
	// WebSocket message is compressed (1024 bytes).
	CompressionThreshold int
	// CheckOrigin, when set, decides whether a WebSocket handshake from the
	// given Origin is accepted. Nil accepts a request with no Origin (not a
	// browser), from the server's own origin, or from an origin CORS
	// allows: unlike the reference, which accepts every origin, Sori refuses
	// cross-site WebSocket hijacking by default.
	CheckOrigin func(r *http.Request) bool
	// MaxConnections bounds the open sessions (0: no bound). A handshake
	// past it gets 503.
	MaxConnections int
	// MaxConnectionsPerIP bounds the open sessions of one client address
	// (0: no bound). A handshake past it gets 429.
	MaxConnectionsPerIP int
	// ClientIP gives the address that MaxConnectionsPerIP counts; nil uses
	// the peer's address. Behind a proxy, read its header here.
	ClientIP func(r *http.Request) string
	// DisableNetpoll gives every WebSocket a reading goroutine. By default,
	// on Linux, idle WebSockets are watched by one epoll instance and have
	// no goroutine.
	DisableNetpoll bool
	// WriteTimeout bounds one write to a client's connection (10s).
	WriteTimeout time.Duration
	// Logger receives the server's logs (slog.Default()).
	Logger *slog.Logger
}

// CORS configures answers to cross-origin requests.
type CORS struct {
	// Origins lists the allowed origins; "*" allows any.
	Origins []string
	// AllowOrigin, when set, decides for origins not in Origins.
	AllowOrigin func(origin string) bool
	// Credentials allows cookies and credentials
	// (Access-Control-Allow-Credentials: true).
	Credentials bool
	// Methods allowed in preflights ("GET,HEAD,PUT,PATCH,POST,DELETE").
	Methods string
	// AllowedHeaders for preflights; empty reflects the request's
	// Access-Control-Request-Headers.
	AllowedHeaders string
	// MaxAge of a preflight answer; zero sends none.
	MaxAge time.Duration
}

// withDefaults returns a copy of o with every zero field set to its
// default.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = 1e6
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = 4 << 20
	}
	if c.MaxQueuedBytes < c.MaxHTTPBufferSize {
		c.MaxQueuedBytes = c.MaxHTTPBufferSize
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{transportPolling, transportWebSocket}
	}
	if c.CompressionThreshold <= 0 {
		c.CompressionThreshold = 1024
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Cookie != nil {
		ck := *c.Cookie
		if ck.Name == "" {
			ck.Name = "io"
		}
		if ck.Path == "" {
			ck.Path = "/"
		}
		if ck.SameSite == 0 {
			ck.SameSite = http.SameSiteLaxMode
		}
		ck.HttpOnly = true
		c.Cookie = &ck
	}
	return c
}

func (o *Options) allows(transport string) bool {
	for _, t := range o.Transports {
		if t == transport {
			return true
		}
	}
	return false
}
