package clientbundle

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestServeWithETag(t *testing.T) {
	if !Available() {
		if os.Getenv("CI") != "" {
			t.Fatal("the client bundle is not embedded: `make bundle` must run before the tests")
		}
		t.Skip("client bundle not embedded (make bundle)")
	}
	for _, name := range Names {
		rec := httptest.NewRecorder()
		if !Serve(rec, httptest.NewRequest("GET", "/socket.io/"+name, nil), name) {
			t.Fatalf("%s not served", name)
		}
		etag := rec.Header().Get("ETag")
		if rec.Code != 200 || etag == "" || rec.Body.Len() == 0 {
			t.Fatalf("%s: %d, ETag %q, %d bytes", name, rec.Code, etag, rec.Body.Len())
		}
		want := "application/javascript"
		if strings.HasSuffix(name, ".map") {
			want = "application/json"
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Fatalf("%s: Content-Type %q", name, ct)
		}
		req := httptest.NewRequest("GET", "/socket.io/"+name, nil)
		req.Header.Set("If-None-Match", etag)
		rec = httptest.NewRecorder()
		Serve(rec, req, name)
		if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Fatalf("%s with its ETag: %d, %d bytes", name, rec.Code, rec.Body.Len())
		}
	}
	if Serve(httptest.NewRecorder(), httptest.NewRequest("GET", "/socket.io/other.js", nil), "other.js") {
		t.Fatal("served a file that is not the bundle")
	}
}
