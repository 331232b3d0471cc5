// Package clientbundle serves the official socket.io-client browser
// bundle, embedded in the binary so that it stands alone.
//
// The files come from the socket.io-client npm package at build time
// (`make bundle` copies them into dist/); third-party code is never
// committed. A binary built without them answers 404 for the bundle and
// logs why once.
package clientbundle

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed dist
var dist embed.FS

type file struct {
	body        []byte
	etag        string
	contentType string
}

var files = load()

// Names are the files served, as at <path>/<name>.
var Names = []string{
	"socket.io.js", "socket.io.js.map",
	"socket.io.min.js", "socket.io.min.js.map",
	"socket.io.esm.min.js", "socket.io.esm.min.js.map",
}

func load() map[string]file {
	out := make(map[string]file)
	for _, name := range Names {
		body, err := fs.ReadFile(dist, "dist/"+name)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(body)
		ct := "application/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".map") {
			ct = "application/json; charset=utf-8"
		}
		out[name] = file{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ct}
	}
	return out
}

// Available reports whether the bundle was embedded.
func Available() bool { return len(files) > 0 }

// Serve writes the named bundle file, with an ETag and 304 for a matching
// If-None-Match. It reports false when name is not a bundle file.
func Serve(w http.ResponseWriter, r *http.Request, name string) bool {
	isName := false
	for _, n := range Names {
		isName = isName || n == name
	}
	if !isName {
		return false
	}
	f, ok := files[name]
	if !ok {
		http.Error(w, "client bundle not embedded: build with `make build`", http.StatusNotFound)
		return true
	}
	h := w.Header()
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "public, max-age=0")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h.Set("Content-Type", f.contentType)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return true
	}
	_, _ = w.Write(f.body)
	return true
}
