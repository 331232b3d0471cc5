package parser

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestArgs(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`[]`, []string{}},
		{` [ ] `, []string{}},
		{`["a"]`, []string{`"a"`}},
		{`[ "a" , 1 ,{"b":[1,2]}, [ ], null,true,"x\"]y" ]`, []string{`"a"`, `1`, `{"b":[1,2]}`, `[ ]`, `null`, `true`, `"x\"]y"`}},
	}
	for _, c := range cases {
		got, err := Args(json.RawMessage(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %q", c.in, got)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("%s: arg %d = %s, want %s", c.in, i, got[i], c.want[i])
			}
			if cap(got[i]) != len(got[i]) {
				t.Errorf("%s: arg %d not clipped", c.in, i)
			}
		}
	}
	for _, bad := range []string{``, `{}`, `"a"`, `[`, `["a",]`, `[1] [2]`} {
		if _, err := Args(json.RawMessage(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one")}
	ph0 := `{"_placeholder":true,"num":0}`
	ph1 := `{"_placeholder":true,"num":1}`

	type File struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	type Mixed struct {
		File  File              `json:"file"`
		Any   any               `json:"any"`
		Anys  []any             `json:"anys"`
		Map   map[string]any    `json:"map"`
		Ptr   *File             `json:"ptr"`
		Raw   json.RawMessage   `json:"raw"`
		Bytes map[string][]byte `json:"bytes"`
	}

	t.Run("bytes", func(t *testing.T) {
		var b []byte
		if err := Unmarshal(json.RawMessage(ph1), atts, &b); err != nil || string(b) != "one" {
			t.Fatalf("%q %v", b, err)
		}
	})
	t.Run("slice of bytes", func(t *testing.T) {
		var b [][]byte
		if err := Unmarshal(json.RawMessage(`[`+ph1+`,`+ph0+`,null]`), atts, &b); err != nil {
			t.Fatal(err)
		}
		if want := [][]byte{[]byte("one"), []byte("zero"), nil}; !reflect.DeepEqual(b, want) {
			t.Fatalf("got %q", b)
		}
	})
	t.Run("struct", func(t *testing.T) {
		var f File
		if err := Unmarshal(json.RawMessage(`{"name":"f","data":`+ph0+`}`), atts, &f); err != nil {
			t.Fatal(err)
		}
		if f.Name != "f" || string(f.Data) != "zero" {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("any", func(t *testing.T) {
		var v any
		if err := Unmarshal(json.RawMessage(`["x",1,`+ph0+`,{"k":[`+ph1+`]}]`), atts, &v); err != nil {
			t.Fatal(err)
		}
		want := []any{"x", 1.0, []byte("zero"), map[string]any{"k": []any{[]byte("one")}}}
		if !reflect.DeepEqual(v, want) {
			t.Fatalf("got %#v", v)
		}
	})
	t.Run("any replaced", func(t *testing.T) {
		v := any("old")
		if err := Unmarshal(json.RawMessage(ph1), atts, &v); err != nil || !reflect.DeepEqual(v, []byte("one")) {
			t.Fatalf("got %#v %v", v, err)
		}
	})
	t.Run("any holding pointer", func(t *testing.T) {
		f := &File{}
		v := any(f)
		if err := Unmarshal(json.RawMessage(`{"data":`+ph1+`}`), atts, &v); err != nil {
			t.Fatal(err)
		}
		if v != any(f) || string(f.Data) != "one" {
			t.Fatalf("got %#v", v)
		}
	})
	t.Run("map", func(t *testing.T) {
		var m map[string]any
		if err := Unmarshal(json.RawMessage(`{"a":`+ph0+`,"b":"s","c":{"d":`+ph1+`}}`), atts, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"a": []byte("zero"), "b": "s", "c": map[string]any{"d": []byte("one")}}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("got %#v", m)
		}
	})
	t.Run("mixed struct", func(t *testing.T) {
		var m Mixed
		in := `{"file":{"name":"n","data":` + ph0 + `},"any":` + ph1 + `,"anys":["zero",` + ph0 + `],` +
			`"map":{"x":` + ph1 + `,"y":"b25l"},"ptr":{"data":` + ph1 + `},"raw":` + ph0 + `,"bytes":{"z":` + ph0 + `}}`
		if err := Unmarshal(json.RawMessage(in), atts, &m); err != nil {
			t.Fatal(err)
		}
		want := Mixed{
			File: File{"n", []byte("zero")},
			Any:  []byte("one"),
			// A real string equal to an attachment's content or base64
			// stays a string.
			Anys:  []any{"zero", []byte("zero")},
			Map:   map[string]any{"x": []byte("one"), "y": "b25l"},
			Ptr:   &File{Data: []byte("one")},
			Raw:   json.RawMessage(`"emVybw=="`),
			Bytes: map[string][]byte{"z": []byte("zero")},
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("got  %#v\nwant %#v", m, want)
		}
	})
	t.Run("slice of mixed", func(t *testing.T) {
		type item struct {
			V any
			B []byte
		}
		var s []item
		if err := Unmarshal(json.RawMessage(`[{"V":`+ph0+`,"B":`+ph1+`},{"V":2}]`), atts, &s); err != nil {
			t.Fatal(err)
		}
		want := []item{{[]byte("zero"), []byte("one")}, {2.0, nil}}
		if !reflect.DeepEqual(s, want) {
			t.Fatalf("got %#v", s)
		}
	})
	t.Run("no attachments keeps placeholders", func(t *testing.T) {
		var v any
		if err := Unmarshal(json.RawMessage(ph0), nil, &v); err != nil {
			t.Fatal(err)
		}
		if _, ok := v.(map[string]any); !ok {
			t.Fatalf("got %#v", v)
		}
	})
	t.Run("placeholder nested in placeholder", func(t *testing.T) {
		var v any
		in := `{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}`
		if err := Unmarshal(json.RawMessage(in), atts, &v); err != nil || !reflect.DeepEqual(v, []byte("zero")) {
			t.Fatalf("got %#v %v", v, err)
		}
	})

	errCases := []struct {
		name string
		in   string
		v    any
		is   error
	}{
		{"num out of range", `[` + `{"_placeholder":true,"num":2}]`, new(any), ErrPlaceholder},
		{"num out of range typed", `{"_placeholder":true,"num":2}`, new([]byte), ErrPlaceholder},
		{"bytes into int", ph0, new(int), nil},
		{"bytes into struct", ph0, new(File), nil},
		{"string into bytes", `"not base64!"`, new([]byte), nil},
		{"syntax", `[` + ph0, new(any), nil},
		{"not a pointer", ph0, File{}, nil},
		{"nil", ph0, nil, nil},
		{"nil *any", ph0, (*any)(nil), nil},
	}
	for _, c := range errCases {
		t.Run(c.name, func(t *testing.T) {
			err := Unmarshal(json.RawMessage(c.in), atts, c.v)
			if err == nil {
				t.Fatal("no error")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("err = %v, want %v", err, c.is)
			}
		})
	}
}
