package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// Options configures a connection. The zero value of each field means the
// JS client's default, noted beside it.
type Options struct {
	// Path is the server's Socket.IO path ("/socket.io/").
	Path string
	// Transports lists the transports to use, "polling" and "websocket",
	// in order: the first opens the connection, and a connection opened on
	// polling upgrades to WebSocket when "websocket" is listed too and the
	// server offers it ({"polling", "websocket"}).
	Transports []string
	// Upgrade allows the move from polling to WebSocket (nil: true).
	Upgrade *bool
	// Query is added to the URL's query on every request.
	Query url.Values
	// Header is sent with every HTTP request and WebSocket handshake.
	Header http.Header
	// Auth is the payload of each namespace CONNECT, any JSON-able value,
	// read by the server's middleware. A func() any is called at each
	// (re)connection for a fresh value.
	Auth any
	// Timeout bounds each attempt to open the connection (20s).
	Timeout time.Duration

	// Reconnection turns automatic reconnection on or off (nil: on). A
	// connection lost for any reason other than the server or the client
	// disconnecting the socket is opened again after a delay that grows
	// from ReconnectionDelay (1s) to ReconnectionDelayMax (5s), doubling at
	// each attempt and spread by ±RandomizationFactor (0.5; negative for
	// none), at most ReconnectionAttempts times (0: without end).
	Reconnection         *bool
	ReconnectionAttempts int
	ReconnectionDelay    time.Duration
	ReconnectionDelayMax time.Duration
	RandomizationFactor  float64

	// MaxBuffered bounds the packets an unconnected socket keeps to send
	// once connected (1024); Emit fails with ErrBufferFull past it.
	MaxBuffered int

	// HTTPClient makes the polling requests. By default each Manager has
	// its own, whose idle connections are closed with it.
	HTTPClient *http.Client
	// Dialer opens WebSocket connections (a copy of
	// websocket.DefaultDialer).
	Dialer *websocket.Dialer
	// Logger receives errors of handlers that have no OnError handler
	// (slog.Default()).
	Logger *slog.Logger
}

// Bool returns a pointer to b, for Options.Upgrade and
// Options.Reconnection.
func Bool(b bool) *bool { return &b }

const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Path == "" {
		c.Path = "/socket.io/"
	}
	if !strings.HasPrefix(c.Path, "/") {
		c.Path = "/" + c.Path
	}
	if !strings.HasSuffix(c.Path, "/") {
		c.Path += "/"
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{transportPolling, transportWebSocket}
	}
	for _, t := range c.Transports {
		if t != transportPolling && t != transportWebSocket {
			return c, fmt.Errorf("socket.io client: unknown transport %q", t)
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.ReconnectionDelay <= 0 {
		c.ReconnectionDelay = time.Second
	}
	if c.ReconnectionDelayMax <= 0 {
		c.ReconnectionDelayMax = 5 * time.Second
	}
	if c.ReconnectionDelayMax < c.ReconnectionDelay {
		c.ReconnectionDelayMax = c.ReconnectionDelay
	}
	switch {
	case c.RandomizationFactor == 0:
		c.RandomizationFactor = 0.5
	case c.RandomizationFactor < 0:
		c.RandomizationFactor = 0
	case c.RandomizationFactor > 1:
		c.RandomizationFactor = 1
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = 1024
	}
	return c, nil
}

func (o *Options) reconnection() bool { return o.Reconnection == nil || *o.Reconnection }
func (o *Options) upgrade() bool      { return o.Upgrade == nil || *o.Upgrade }

// parseURL splits a URL such as http://host:3000/admin?x=1 into the
// server's base URL and the namespace, the URL's path ("/" when empty), as
// the JS client's io(url) does. ws and wss schemes are taken too.
func parseURL(raw string) (base *url.URL, nsp string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("socket.io client: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
	case "ws":
		u.Scheme = "http"
	case "wss":
		u.Scheme = "https"
	default:
		return nil, "", fmt.Errorf("socket.io client: URL scheme %q: want http, https, ws or wss", u.Scheme)
	}
	if u.Host == "" {
		return nil, "", errors.New("socket.io client: URL without a host")
	}
	nsp = u.Path
	if nsp == "" {
		nsp = "/"
	}
	u.Path, u.RawPath, u.Fragment = "", "", ""
	return u, nsp, nil
}
