package sori

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sori-dev/sori/engineio"
)

// Handshake describes how a socket connected: the HTTP request that opened
// its connection, and the auth payload of its CONNECT packet.
type Handshake struct {
	// Auth is the client's auth option, as JSON ({} when none).
	Auth    json.RawMessage
	Address string // the peer's IP address
	Time    time.Time
	URL     string
	Secure  bool
	// XDomain is true when the request came with an Origin header.
	XDomain bool

	e       *engineio.Handshake // this server's sockets: headers kept compact
	headers http.Header         // a remote socket's, from FetchSockets
	query   url.Values          // likewise
}

func newHandshake(e *engineio.Handshake, auth json.RawMessage) *Handshake {
	addr := e.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		addr = strings.TrimSuffix(strings.TrimPrefix(addr[:i], "["), "]")
	}
	if len(auth) == 0 {
		auth = json.RawMessage("{}")
	}
	return &Handshake{
		Auth:    auth,
		Address: addr,
		Time:    e.Time,
		URL:     e.URL,
		Secure:  e.Secure,
		XDomain: e.Get("Origin") != "",
		e:       e,
	}
}

// Headers returns the request's headers, in a map of the caller's.
func (h *Handshake) Headers() http.Header {
	if h.e != nil {
		return h.e.Header()
	}
	return h.headers.Clone()
}

// Header returns the first value of the named request header, or "".
func (h *Handshake) Header(name string) string {
	if h.e != nil {
		return h.e.Get(name)
	}
	return h.headers.Get(name)
}

// Query returns the request's query parameters, in a map of the caller's.
func (h *Handshake) Query() url.Values {
	if h.e == nil && h.query != nil {
		return maps.Clone(h.query)
	}
	_, raw, _ := strings.Cut(h.URL, "?")
	q, _ := url.ParseQuery(raw)
	return q
}

// MarshalJSON writes the handshake as the Node server describes it to a
// cluster: headers and query as objects of strings, time as text and
// issued as milliseconds.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	hdr := h.Headers()
	headers := make(map[string]string, len(hdr))
	for k, v := range hdr {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	q := h.Query()
	query := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) > 0 {
			query[k] = v[0]
		}
	}
	return json.Marshal(struct {
		Headers map[string]string `json:"headers"`
		Time    string            `json:"time"`
		Address string            `json:"address"`
		XDomain bool              `json:"xdomain"`
		Secure  bool              `json:"secure"`
		Issued  int64             `json:"issued"`
		URL     string            `json:"url"`
		Query   map[string]string `json:"query"`
		Auth    json.RawMessage   `json:"auth"`
	}{headers, h.Time.UTC().Format(time.RFC1123), h.Address, h.XDomain, h.Secure,
		h.Time.UnixMilli(), h.URL, query, h.Auth})
}

// UnmarshalJSON reads the cluster form that MarshalJSON writes.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var w struct {
		Headers map[string]any  `json:"headers"`
		Address string          `json:"address"`
		XDomain bool            `json:"xdomain"`
		Secure  bool            `json:"secure"`
		Issued  int64           `json:"issued"`
		URL     string          `json:"url"`
		Query   map[string]any  `json:"query"`
		Auth    json.RawMessage `json:"auth"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	h.headers = make(http.Header, len(w.Headers))
	for k, v := range w.Headers {
		if s, ok := v.(string); ok {
			h.headers.Set(k, s)
		}
	}
	h.query = make(url.Values, len(w.Query))
	for k, v := range w.Query {
		if s, ok := v.(string); ok {
			h.query.Set(k, s)
		}
	}
	h.Address, h.XDomain, h.Secure, h.URL, h.Auth = w.Address, w.XDomain, w.Secure, w.URL, w.Auth
	h.Time = time.UnixMilli(w.Issued)
	return nil
}
