package sori

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sori-dev/sori/engineio"
)

// Handshake describes how a socket connected: the HTTP request that opened
// its connection, and the auth payload of its CONNECT packet.
type Handshake struct {
	Headers http.Header
	Query   url.Values
	// Auth is the client's auth option, as JSON (null when none).
	Auth    json.RawMessage
	Address string // the peer's IP address
	Time    time.Time
	URL     string
	Secure  bool
	// XDomain is true when the request came with an Origin header.
	XDomain bool
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
		Headers: e.Header,
		Query:   e.Query,
		Auth:    auth,
		Address: addr,
		Time:    e.Time,
		URL:     e.URL,
		Secure:  e.Secure,
		XDomain: e.Header.Get("Origin") != "",
	}
}

// MarshalJSON writes the handshake as the Node server describes it to a
// cluster: headers and query as objects of strings, time as text and
// issued as milliseconds.
func (h *Handshake) MarshalJSON() ([]byte, error) {
	headers := make(map[string]string, len(h.Headers))
	for k, v := range h.Headers {
		headers[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	query := make(map[string]string, len(h.Query))
	for k, v := range h.Query {
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
	h.Headers = make(http.Header, len(w.Headers))
	for k, v := range w.Headers {
		if s, ok := v.(string); ok {
			h.Headers.Set(k, s)
		}
	}
	h.Query = make(url.Values, len(w.Query))
	for k, v := range w.Query {
		if s, ok := v.(string); ok {
			h.Query.Set(k, s)
		}
	}
	h.Address, h.XDomain, h.Secure, h.URL, h.Auth = w.Address, w.XDomain, w.Secure, w.URL, w.Auth
	h.Time = time.UnixMilli(w.Issued)
	return nil
}
