package parser

import (
	"bytes"
	"errors"
	"testing"
)

func TestDecodeText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Packet
	}{
		{"4hello", Packet{Type: Message, Data: []byte("hello")}},
		{"2probe", Packet{Type: Ping, Data: []byte("probe")}},
		{"3", Packet{Type: Pong, Data: []byte{}}},
		{"6", Packet{Type: Noop, Data: []byte{}}},
		{"4€ 안녕", Packet{Type: Message, Data: []byte("€ 안녕")}},
	} {
		got, err := DecodeText([]byte(tc.in))
		if err != nil || got.Type != tc.want.Type || !bytes.Equal(got.Data, tc.want.Data) || got.Binary {
			t.Errorf("DecodeText(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestDecodeBadInput(t *testing.T) {
	for _, in := range []string{"", "7", "9x", "a", "/", "\x00"} {
		if _, err := DecodeText([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeText(%q) err = %v, want ErrInvalid", in, err)
		}
	}
	for _, in := range []string{"", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b", "b!!!", "bAQI", "4a\x1e8", "b"} {
		if in == "b" {
			continue // empty binary message is valid
		}
		if _, err := DecodePayload([]byte(in), 0); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodePayload(%q) err = %v, want ErrInvalid", in, err)
		}
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	packets := []Packet{
		{Type: Message, Data: []byte("hello")},
		{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true},
		{Type: Ping, Data: []byte{}},
		{Type: Message, Data: []byte("€")},
		{Type: Message, Data: []byte{}, Binary: true},
	}
	body := EncodePayload(packets)
	if want := "4hello\x1ebAQIDBA==\x1e2\x1e4€\x1eb"; string(body) != want {
		t.Fatalf("EncodePayload = %q, want %q", body, want)
	}
	got, err := DecodePayload(body, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(packets) {
		t.Fatalf("got %d packets, want %d", len(got), len(packets))
	}
	for i := range got {
		if got[i].Type != packets[i].Type || got[i].Binary != packets[i].Binary || !bytes.Equal(got[i].Data, packets[i].Data) {
			t.Errorf("packet %d = %+v, want %+v", i, got[i], packets[i])
		}
	}
}

func TestDecodePayloadMax(t *testing.T) {
	if _, err := DecodePayload([]byte("4abcdef"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := DecodePayload([]byte("bAQIDBAU="), 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("binary err = %v, want ErrTooLarge", err)
	}
	if _, err := DecodePayload([]byte("4abcde"), 5); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello", "4a\x1ebAQID\x1e2", "b", "6", "2probe", "4\x1e4", "b===", "\x1e"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		packets, err := DecodePayload(body, 1<<16)
		if err != nil {
			return
		}
		// What decodes must encode back to a payload that decodes the same.
		again, err := DecodePayload(EncodePayload(packets), 1<<16)
		if err != nil || len(again) != len(packets) {
			t.Fatalf("re-decode of %q: %v (%d vs %d packets)", body, err, len(again), len(packets))
		}
		for i := range again {
			if again[i].Type != packets[i].Type || again[i].Binary != packets[i].Binary || !bytes.Equal(again[i].Data, packets[i].Data) {
				t.Fatalf("packet %d changed: %+v vs %+v", i, again[i], packets[i])
			}
		}
	})
}

func BenchmarkDecodePayload(b *testing.B) {
	body := EncodePayload([]Packet{{Type: Message, Data: bytes.Repeat([]byte("x"), 100)}, {Type: Pong}, {Type: Message, Data: []byte("hi")}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodePayload(body, 0); err != nil {
			b.Fatal(err)
		}
	}
}
