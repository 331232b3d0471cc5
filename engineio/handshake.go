package engineio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Handshake describes the HTTP request that opened a session. The headers
// are kept compact, as name and value pairs, and the query in URL: an idle
// connection should not pay for two maps. Header and Query build them when
// asked.
type Handshake struct {
	RemoteAddr string // host:port of the peer, as net/http saw it
	Time       time.Time
	URL        string // the request URI, query included
	Secure     bool   // TLS
	Transport  string // the transport the session began on

	header []string // canonical name, value, name, value, ...
}

func newHandshake(r *http.Request, kind transportKind) *Handshake {
	n := 0
	for _, vs := range r.Header {
		n += 2 * len(vs)
	}
	header := make([]string, 0, n)
	for name, vs := range r.Header {
		for _, v := range vs {
			header = append(header, name, v)
		}
	}
	return &Handshake{
		RemoteAddr: r.RemoteAddr,
		Time:       time.Now(),
		URL:        r.URL.RequestURI(),
		Secure:     r.TLS != nil,
		Transport:  kind.String(),
		header:     header,
	}
}

// Header returns the request's headers, in a map of its own.
func (h *Handshake) Header() http.Header {
	out := make(http.Header, len(h.header)/2)
	for i := 0; i+1 < len(h.header); i += 2 {
		out[h.header[i]] = append(out[h.header[i]], h.header[i+1])
	}
	return out
}

// Get returns the first value of the named header, or "".
func (h *Handshake) Get(name string) string {
	name = http.CanonicalHeaderKey(name)
	for i := 0; i+1 < len(h.header); i += 2 {
		if h.header[i] == name {
			return h.header[i+1]
		}
	}
	return ""
}

// Query returns the request's query parameters, in a map of its own.
func (h *Handshake) Query() url.Values {
	_, raw, _ := strings.Cut(h.URL, "?")
	q, _ := url.ParseQuery(raw)
	return q
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
