package engineio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// clientFrame builds a masked frame as a browser sends it.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key...)
	for i, c := range payload {
		out = append(out, c^key[i%4])
	}
	return out
}

type gotFrame struct {
	op      byte
	payload string
}

func feedAll(t *testing.T, r *frameReader, stream []byte, chunk int) ([]gotFrame, error) {
	t.Helper()
	var got []gotFrame
	h := func(op byte, p []byte) error {
		got = append(got, gotFrame{op, string(p)})
		return nil
	}
	for len(stream) > 0 {
		n := min(chunk, len(stream))
		part := append([]byte(nil), stream[:n]...) // feed may modify it
		if err := r.feed(part, h); err != nil {
			return got, err
		}
		stream = stream[n:]
	}
	return got, nil
}

func TestFrameReaderSplits(t *testing.T) {
	long := bytes.Repeat([]byte("안녕 sori "), 4000) // past 65535: 8-byte length
	var stream []byte
	stream = append(stream, clientFrame(true, opText, []byte("4hello"))...)
	stream = append(stream, clientFrame(false, opBinary, []byte{1, 2})...)
	stream = append(stream, clientFrame(true, opPing, []byte("p"))...) // inside the fragmented message
	stream = append(stream, clientFrame(false, opContinuation, []byte{3})...)
	stream = append(stream, clientFrame(true, opContinuation, []byte{4, 5})...)
	stream = append(stream, clientFrame(true, opText, long)...)
	stream = append(stream, clientFrame(true, opText, bytes.Repeat([]byte("x"), 300))...) // 2-byte length
	stream = append(stream, clientFrame(true, opClose, []byte{0x03, 0xe8})...)
	want := []gotFrame{
		{opText, "4hello"}, {opPing, "p"}, {opBinary, "\x01\x02\x03\x04\x05"},
		{opText, string(long)}, {opText, string(bytes.Repeat([]byte("x"), 300))}, {opClose, "\x03\xe8"},
	}
	for _, chunk := range []int{1, 2, 3, 7, 100, 4096, len(stream)} {
		r := &frameReader{max: 1 << 20}
		got, err := feedAll(t, r, stream, chunk)
		if err != nil {
			t.Fatalf("chunk %d: %v", chunk, err)
		}
		if len(got) != len(want) {
			t.Fatalf("chunk %d: %d frames, want %d", chunk, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("chunk %d: frame %d = %v %.20q, want %v %.20q", chunk, i, got[i].op, got[i].payload, want[i].op, want[i].payload)
			}
		}
		if r.partial != nil || r.msg != nil {
			t.Fatalf("chunk %d: buffers held after a complete stream", chunk)
		}
	}
}

func TestFrameReaderRefuses(t *testing.T) {
	unmasked := []byte{0x81, 0x02, 'h', 'i'}
	rsv := clientFrame(true, opText, []byte("hi"))
	rsv[0] |= 0x40
	bigPing := clientFrame(true, opPing, bytes.Repeat([]byte("p"), 126))
	fragPing := clientFrame(false, opPing, nil)
	for name, tc := range map[string]struct {
		stream []byte
		want   error
	}{
		"unmasked":             {unmasked, errWSProtocol},
		"reserved bit":         {rsv, errWSProtocol},
		"long control frame":   {bigPing, errWSProtocol},
		"fragmented control":   {fragPing, errWSProtocol},
		"orphan continuation":  {clientFrame(true, opContinuation, []byte("x")), errWSProtocol},
		"message in a message": {append(clientFrame(false, opText, []byte("a")), clientFrame(true, opText, []byte("b"))...), errWSProtocol},
		"unknown opcode":       {clientFrame(true, 0x3, nil), errWSProtocol},
		"over the limit":       {clientFrame(true, opText, bytes.Repeat([]byte("x"), 101)), errWSTooBig},
		"fragments over limit": {append(clientFrame(false, opText, bytes.Repeat([]byte("x"), 60)), clientFrame(true, opContinuation, bytes.Repeat([]byte("x"), 60))...), errWSTooBig},
		"header claims 2^63":   {[]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, errWSTooBig},
	} {
		r := &frameReader{max: 100}
		_, err := feedAll(t, r, tc.stream, 3)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzFrameReader(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte("4hello")), 3)
	f.Add(append(clientFrame(false, opBinary, []byte{1}), clientFrame(true, opContinuation, []byte{2})...), 1)
	f.Fuzz(func(t *testing.T, stream []byte, chunk int) {
		if chunk <= 0 || chunk > len(stream)+1 {
			chunk = len(stream) + 1
		}
		r := &frameReader{max: 1 << 12}
		h := func(op byte, p []byte) error {
			if op != opText && op != opBinary && len(p) > 125 {
				t.Fatalf("control frame of %d bytes", len(p))
			}
			if (op == opText || op == opBinary) && len(p) > r.max {
				t.Fatalf("message of %d bytes past the limit", len(p))
			}
			return nil
		}
		for len(stream) > 0 {
			n := min(chunk, len(stream))
			if r.feed(append([]byte(nil), stream[:n]...), h) != nil {
				return
			}
			stream = stream[n:]
		}
	})
}
