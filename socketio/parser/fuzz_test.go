package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzDecoder feeds a text message, then (while the decoder waits for
// them) copies of bin as attachments. Errors must be *Error values; every
// decoded packet must survive an Encode/decode round trip and have usable
// arguments.
func FuzzDecoder(f *testing.F) {
	for _, c := range specCases {
		f.Add([]byte(c.text), []byte{1, 2, 3})
	}
	f.Add([]byte(`52-["a",{"_placeholder":true,"num":1,"x":{"_placeholder":true,"num":7}},{"_placeholder":true,"num":0}]`), []byte{})
	f.Add([]byte(`2["\u0063onnect"]`), []byte(nil))
	f.Add([]byte(`218446744073709551616["a"]`), []byte(nil))

	f.Fuzz(func(t *testing.T, text, bin []byte) {
		var d Decoder
		p, err := d.Add(text, false)
		for i := 0; err == nil && p == nil; i++ {
			if i > DefaultMaxAttachments {
				t.Fatalf("%q: still pending after %d attachments", text, i)
			}
			p, err = d.Add(bin, true)
		}
		if err != nil {
			var e *Error
			if p != nil || !errors.As(err, &e) {
				t.Fatalf("%q: got %v, %#v", text, p, err)
			}
			return
		}
		if p.Namespace == "" || p.Namespace[0] != '/' || bytes.IndexByte([]byte(p.Namespace), ',') >= 0 {
			t.Fatalf("%q: bad namespace %q", text, p.Namespace)
		}
		if p.Type.binary() != (len(p.Attachments) > 0) {
			t.Fatalf("%q: type %v with %d attachments", text, p.Type, len(p.Attachments))
		}

		text2, atts2, err := Encode(p)
		if err != nil {
			t.Fatalf("%q: re-encode: %v", text, err)
		}
		var d2 Decoder
		p2, err := d2.Add(text2, false)
		for _, a := range atts2 {
			if err != nil || p2 != nil {
				break
			}
			p2, err = d2.Add(a, true)
		}
		if err != nil || p2 == nil {
			t.Fatalf("%q -> %q: re-decode: %v, %v", text, text2, p2, err)
		}
		if p2.Type != p.Type || p2.Namespace != p.Namespace || p2.ID != p.ID || p2.HasID != p.HasID ||
			len(p2.Attachments) != len(p.Attachments) || compact(p.Data) != compact(p2.Data) {
			t.Fatalf("%q -> %q: round trip changed %+v into %+v", text, text2, p, p2)
		}

		switch p.Type {
		case Event, Ack, BinaryEvent, BinaryAck:
			args, err := Args(p.Data.(json.RawMessage))
			if err != nil {
				t.Fatalf("%q: Args: %v", text, err)
			}
			for _, a := range args {
				var v any
				if err := Unmarshal(a, p.Attachments, &v); err != nil && !outOfRange(err) {
					t.Fatalf("%q: Unmarshal(%s): %v", text, a, err)
				}
				var s struct {
					A []byte
					B any
				}
				_ = Unmarshal(a, p.Attachments, &s) // may not fit; must not panic
			}
		}
	})
}

func compact(v any) string {
	raw, _ := v.(json.RawMessage)
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "invalid: " + string(raw)
	}
	return b.String()
}

// outOfRange reports a JSON number too large for a float64 (1e1000): valid
// JSON that encoding/json refuses to put in an any, with an error.
func outOfRange(err error) bool {
	var ute *json.UnmarshalTypeError
	return errors.As(err, &ute) && strings.HasPrefix(ute.Value, "number")
}
