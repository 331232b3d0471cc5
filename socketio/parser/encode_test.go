package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d) = %q, want %q", i, got, w)
		}
	}
	if got := Type(9).String(); got != "Type(9)" {
		t.Errorf("Type(9) = %q", got)
	}
}

// specCase is one example of the socket.io-protocol v5 README (plus a few
// from socket.io-parser's tests): the packet and its exact encoding.
type specCase struct {
	name string
	p    Packet
	text string
	atts [][]byte
}

var specCases = []specCase{
	{"connect main", Packet{Type: Connect, Namespace: "/"}, `0`, nil},
	{"connect sid", Packet{Type: Connect, Namespace: "/", Data: map[string]any{"sid": "wZX3oN0bSVIhsaknAAAI"}}, `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`, nil},
	{"connect admin", Packet{Type: Connect, Namespace: "/admin"}, `0/admin,`, nil},
	{"connect admin sid", Packet{Type: Connect, Namespace: "/admin", Data: map[string]any{"sid": "oSO0OpakMV_3jnilAAAA"}}, `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, nil},
	{"connect auth", Packet{Type: Connect, Namespace: "/admin", Data: map[string]any{"token": "123"}}, `0/admin,{"token":"123"}`, nil},
	{"connect error", Packet{Type: ConnectError, Namespace: "/", Data: map[string]any{"message": "Not authorized"}}, `4{"message":"Not authorized"}`, nil},
	{"connect error string", Packet{Type: ConnectError, Namespace: "/", Data: "Unauthorized"}, `4"Unauthorized"`, nil},
	{"event", Packet{Type: Event, Namespace: "/", Data: []any{"foo"}}, `2["foo"]`, nil},
	{"event hello", Packet{Type: Event, Namespace: "/", Data: []any{"hello", 1.0}}, `2["hello",1]`, nil},
	{"event numeric name", Packet{Type: Event, Namespace: "/", Data: []any{1.0, "a", map[string]any{}}}, `2[1,"a",{}]`, nil},
	{"event admin", Packet{Type: Event, Namespace: "/admin", Data: []any{"bar"}}, `2/admin,["bar"]`, nil},
	{"binary event", Packet{Type: BinaryEvent, Namespace: "/", Data: []any{"baz", []byte{1, 2, 3, 4}}},
		`51-["baz",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}}},
	{"binary event admin", Packet{Type: BinaryEvent, Namespace: "/admin", Data: []any{"baz", []byte{1, 2}, []byte{3, 4}}},
		`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, [][]byte{{1, 2}, {3, 4}}},
	{"event id", Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: []any{"foo"}}, `212["foo"]`, nil},
	{"ack empty", Packet{Type: Ack, Namespace: "/", ID: 12, HasID: true, Data: []any{}}, `312[]`, nil},
	{"event admin id", Packet{Type: Event, Namespace: "/admin", ID: 13, HasID: true, Data: []any{"foo"}}, `2/admin,13["foo"]`, nil},
	{"ack admin", Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: []any{"bar"}}, `3/admin,13["bar"]`, nil},
	{"binary event id", Packet{Type: BinaryEvent, Namespace: "/", ID: 14, HasID: true, Data: []any{"foo", []byte{1, 2, 3, 4}}},
		`51-14["foo",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}}},
	{"ack id", Packet{Type: Ack, Namespace: "/", ID: 14, HasID: true, Data: []any{"bar"}}, `314["bar"]`, nil},
	{"event id 15", Packet{Type: Event, Namespace: "/", ID: 15, HasID: true, Data: []any{"foo"}}, `215["foo"]`, nil},
	{"binary ack", Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: []any{"bar", []byte{1, 2, 3, 4}}},
		`61-15["bar",{"_placeholder":true,"num":0}]`, [][]byte{{1, 2, 3, 4}}},
	{"disconnect", Packet{Type: Disconnect, Namespace: "/"}, `1`, nil},
	{"disconnect admin", Packet{Type: Disconnect, Namespace: "/admin"}, `1/admin,`, nil},
}

func TestEncodeSpec(t *testing.T) {
	for _, c := range specCases {
		t.Run(c.name, func(t *testing.T) {
			// Event/Ack with []byte must be promoted to the binary type.
			p := c.p
			if p.Type == BinaryEvent {
				p.Type = Event
			} else if p.Type == BinaryAck {
				p.Type = Ack
			}
			for _, in := range []Packet{c.p, p} {
				text, atts, err := Encode(&in)
				if err != nil {
					t.Fatal(err)
				}
				if string(text) != c.text {
					t.Errorf("text = %s, want %s", text, c.text)
				}
				if !reflect.DeepEqual(atts, c.atts) {
					t.Errorf("attachments = %v, want %v", atts, c.atts)
				}
			}
		})
	}
}

func TestEncodeDetails(t *testing.T) {
	type inner struct {
		Blob []byte `json:"blob"`
	}
	type Named []byte
	cases := []struct {
		name string
		p    Packet
		text string
		atts [][]byte
	}{
		{"empty namespace is main", Packet{Type: Event, Data: []any{"a"}}, `2["a"]`, nil},
		{"no html escaping", Packet{Type: Event, Data: []any{"<a&b>"}}, `2["<a&b>"]`, nil},
		{"typed nil is no payload", Packet{Type: Connect, Data: map[string]any(nil)}, `0`, nil},
		{"binary type without binary", Packet{Type: BinaryEvent, Data: []any{"a"}}, `2["a"]`, nil},
		{"binary ack without binary", Packet{Type: BinaryAck, ID: 1, HasID: true, Data: []any{}}, `31[]`, nil},
		{"nil bytes are null", Packet{Type: Event, Data: []any{"a", []byte(nil)}}, `2["a",null]`, nil},
		{"empty bytes are attachments", Packet{Type: Event, Data: []any{"a", []byte{}}},
			`51-["a",{"_placeholder":true,"num":0}]`, [][]byte{{}}},
		{"connect keeps base64", Packet{Type: Connect, Data: map[string]any{"k": []byte{1}}}, `0{"k":"AQ=="}`, nil},
		{"raw message", Packet{Type: Event, Data: json.RawMessage(` ["a", 1] `)}, `2["a",1]`, nil},
		{"nested", Packet{Type: Event, Namespace: "/n", Data: []any{
			"up",
			map[string]any{"x": []any{[]byte{1}, map[string]any{"y": []byte{2}}}},
			&inner{Blob: []byte{3}},
			[]inner{{Blob: []byte{4}}, {}},
			Named{5},
			[][]byte{{6}, {7}},
		}},
			`57-/n,["up",{"x":[{"_placeholder":true,"num":0},{"y":{"_placeholder":true,"num":1}}]},` +
				`{"blob":{"_placeholder":true,"num":2}},[{"blob":{"_placeholder":true,"num":3}},{"blob":null}],` +
				`{"_placeholder":true,"num":4},[{"_placeholder":true,"num":5},{"_placeholder":true,"num":6}]]`,
			[][]byte{{1}, {2}, {3}, {4}, {5}, {6}, {7}}},
		{"pre-extracted", Packet{Type: Event, Data: json.RawMessage(`["a",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{9}}},
			`51-["a",{"_placeholder":true,"num":0}]`, [][]byte{{9}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, atts, err := Encode(&c.p)
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != c.text {
				t.Errorf("text = %s\nwant   %s", text, c.text)
			}
			if !reflect.DeepEqual(atts, c.atts) {
				t.Errorf("attachments = %v, want %v", atts, c.atts)
			}
		})
	}
}

type embedded struct {
	Inner []byte `json:"inner"`
}

type opaque struct{ B []byte }

func (opaque) MarshalJSON() ([]byte, error) { return []byte(`"opaque"`), nil }

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

func TestEncodeStructs(t *testing.T) {
	type S struct {
		embedded
		Public  []byte  `json:"pub,omitempty"`
		Empty   []byte  `json:"empty,omitempty"`
		Kept    []byte  `json:"kept"`
		Skip    []byte  `json:"-"`
		private []byte  // ignored, as encoding/json does
		Ptr     *[]byte `json:"ptr"`
		Any     any     `json:"any"`
		Opaque  opaque  `json:"opaque"`
		Map     map[string][]byte
	}
	b := []byte{8}
	s := S{
		embedded: embedded{Inner: []byte{1}},
		Public:   []byte{2},
		Empty:    []byte{},
		Kept:     []byte{},
		Skip:     []byte{3},
		private:  []byte{4},
		Ptr:      &b,
		Any:      []byte{5},
		Opaque:   opaque{B: []byte{6}},
		Map:      map[string][]byte{"k": {7}},
	}
	text, atts, err := Encode(&Packet{Type: Ack, ID: 3, HasID: true, Data: []any{s}})
	if err != nil {
		t.Fatal(err)
	}
	want := `66-3[{"inner":{"_placeholder":true,"num":0},"pub":{"_placeholder":true,"num":1},` +
		`"kept":{"_placeholder":true,"num":2},"ptr":{"_placeholder":true,"num":3},"any":{"_placeholder":true,"num":4},` +
		`"opaque":"opaque","Map":{"k":{"_placeholder":true,"num":5}}}]`
	if string(text) != want {
		t.Errorf("text = %s\nwant   %s", text, want)
	}
	wantAtts := [][]byte{{1}, {2}, {}, {8}, {5}, {7}}
	if !reflect.DeepEqual(atts, wantAtts) {
		t.Errorf("attachments = %v, want %v", atts, wantAtts)
	}
	// The caller's value is untouched.
	if !bytes.Equal(s.Inner, []byte{1}) || !bytes.Equal(s.Any.([]byte), []byte{5}) || !bytes.Equal(s.Map["k"], []byte{7}) {
		t.Errorf("input modified: %+v", s)
	}
}

func TestEncodeErrors(t *testing.T) {
	type cyclic struct {
		Next *cyclic
		B    []byte
	}
	cyc := &cyclic{}
	cyc.Next = cyc
	cases := []struct {
		name string
		p    *Packet
		err  error
	}{
		{"nil packet", nil, ErrEncode},
		{"unknown type", &Packet{Type: 7}, ErrUnknownType},
		{"namespace comma", &Packet{Type: Event, Namespace: "/a,b", Data: []any{"x"}}, ErrNamespace},
		{"namespace comma binary", &Packet{Type: Event, Namespace: "/a,b", Data: []any{"x", []byte{1}}}, ErrNamespace},
		{"namespace without slash", &Packet{Type: Event, Namespace: "admin", Data: []any{"x"}}, ErrNamespace},
		{"channel", &Packet{Type: Event, Data: []any{"x", make(chan int)}}, ErrEncode},
		{"NaN", &Packet{Type: Event, Data: []any{"x", math.NaN()}}, ErrEncode},
		{"cycle", &Packet{Type: Event, Data: []any{"x", cyc}}, ErrEncode},
		{"cycle without binary", &Packet{Type: Connect, Data: cyc}, ErrEncode},
		{"panicking marshaler", &Packet{Type: Event, Data: []any{"x", panicky{}}}, ErrEncode},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, atts, err := Encode(c.p)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			if text != nil || atts != nil {
				t.Errorf("got output with error: %q %v", text, atts)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "encode" {
				t.Errorf("err = %#v, want *Error with Op encode", err)
			}
		})
	}
}

func TestHasBinary(t *testing.T) {
	type noBin struct {
		A string
		B []int
		C map[string]float64
	}
	type withBin struct {
		A string
		B []byte
	}
	type hidden struct {
		b []byte
		B []byte `json:"-"`
	}
	type tree struct {
		Kids []*tree
		Data []byte
	}
	cases := []struct {
		name string
		v    any
		want bool
	}{
		{"nil", nil, false},
		{"string", "x", false},
		{"bytes", []byte{1}, true},
		{"nil bytes", []byte(nil), false},
		{"raw message", json.RawMessage(`"x"`), false},
		{"any slice", []any{"a", 1, true}, false},
		{"any slice bytes", []any{"a", []byte{}}, true},
		{"map", map[string]any{"a": map[string]any{"b": []any{[]byte{1}}}}, true},
		{"struct", noBin{A: "x"}, false},
		{"struct bytes", withBin{B: []byte{1}}, true},
		{"struct nil bytes", withBin{}, false},
		{"pointer", &withBin{B: []byte{1}}, true},
		{"hidden fields", hidden{b: []byte{1}, B: []byte{1}}, false},
		{"slice of structs", []withBin{{}, {B: []byte{1}}}, true},
		{"recursive", &tree{Kids: []*tree{{}, {Kids: []*tree{{Data: []byte{1}}}}}}, true},
		{"recursive none", &tree{Kids: []*tree{{}, {}}}, false},
		{"byte array", [4]byte{1}, false},
		{"opaque", opaque{B: []byte{1}}, false},
		{"map of bytes", map[int][]byte{1: {1}}, true},
		{"interface in struct", struct{ X any }{X: []byte{1}}, true},
	}
	for _, c := range cases {
		if got := HasBinary(c.v); got != c.want {
			t.Errorf("%s: HasBinary = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEncodeOutputIsFresh(t *testing.T) {
	p := &Packet{Type: Event, Data: []any{"msg", strings.Repeat("x", 100)}}
	a, _, _ := Encode(p)
	keep := string(a)
	for range 10 {
		if _, _, err := Encode(&Packet{Type: Event, Data: []any{"other", 1}}); err != nil {
			t.Fatal(err)
		}
	}
	if string(a) != keep {
		t.Fatal("encoded text changed after later Encode calls")
	}
}

// Encode is called from many goroutines at once on shared data during
// broadcasts; run under -race.
func TestEncodeConcurrent(t *testing.T) {
	type file struct {
		Name string
		Data []byte
	}
	shared := []any{"f", &file{"a", []byte{1, 2}}, map[string]any{"b": []byte{3}}}
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 200 {
				if _, _, err = Encode(&Packet{Type: Event, Data: shared}); err != nil {
					break
				}
				if _, _, err = Encode(chatPacket); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
