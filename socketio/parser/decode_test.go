package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// feed decodes a text message and its attachments, failing the test on
// any error.
func feed(t *testing.T, d *Decoder, text string, atts ...[]byte) *Packet {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	if err != nil {
		t.Fatalf("Add(%q): %v", text, err)
	}
	for i, a := range atts {
		if p != nil {
			t.Fatalf("Add(%q): packet complete before attachment %d", text, i)
		}
		if p, err = d.Add(a, true); err != nil {
			t.Fatalf("attachment %d: %v", i, err)
		}
	}
	if p == nil {
		t.Fatalf("Add(%q): packet not complete", text)
	}
	return p
}

func compactJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestDecodeSpec(t *testing.T) {
	for _, c := range specCases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			p := feed(t, &d, c.text, c.atts...)
			if p.Type != c.p.Type || p.Namespace != c.p.Namespace || p.ID != c.p.ID || p.HasID != c.p.HasID {
				t.Errorf("got %v %q %d %v, want %v %q %d %v", p.Type, p.Namespace, p.ID, p.HasID,
					c.p.Type, c.p.Namespace, c.p.ID, c.p.HasID)
			}
			if c.p.Data == nil {
				if p.Data != nil {
					t.Errorf("Data = %s, want none", p.Data)
				}
			} else {
				raw, ok := p.Data.(json.RawMessage)
				if !ok {
					t.Fatalf("Data is %T, want json.RawMessage", p.Data)
				}
				// Compare with the attachments put back.
				var got any
				if err := Unmarshal(raw, p.Attachments, &got); err != nil {
					t.Fatal(err)
				}
				if g, w := compactJSON(t, got), compactJSON(t, c.p.Data); g != w {
					t.Errorf("Data = %s, want %s", g, w)
				}
			}
			if !reflect.DeepEqual(p.Attachments, c.atts) {
				t.Errorf("Attachments = %v, want %v", p.Attachments, c.atts)
			}
		})
	}
}

func TestDecodeForms(t *testing.T) {
	cases := []struct {
		in    string
		typ   Type
		nsp   string
		id    uint64
		hasID bool
		data  string
	}{
		{`0`, Connect, "/", 0, false, ""},
		{`0/`, Connect, "/", 0, false, ""},
		{`0/,`, Connect, "/", 0, false, ""},
		{`1/admin`, Disconnect, "/admin", 0, false, ""},
		{`1/admin,`, Disconnect, "/admin", 0, false, ""},
		{`0/admin?x=1,{"a":1}`, Connect, "/admin?x=1", 0, false, `{"a":1}`},
		{`2 ["a"] `, Event, "/", 0, false, ` ["a"] `},
		{`2[ -1.5e3 ,"x"]`, Event, "/", 0, false, `[ -1.5e3 ,"x"]`},
		{`2["\u0063onnected"]`, Event, "/", 0, false, `["\u0063onnected"]`},
		{`218446744073709551615["a"]`, Event, "/", 18446744073709551615, true, `["a"]`},
		{`2/a,0["a"]`, Event, "/a", 0, true, `["a"]`},
		{`3/a,7[]`, Ack, "/a", 7, true, `[]`},
		{`012{}`, Connect, "/", 12, true, `{}`},
		{`4"nope"`, ConnectError, "/", 0, false, `"nope"`},
		{`2["a",{"_placeholder":true,"num":5}]`, Event, "/", 0, false, `["a",{"_placeholder":true,"num":5}]`},
	}
	for _, c := range cases {
		var d Decoder
		p := feed(t, &d, c.in)
		if p.Type != c.typ || p.Namespace != c.nsp || p.ID != c.id || p.HasID != c.hasID {
			t.Errorf("%s: got %v %q %d %v", c.in, p.Type, p.Namespace, p.ID, p.HasID)
		}
		if c.data == "" {
			if p.Data != nil {
				t.Errorf("%s: Data = %s, want nil", c.in, p.Data)
			}
		} else if raw, _ := p.Data.(json.RawMessage); string(raw) != c.data {
			t.Errorf("%s: Data = %s, want %s", c.in, raw, c.data)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	many := `53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`
	cases := []struct {
		in  string
		max int
		err error
	}{
		// Unknown type.
		{``, 0, ErrUnknownType},
		{`7`, 0, ErrUnknownType},
		{`999`, 0, ErrUnknownType},
		{`a["x"]`, 0, ErrUnknownType},
		// Attachment count.
		{`5`, 0, ErrAttachments},
		{`51`, 0, ErrAttachments},
		{`5-["a"]`, 0, ErrAttachments},
		{`50-["a"]`, 0, ErrAttachments},
		{`5a-["a"]`, 0, ErrAttachments},
		{`51.23-["a"]`, 0, ErrAttachments},
		{`6["a"]`, 0, ErrAttachments},
		{`511-["a"]`, 0, ErrTooManyAttachments},
		{`5999999999999999999999999-["a"]`, 0, ErrTooManyAttachments},
		{many, 2, ErrTooManyAttachments},
		{`21-["a"]`, 0, ErrAttachments},
		{`31-[]`, 0, ErrAttachments},
		// Namespace.
		{`2admin,["a"]`, 0, ErrNamespace},
		{`0admin,{}`, 0, ErrNamespace},
		// Ack id.
		{`218446744073709551616["a"]`, 0, ErrAckID},
		{`299999999999999999999999["a"]`, 0, ErrAckID},
		{`21a["a"]`, 0, ErrAckID},
		{`2/a,1x["a"]`, 0, ErrAckID},
		// Invalid JSON.
		{`2["some","data"`, 0, ErrInvalidJSON},
		{`2/admin,"invalid`, 0, ErrInvalidJSON},
		{`2{"a":}`, 0, ErrInvalidJSON},
		{"2[\"a\"]\x00", 0, ErrInvalidJSON},
		// Payload invalid for the type (socket.io-parser's test list).
		{`0/admin,"invalid"`, 0, ErrInvalidPayload},
		{`0[]`, 0, ErrInvalidPayload},
		{`0null`, 0, ErrInvalidPayload},
		{`1/admin,{}`, 0, ErrInvalidPayload},
		{`1 `, 0, ErrInvalidPayload},
		{`2/admin,{}`, 0, ErrInvalidPayload},
		{`2[{"toString":"foo"}]`, 0, ErrInvalidPayload},
		{`2[true,"foo"]`, 0, ErrInvalidPayload},
		{`2[null,"bar"]`, 0, ErrInvalidPayload},
		{`2[]`, 0, ErrInvalidPayload},
		{`2`, 0, ErrInvalidPayload},
		{`2/admin,`, 0, ErrInvalidPayload},
		{`2"x"`, 0, ErrInvalidPayload},
		{`2["connect"]`, 0, ErrInvalidPayload},
		{`2["connect_error"]`, 0, ErrInvalidPayload},
		{`2["disconnect","123"]`, 0, ErrInvalidPayload},
		{`2["disconnecting"]`, 0, ErrInvalidPayload},
		{`2["newListener"]`, 0, ErrInvalidPayload},
		{`2["removeListener"]`, 0, ErrInvalidPayload},
		{`2["\u0063onnect"]`, 0, ErrInvalidPayload},
		{`3{}`, 0, ErrInvalidPayload},
		{`3`, 0, ErrInvalidPayload},
		{`4`, 0, ErrInvalidPayload},
		{`4[]`, 0, ErrInvalidPayload},
		{`4 1`, 0, ErrInvalidPayload},
		{`51-{}`, 0, ErrInvalidPayload},
		{`51-["connect",{"_placeholder":true,"num":0}]`, 0, ErrInvalidPayload},
		{`61-{}`, 0, ErrInvalidPayload},
		{`51-`, 0, ErrInvalidPayload},
		// Placeholders.
		{`51-["a",{"_placeholder":true,"num":1}]`, 0, ErrPlaceholder},
		{`51-["a",{"_placeholder":true,"num":-1}]`, 0, ErrPlaceholder},
		{`51-["a",{"_placeholder":true,"num":0.5}]`, 0, ErrPlaceholder},
		{`51-["a",{"_placeholder":true,"num":"0"}]`, 0, ErrPlaceholder},
		{`51-["a",{"_placeholder":true}]`, 0, ErrPlaceholder},
		{`51-["a",{"\u005fplaceholder":true,"num":3}]`, 0, ErrPlaceholder},
	}
	for _, c := range cases {
		d := Decoder{MaxAttachments: c.max}
		p, err := d.Add([]byte(c.in), false)
		if !errors.Is(err, c.err) {
			t.Errorf("%q: err = %v, want %v", c.in, err, c.err)
			continue
		}
		if p != nil {
			t.Errorf("%q: got a packet with the error", c.in)
		}
		var e *Error
		if !errors.As(err, &e) || e.Op != "decode" {
			t.Errorf("%q: err = %#v, want *Error", c.in, err)
		}
		// The decoder is usable again.
		if _, err := d.Add([]byte(`2["ok"]`), false); err != nil {
			t.Errorf("%q: decoder not reset: %v", c.in, err)
		}
	}
}

func TestDecoderSequence(t *testing.T) {
	var d Decoder

	if _, err := d.Add([]byte{1, 2}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("binary first: err = %v", err)
	}

	// Text while attachments are pending: error, then a fresh start.
	if p, err := d.Add([]byte(`52-["a",{"_placeholder":true,"num":0}]`), false); p != nil || err != nil {
		t.Fatalf("got %v, %v", p, err)
	}
	if p, err := d.Add([]byte{1}, true); p != nil || err != nil {
		t.Fatalf("got %v, %v", p, err)
	}
	if _, err := d.Add([]byte(`2["b"]`), false); !errors.Is(err, ErrUnexpectedText) {
		t.Fatalf("text while pending: err = %v", err)
	}
	if _, err := d.Add([]byte{2}, true); !errors.Is(err, ErrUnexpectedBinary) {
		t.Fatalf("after reset: err = %v", err)
	}

	// Reset drops a pending packet (the reference's destroy()).
	if _, err := d.Add([]byte(`51-["hello"]`), false); err != nil {
		t.Fatal(err)
	}
	d.Reset()
	p := feed(t, &d, `2["hello"]`)
	if string(p.Data.(json.RawMessage)) != `["hello"]` {
		t.Fatalf("Data = %s", p.Data)
	}

	// Attachments are copied: the caller may reuse its buffers.
	buf := []byte{1, 2, 3}
	msg := []byte(`61-/x,9[{"_placeholder":true,"num":0}]`)
	if _, err := d.Add(msg, false); err != nil {
		t.Fatal(err)
	}
	p, err := d.Add(buf, true)
	if err != nil || p == nil {
		t.Fatalf("got %v, %v", p, err)
	}
	copy(buf, []byte{9, 9, 9})
	copy(msg, strings.Repeat("x", len(msg)))
	if !bytes.Equal(p.Attachments[0], []byte{1, 2, 3}) || string(p.Data.(json.RawMessage)) != `[{"_placeholder":true,"num":0}]` {
		t.Fatalf("packet aliases input: %s %v", p.Data, p.Attachments)
	}
	if p.Type != BinaryAck || p.Namespace != "/x" || p.ID != 9 || !p.HasID {
		t.Fatalf("got %+v", p)
	}

	// A placeholder inside a placeholder is ignored, as by the reference,
	// even when its num is out of range.
	p = feed(t, &d, `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`, []byte{7})
	var args []any
	if err := Unmarshal(p.Data.(json.RawMessage), p.Attachments, &args); err != nil || !reflect.DeepEqual(args, []any{"a", []byte{7}}) {
		t.Fatalf("got %#v, %v", args, err)
	}
}

func TestNestedBinaryRoundTrip(t *testing.T) {
	type Part struct {
		Name string `json:"name"`
		Body []byte `json:"body"`
	}
	type Msg struct {
		Parts  []Part            `json:"parts"`
		Extra  map[string][]byte `json:"extra"`
		Cover  *[]byte           `json:"cover"`
		Blobs  [][]byte          `json:"blobs"`
		Meta   any               `json:"meta"`
		Plain  string            `json:"plain"`
		Number float64           `json:"number"`
	}
	cover := []byte("cover")
	in := Msg{
		Parts:  []Part{{"a", []byte("A")}, {"b", []byte("BB")}},
		Extra:  map[string][]byte{"x": []byte("X")},
		Cover:  &cover,
		Blobs:  [][]byte{[]byte("1"), []byte("22")},
		Meta:   map[string]any{"raw": []byte("meta"), "n": 1.0},
		Plain:  "QUJD", // base64 of "ABC": must stay a string
		Number: 42,
	}
	text, atts, err := Encode(&Packet{Type: Event, Namespace: "/files", ID: 7, HasID: true, Data: []any{"upload", in, []byte("top")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(atts) != 8 || !strings.HasPrefix(string(text), "58-/files,7[") {
		t.Fatalf("text %s, %d attachments", text, len(atts))
	}
	var d Decoder
	d.MaxAttachments = 8
	p := feed(t, &d, string(text), atts...)
	args, err := Args(p.Data.(json.RawMessage))
	if err != nil || len(args) != 3 {
		t.Fatalf("Args: %v %v", args, err)
	}
	var name string
	var out Msg
	var top []byte
	for i, v := range []any{&name, &out, &top} {
		if err := Unmarshal(args[i], p.Attachments, v); err != nil {
			t.Fatalf("arg %d: %v", i, err)
		}
	}
	if name != "upload" || string(top) != "top" {
		t.Errorf("name %q, top %q", name, top)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n got %#v\nwant %#v", out, in)
	}
}
