package engineio

import (
	"net/http"
	"slices"
	"strconv"
)

// applyCORS sets the CORS headers for r. It reports whether r was a
// preflight, which it has answered.
func (c *CORS) apply(w http.ResponseWriter, r *http.Request) (preflight bool) {
	origin := r.Header.Get("Origin")
	h := w.Header()
	h.Add("Vary", "Origin")
	allowed := ""
	switch {
	case slices.Contains(c.Origins, "*") && !c.Credentials:
		allowed = "*"
	case origin != "" && c.allows(origin):
		allowed = origin
	}
	if allowed != "" {
		h.Set("Access-Control-Allow-Origin", allowed)
		if c.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method != http.MethodOptions {
		return false
	}
	methods := c.Methods
	if methods == "" {
		methods = "GET,HEAD,PUT,PATCH,POST,DELETE"
	}
	h.Set("Access-Control-Allow-Methods", methods)
	if c.AllowedHeaders != "" {
		h.Set("Access-Control-Allow-Headers", c.AllowedHeaders)
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// allows reports whether a cross-origin request from origin is allowed.
func (c *CORS) allows(origin string) bool {
	return slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin) ||
		(c.AllowOrigin != nil && c.AllowOrigin(origin))
}
