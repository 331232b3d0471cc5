package redisadapter

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// Fixtures written by notepack.io 3.0.1, the reference's msgpack codec:
//
//	encode(["abc123", {type: 2, data: ["hello", 1, -5, 1.5, "x", Buffer.from([1,2,3]),
//	        {a: {b: [true, null]}, z: 1, k: "v"}], nsp: "/"},
//	        {rooms: ["r1"], except: ["e1"], flags: {volatile: true, timeout: 5000}}])
//	encode({type: 9, requestId: "req1", packet: {ok: Buffer.from([255])}})
//	encode([new Date(1700000000123)])
const (
	nodeBroadcast = "93a661626331323383a47479706502a46461746197a568656c6c6f01fbcb3ff8000000000000a178c40301020383a16181a16292c3c0a17a01a16ba176a36e7370a12f83a5726f6f6d7391a27231a665786365707491a26531a5666c61677382a8766f6c6174696c65c3a774696d656f7574cd1388"
	nodeAck       = "83a47479706509a9726571756573744964a472657131a67061636b657481a26f6bc401ff"
	nodeDate      = "91d7ff1d5353006553f100"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMsgpackFromNode(t *testing.T) {
	js, atts, err := msgpackToJSON(unhex(t, nodeBroadcast))
	if err != nil {
		t.Fatal(err)
	}
	want := `["abc123",{"type":2,"data":["hello",1,-5,1.5,"x",{"_placeholder":true,"num":0},{"a":{"b":[true,null]},"z":1,"k":"v"}],"nsp":"/"},{"rooms":["r1"],"except":["e1"],"flags":{"volatile":true,"timeout":5000}}]`
	if string(js) != want {
		t.Fatalf("got  %s\nwant %s", js, want)
	}
	if len(atts) != 1 || !bytes.Equal(atts[0], []byte{1, 2, 3}) {
		t.Fatalf("attachments %v", atts)
	}
	// And back, byte for byte.
	back, err := jsonToMsgpack(js, atts)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(back) != nodeBroadcast {
		t.Fatalf("re-encoded\n%x\nwant\n%s", back, nodeBroadcast)
	}

	var r wireResponse
	atts, err = decodeDocument(unhex(t, nodeAck), &r)
	if err != nil || r.Type == nil || *r.Type != typeBroadcastAck || r.RequestID != "req1" {
		t.Fatalf("ack %+v %v", r, err)
	}
	args := argsOf(r.Packet, atts)
	var v struct{ OK []byte }
	if err := parser.Unmarshal(args.Values[0], args.Attachments, &v); err != nil || !bytes.Equal(v.OK, []byte{255}) {
		t.Fatalf("ack packet %s: %v %v", r.Packet, v, err)
	}

	js, _, err = msgpackToJSON(unhex(t, nodeDate))
	if err != nil || string(js) != `["2023-11-14T22:13:20.123Z"]` {
		t.Fatalf("date: %s %v", js, err)
	}
}

func TestJSONToMsgpackNumbers(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{`[0,127,128,-1,-33,65536,4294967296,-4294967296]`, `[0,127,128,-1,-33,65536,4294967296,-4294967296]`},
		{`[1.0,1e3,0.1,-2.5,1e300]`, `[1,1000,0.1,-2.5,1e+300]`},
		{`[18446744073709551615]`, `[18446744073709551615]`},
		{`{"b":1,"a":2,"":3}`, `{"b":1,"a":2,"":3}`},
		{`"<&>\u2028"`, `"\u003c\u0026\u003e\u2028"`},
		{`{"_placeholder":true,"num":0}`, `{"_placeholder":true,"num":0}`}, // no attachments: an object
	} {
		mp, err := jsonToMsgpack([]byte(tc.in), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		js, _, err := msgpackToJSON(mp)
		if err != nil || string(js) != tc.out {
			t.Errorf("%s -> %s (%v), want %s", tc.in, js, err, tc.out)
		}
	}
	for _, bad := range []string{``, `[1,`, `{"a"}`, `[1] [2]`} {
		if _, err := jsonToMsgpack([]byte(bad), nil); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	for _, bad := range []string{"", "c1", "92c0", "dd7fffffff"} {
		if _, _, err := msgpackToJSON(unhex(t, bad)); err == nil {
			t.Errorf("msgpack %s: no error", bad)
		}
	}
}

func TestPacketJSON(t *testing.T) {
	pkt := &parser.Packet{Type: parser.Event, Namespace: "/chat", ID: 7, HasID: true,
		Data: []any{"ev", []byte{9}, map[string]any{"x": []byte{8}}}}
	js, atts, err := packetJSON(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `["ev",{"_placeholder":true,"num":0},{"x":{"_placeholder":true,"num":1}}]` || len(atts) != 2 {
		t.Fatalf("%s %v", js, atts)
	}
	if pkt.Namespace != "/chat" || !pkt.HasID {
		t.Fatal("packetJSON changed the packet")
	}
	js, atts, err = packetJSON(&parser.Packet{Type: parser.Event, Data: []any{"plain", 1}})
	if err != nil || string(js) != `["plain",1]` || atts != nil {
		t.Fatalf("%s %v %v", js, atts, err)
	}
}

func TestWireOpts(t *testing.T) {
	o := adapter.BroadcastOptions{Rooms: []string{"a"}, Except: []string{"x", "x", "y"},
		Flags: adapter.Flags{Volatile: true, NoCompress: true, Timeout: 1500 * time.Millisecond}}
	b, _ := json.Marshal(toWireOpts(o, true))
	if string(b) != `{"rooms":["a"],"except":["x","y"],"flags":{"volatile":true,"compress":false,"timeout":1500}}` {
		t.Fatalf("%s", b)
	}
	var w wireOpts
	if err := json.Unmarshal([]byte(`{"rooms":["a",12],"except":[],"flags":{"compress":false,"timeout":250}}`), &w); err != nil {
		t.Fatal(err)
	}
	got := w.options()
	if len(got.Rooms) != 2 || got.Rooms[1] != "12" || !got.Flags.NoCompress || got.Flags.Timeout != 250*time.Millisecond {
		t.Fatalf("%+v", got)
	}
	b, _ = json.Marshal(toWireOpts(adapter.BroadcastOptions{}, false))
	if string(b) != `{"rooms":[],"except":[]}` {
		t.Fatalf("%s", b)
	}
}

func TestTimeoutError(t *testing.T) {
	err := error(&TimeoutError{Op: "fetchSockets", Got: 1, Want: 2})
	if err.Error() != "redisadapter: fetchSockets: timeout reached: 1 of 2 responses" {
		t.Fatal(err)
	}
	err = opError("allRooms", &TimeoutError{Op: "serverCount", Cause: ErrUnavailable})
	if err.Error() != "redisadapter: allRooms: timeout reached: redisadapter: Redis unavailable" {
		t.Fatal(err)
	}
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Fatal("errors.Is")
	}
}
