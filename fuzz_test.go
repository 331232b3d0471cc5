package sori

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/sori-dev/sori/engineio"
)

// FuzzServerPackets feeds what a client could send, as Engine.IO
// messages, straight to a connection's OnMessage: nothing may panic, in
// the decoder, the routing, or the handlers' argument binding.
//
// An input is split at 0x1e into messages; one starting with 'B' is a
// binary message of the bytes after the 'B'.
func FuzzServerPackets(f *testing.F) {
	seeds := []string{
		"0",
		"0/admin,",
		`0{"token":"x"}`,
		"0/dyn-1,",
		"0/nope,",
		"0\x1e2[\"typed\",1,\"a\",{\"X\":2}]",
		"0\x1e21[\"typed\",1]\x1e30[1]",
		"0\x1e2[\"any\",null,true,[1,{\"a\":[]}]]",
		"0\x1e2[42]",
		"0\x1e51-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1eB\x01\x02",
		"0\x1e52-3[\"bin\",{\"_placeholder\":true,\"num\":1},{\"_placeholder\":true,\"num\":0}]\x1eBa\x1eBb",
		"0\x1e51-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1e2[\"x\"]",
		"0\x1eB\x00",
		"0\x1e61-0[{\"_placeholder\":true,\"num\":0}]\x1eB\x00",
		"0\x1e1",
		"0\x1e1\x1e0",
		"0/admin,\x1e2/admin,5[\"typed\",\"x\"]",
		"0\x1e2[\"disconnect\"]",
		"0\x1e2[\"boom\"]",
		"0\x1e2[\"typed\",{\"X\":\"y\"},[],1e400]",
		"4{}",
		"9",
		"2[",
		"0\x1e2[\"typed\",\"\\ud800\"]",
		"0\x1e3/admin,99[]",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	srv := NewServer(&Options{
		ConnectTimeout:     50 * time.Millisecond,
		DisableServeClient: true,
		Logger:             slog.New(slog.NewTextHandler(io.Discard, nil)),
		Engine: engineio.Options{
			PingInterval: 20 * time.Millisecond,
			PingTimeout:  20 * time.Millisecond,
		},
	})
	type blob struct {
		X int
		B []byte
	}
	setup := func(s *Socket) {
		_ = s.On("typed", func(n int, str string, b blob, ack func(int, []byte)) { ack(n, b.B) })
		_ = s.On("bin", func(b []byte, rest ...[]byte) {})
		_ = s.On("any", func(a Args, ack func(...any)) {
			v, _ := a.Values()
			ack(v...)
		})
		_ = s.On("42", func(ack func()) { ack() })
		_ = s.On("boom", func() { panic("boom") })
		_ = s.On("err", func(string) error { return errors.New("x") })
		s.OnAny(func(string, Args) {})
		s.Use(func(event string, _ Args) error { return nil })
		s.Join("room")
		_ = s.Broadcast().Emit("joined", s.ID())
	}
	srv.OnConnection(setup)
	srv.Of("/admin").OnConnection(setup)
	srv.Of("/admin").Use(func(s *Socket) error {
		if bytes.Contains(s.Handshake().Auth, []byte("deny")) {
			return &ConnectError{Message: "no", Data: 1}
		}
		return nil
	})
	srv.OfRegexp(regexp.MustCompile(`^/dyn-\d$`)).OnConnection(setup)
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		_ = srv.Close(ctx)
	})

	f.Fuzz(func(t *testing.T, in []byte) {
		c := sessionConn(t, srv)
		for msg := range bytes.SplitSeq(in, []byte{0x1e}) {
			if b, ok := bytes.CutPrefix(msg, []byte("B")); ok {
				c.OnMessage(b, true)
			} else {
				c.OnMessage(msg, false)
			}
		}
		c.es.Close()
	})
}
