package parser

import (
	"encoding/json"
	"testing"
)

// chatPacket is a typical ~100 byte chat message event.
var chatPacket = &Packet{Type: Event, Data: []any{"chat message", map[string]any{
	"user": "alice",
	"room": "general",
	"text": "Hello everyone, how is it going today?",
	"ts":   1700000000123,
}}}

func BenchmarkEncodeEvent(b *testing.B) {
	text, _, _ := Encode(chatPacket)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(chatPacket); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeEventParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := Encode(chatPacket); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncodeBinaryEvent(b *testing.B) {
	p := &Packet{Type: Event, Data: []any{"upload", map[string]any{"name": "a.png", "data": make([]byte, 1024)}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	text, _, _ := Encode(chatPacket)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		if _, err := d.Add(text, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArgsUnmarshal(b *testing.B) {
	text, _, _ := Encode(chatPacket)
	var d Decoder
	p, _ := d.Add(text, false)
	raw := p.Data.(json.RawMessage)
	type msg struct {
		User, Room, Text string
		TS               int64
	}
	b.ReportAllocs()
	for b.Loop() {
		args, err := Args(raw)
		if err != nil {
			b.Fatal(err)
		}
		var m msg
		if err := Unmarshal(args[1], nil, &m); err != nil {
			b.Fatal(err)
		}
	}
}
