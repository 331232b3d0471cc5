package engineio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Handshake describes the HTTP request that opened a session. It is
// shared: treat it as read-only.
type Handshake struct {
	Header     http.Header
	Query      url.Values
	RemoteAddr string // host:port of the peer, as net/http saw it
	Time       time.Time
	URL        string // the request URI
	Secure     bool   // TLS
	Transport  string // the transport the session began on
}

func newHandshake(r *http.Request, q url.Values, kind transportKind) *Handshake {
	return &Handshake{
		Header:     r.Header, // net/http is done with it: no copy per session
		Query:      q,
		RemoteAddr: r.RemoteAddr,
		Time:       time.Now(),
		URL:        r.URL.RequestURI(),
		Secure:     r.TLS != nil,
		Transport:  kind.String(),
	}
}

// openMessage is the handshake packet: 0{"sid",...}.
func (s *Session) openMessage() *Message {
	o := &s.srv.opts
	upgrades := []string{}
	if s.kind == kindPolling && !o.DisallowUpgrades && o.allows(transportWebSocket) {
		upgrades = append(upgrades, transportWebSocket)
	}
	data, _ := json.Marshal(struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int64    `json:"pingInterval"`
		PingTimeout  int64    `json:"pingTimeout"`
		MaxPayload   int      `json:"maxPayload"`
	}{s.id, upgrades, o.PingInterval.Milliseconds(), o.PingTimeout.Milliseconds(), o.MaxHTTPBufferSize})
	return newPacket(0, data, false)
}
