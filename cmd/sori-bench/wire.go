package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// wconn is a minimal Socket.IO v5 / Engine.IO v4 client on a raw
// WebSocket: the handshake, text frames out (masked with a zero key),
// frames in, pongs. Enough for thousands of connections in one process at
// little cost; package client is the full client.
type wconn struct {
	c  net.Conn
	br *bufio.Reader

	wmu  sync.Mutex
	wbuf []byte

	rbuf []byte // the frame being read

	pmu     sync.Mutex
	pending map[uint64]pendingAck // acks asked for, by id
	nextID  uint64
}

// pendingAck is an acknowledgement the connection waits for.
type pendingAck struct {
	at   int64 // when the request was due, in ns since the worker's epoch
	kind uint8
}

const (
	ackIgnore uint8 = iota
	ackJoin
	ackRTT
)

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT: binding a source
// address without taking a port at bind time, so that each source address
// has the whole ephemeral range per destination.
const ipBindAddressNoPort = 24

func dialer(src net.IP) *net.Dialer {
	d := &net.Dialer{Timeout: 30 * time.Second}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	return d
}

// dialWire connects to the Socket.IO server at addr from source address
// src (nil: any) and joins the main namespace: it returns once the
// server's CONNECT answer came.
func dialWire(ctx context.Context, src net.IP, addr string) (*wconn, error) {
	c, err := dialer(src).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	w := &wconn{c: c, br: bufio.NewReaderSize(c, 1024), pending: map[uint64]pendingAck{}}
	if err := w.handshake(addr); err != nil {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return w, nil
}

func (w *wconn) handshake(addr string) error {
	var key [16]byte
	_, _ = rand.Read(key[:])
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
		base64.StdEncoding.EncodeToString(key[:]) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(w.c, req); err != nil {
		return err
	}
	status, err := w.br.ReadString('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix([]byte(status), []byte("HTTP/1.1 101")) {
		return fmt.Errorf("handshake answered %q", bytes.TrimSpace([]byte(status)))
	}
	for {
		line, err := w.br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			break
		}
	}
	p, err := w.readMessage()
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != '0' {
		return fmt.Errorf("expected the open packet, got %q", p)
	}
	if err := w.writeText([]byte("40")); err != nil {
		return err
	}
	for {
		p, err := w.readMessage()
		if err != nil {
			return err
		}
		switch {
		case bytes.HasPrefix(p, []byte("40")):
			return nil
		case bytes.HasPrefix(p, []byte("44")):
			return fmt.Errorf("connect error %s", p[2:])
		case string(p) == "2":
			if err := w.writeText([]byte("3")); err != nil {
				return err
			}
		}
	}
}

// readMessage returns the next data message's payload, answering
// WebSocket pings. The payload is valid until the next call.
func (w *wconn) readMessage() ([]byte, error) {
	w.rbuf = w.rbuf[:0]
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.br, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(w.br, b[:]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n > 16<<20 {
			return nil, errors.New("frame too large")
		}
		var mask [4]byte
		if h[1]&0x80 != 0 {
			if _, err := io.ReadFull(w.br, mask[:]); err != nil {
				return nil, err
			}
		}
		// Control frames may come between the fragments of a message:
		// each is read after what is gathered, then dropped.
		start := len(w.rbuf)
		w.rbuf = slices.Grow(w.rbuf, int(n))[:start+int(n)]
		if _, err := io.ReadFull(w.br, w.rbuf[start:]); err != nil {
			return nil, err
		}
		if h[1]&0x80 != 0 {
			for i := range w.rbuf[start:] {
				w.rbuf[start+i] ^= mask[i%4]
			}
		}
		switch op {
		case 0x8:
			return nil, io.EOF
		case 0x9:
			payload := append([]byte(nil), w.rbuf[start:]...)
			w.rbuf = w.rbuf[:start]
			if err := w.writeFrame(0xA, payload); err != nil {
				return nil, err
			}
			continue
		case 0xA:
			w.rbuf = w.rbuf[:start]
			continue
		}
		if fin {
			return w.rbuf, nil
		}
	}
}

// writeFrame writes one final frame, masked with a zero key.
func (w *wconn) writeFrame(op byte, payload []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	b := w.wbuf[:0]
	b = append(b, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0) // the mask key: zero, so the payload is as is
	b = append(b, payload...)
	w.wbuf = b
	_, err := w.c.Write(b)
	return err
}

func (w *wconn) writeText(p []byte) error { return w.writeFrame(0x1, p) }

// emit sends 42[event, args...], args already JSON; with ask, it asks
// for an acknowledgement, which the reader will handle as kind says, and
// at is when the request was due.
func (w *wconn) emit(event string, jsonArgs []string, ask bool, kind uint8, at int64) error {
	b := make([]byte, 0, 160)
	b = append(b, '4', '2')
	if ask {
		w.pmu.Lock()
		id := w.nextID
		w.nextID++
		w.pending[id] = pendingAck{at: at, kind: kind}
		w.pmu.Unlock()
		b = strconv.AppendUint(b, id, 10)
	}
	b = append(b, `["`...)
	b = append(b, event...)
	b = append(b, '"')
	for _, a := range jsonArgs {
		b = append(b, ',')
		b = append(b, a...)
	}
	b = append(b, ']')
	return w.writeText(b)
}

// takeAck removes and returns the pending ack with the id.
func (w *wconn) takeAck(id uint64) (pendingAck, bool) {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	p, ok := w.pending[id]
	if ok {
		delete(w.pending, id)
	}
	return p, ok
}

func (w *wconn) close() { _ = w.c.Close() }
