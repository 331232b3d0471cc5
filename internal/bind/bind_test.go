package bind

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestShapeOf(t *testing.T) {
	for _, tc := range []struct {
		fn      any
		errFrst bool
		ok      bool
		params  int
		ack     bool
	}{
		{func(string, int) {}, false, true, 2, false},
		{func(string, func(...any)) {}, false, true, 1, true},
		{func(a ...int) error { return nil }, false, true, 0, false},
		{func(error, string) {}, true, true, 1, false},
		{func() int { return 0 }, false, false, 0, false},
		{func(chan int) {}, false, false, 0, false},
		{func(func() int) {}, false, false, 0, false},
	} {
		sh, err := ShapeOf(reflect.TypeOf(tc.fn), tc.errFrst)
		if (err == nil) != tc.ok {
			t.Errorf("%T: err %v, want ok=%v", tc.fn, err, tc.ok)
			continue
		}
		if err == nil && (len(sh.Params) != tc.params || (sh.Ack != nil) != tc.ack) {
			t.Errorf("%T: %d params, ack %v", tc.fn, len(sh.Params), sh.Ack)
		}
	}
}

func TestDecodeAndCall(t *testing.T) {
	var got []any
	fn := func(name string, n int, rest ...bool) error {
		got = []any{name, n, rest}
		return nil
	}
	sh, err := ShapeOf(reflect.TypeOf(fn), false)
	if err != nil {
		t.Fatal(err)
	}
	args := []json.RawMessage{json.RawMessage(`"안녕"`), json.RawMessage(`3`), json.RawMessage(`true`), json.RawMessage(`false`)}
	in, err := sh.Decode(nil, args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Call(reflect.ValueOf(fn), in, nil); err != nil {
		t.Fatal(err)
	}
	if got[0] != "안녕" || got[1] != 3 || !reflect.DeepEqual(got[2], []bool{true, false}) {
		t.Fatalf("got %v", got)
	}
	if _, err := sh.Decode(nil, []json.RawMessage{json.RawMessage(`{}`)}, nil); err == nil {
		t.Fatal("an object decoded into a string")
	}
	// The acknowledgement sends its arguments; a nil sender does nothing.
	var sent []any
	ack := MakeAck(reflect.TypeOf(func(string, ...int) {}), func(v []any) { sent = v })
	ack.Call([]reflect.Value{reflect.ValueOf("ok"), reflect.ValueOf(1), reflect.ValueOf(2)})
	if !reflect.DeepEqual(sent, []any{"ok", 1, 2}) {
		t.Fatalf("ack sent %v", sent)
	}
	MakeAck(reflect.TypeOf(func() {}), nil).Call(nil)
}
