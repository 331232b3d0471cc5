package engineio

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Errors of refused handshakes. A refusal is answered before any upgrade:
// 503 for a full server, 429 for an address over its share.
var (
	ErrTooManyConnections = errors.New("engine.io: too many connections")
	ErrTooManyFromAddress = errors.New("engine.io: too many connections from this address")
)

// clientIP is the address connection limits count against.
func (srv *Server) clientIP(r *http.Request) string {
	if srv.opts.ClientIP != nil {
		return srv.opts.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// overLimitLocked says whether one more session from ip would pass a limit.
// srv.mu must be held.
func (srv *Server) overLimitLocked(ip string) error {
	if max := srv.opts.MaxConnections; max > 0 && len(srv.sessions) >= max {
		return ErrTooManyConnections
	}
	if max := srv.opts.MaxConnectionsPerIP; max > 0 && srv.perIP[ip] >= max {
		return ErrTooManyFromAddress
	}
	return nil
}

// checkLimits answers a handshake that would pass a limit. Checked again,
// atomically, when the session is registered.
func (srv *Server) checkLimits(w http.ResponseWriter, ip string) bool {
	if srv.opts.MaxConnections <= 0 && srv.opts.MaxConnectionsPerIP <= 0 {
		return true
	}
	srv.mu.RLock()
	err := srv.overLimitLocked(ip)
	srv.mu.RUnlock()
	if err != nil {
		writeLimitError(w, err)
		return false
	}
	return true
}

func writeLimitError(w http.ResponseWriter, err error) {
	status := http.StatusServiceUnavailable
	if errors.Is(err, ErrTooManyFromAddress) {
		status = http.StatusTooManyRequests
	}
	writeErrorStatus(w, status, CodeForbidden, strings.TrimPrefix(err.Error(), "engine.io: "))
}

// checkOrigin guards WebSocket handshakes against cross-site WebSocket
// hijacking: browsers send Origin, and a page of another site may only
// connect when CORS allows its origin. Clients that send no Origin (Node,
// Go) are not browsers and pass.
func (srv *Server) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if srv.opts.CORS != nil && srv.opts.CORS.allows(origin) {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}
