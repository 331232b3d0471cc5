package engineio

import (
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strings"
	"sync"
)

var (
	gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}
	zlibPool = sync.Pool{New: func() any { return zlib.NewWriter(io.Discard) }}
)

// writeCompressed writes body gzip- or deflate-encoded when the client
// accepts one, as the reference's httpCompression does. It reports whether
// it wrote.
func writeCompressed(w http.ResponseWriter, r *http.Request, body []byte) bool {
	enc := acceptedEncoding(r.Header.Get("Accept-Encoding"))
	if enc == "" {
		return false
	}
	w.Header().Set("Content-Encoding", enc)
	w.Header().Add("Vary", "Accept-Encoding")
	w.WriteHeader(http.StatusOK)
	switch enc {
	case "gzip":
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		gzipPool.Put(zw)
	default:
		// HTTP's "deflate" is the zlib format (RFC 9110, 8.4.1.2).
		zw := zlibPool.Get().(*zlib.Writer)
		zw.Reset(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
		zlibPool.Put(zw)
	}
	return true
}

func acceptedEncoding(accept string) string {
	var deflate bool
	for part := range strings.SplitSeq(accept, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0") && !strings.Contains(params, "q=0.") {
			continue // explicitly refused
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "*":
			return "gzip"
		case "deflate":
			deflate = true
		}
	}
	if deflate {
		return "deflate"
	}
	return ""
}
