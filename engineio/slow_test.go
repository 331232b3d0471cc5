package engineio_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
)

// smallReadBufferDialer dials with a tiny receive buffer, so that the
// kernel absorbs little of what the server writes to a client that does
// not read.
var smallReadBufferDialer = &websocket.Dialer{
	HandshakeTimeout: waitTimeout,
	NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}).DialContext,
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestSlowReader: a WebSocket client that stops reading while the server
// sends a lot is closed with ReasonQueueFull once its queue passes
// MaxQueuedBytes; what the server holds for it stays bounded, and other
// sessions go on as before.
func TestSlowReader(t *testing.T) {
	const (
		maxQueued = 1 << 20
		msgSize   = 32 << 10
		attempt   = 256 << 20 // what the test tries to push at most
		// What may be accepted before the queue is full: the queue, one
		// batch in a blocked write, and the kernel's socket buffers
		// (tcp_wmem's 4 MiB at most here) with room to spare.
		acceptable = 24 << 20
	)
	h := newHarness(t, &engineio.Options{
		PingInterval:   time.Minute,
		PingTimeout:    time.Minute,
		MaxQueuedBytes: maxQueued,
		WriteTimeout:   time.Minute, // the queue bound, not the write timeout, must act
	})
	fast := h.dialWS()
	pollSID := h.openPolling()

	base := heapAlloc()
	slow := h.dialWSWith(smallReadBufferDialer)
	rec := h.rec(slow.sid)

	var (
		accepted int
		sendErr  error
		checked  bool
		stuck    bool
		stuckAt  int
	)
	start := time.Now()
	for accepted < attempt {
		// A new buffer each time: a queue that kept them would show.
		m := engineio.NewMessage(make([]byte, msgSize), true)
		if sendErr = rec.s.Send(m); sendErr != nil {
			break
		}
		accepted += msgSize
		if !stuck {
			// Let the writer take it, as a server that sends at a human
			// pace would, until the writer stops taking: it is blocked on
			// the client that does not read.
			deadline := time.Now().Add(50 * time.Millisecond)
			for rec.s.Buffered() > 0 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Microsecond)
			}
			stuck = rec.s.Buffered() > 0
			if stuck {
				stuckAt = accepted
			}
		}
		if !checked && rec.s.Buffered() > maxQueued/2 {
			// The writer is stuck on the slow client: the others are not.
			checked = true
			if !engineio.Writing(rec.s) {
				t.Fatal("no writer while data is queued")
			}
			fast.roundTrip("unaffected")
			h.pollRoundTrip(pollSID, "unaffected")
		}
	}
	if !errors.Is(sendErr, engineio.ErrQueueFull) {
		t.Fatalf("after %d MiB, Send returned %v, want ErrQueueFull", accepted>>20, sendErr)
	}
	if !checked {
		t.Fatal("the queue never filled before the limit")
	}
	if accepted > acceptable {
		t.Fatalf("%d MiB accepted for a client that does not read (limit %d MiB)", accepted>>20, maxQueued>>20)
	}
	e := rec.waitClose(t)
	if e.reason != engineio.ReasonQueueFull || !errors.Is(e.err, engineio.ErrQueueFull) {
		t.Fatalf("closed with %q %v, want send queue full", e.reason, e.err)
	}
	t.Logf("writer blocked after %d KiB; closed after %d KiB accepted in %v", stuckAt>>10, accepted>>10, time.Since(start))
	if accepted-stuckAt > acceptable {
		t.Fatalf("%d KiB accepted after the writer blocked", (accepted-stuckAt)>>10)
	}
	if err := rec.s.Send(engineio.NewMessage([]byte("x"), false)); !errors.Is(err, engineio.ErrSessionClosed) {
		t.Fatalf("Send after the close: %v", err)
	}
	if n := rec.s.Buffered(); n != 0 {
		t.Fatalf("%d bytes still queued after the close", n)
	}
	// The slow client's connection is cut.
	_ = slow.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	for {
		if _, _, err := slow.conn.ReadMessage(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the slow client's connection stayed open")
			}
			break
		}
	}
	h.forget(slow.sid)
	// Nothing of it stays in memory.
	eventually(t, "the heap to come back", func() bool { return heapAlloc() < base+4<<20 })

	fast.roundTrip("after")
	h.pollRoundTrip(pollSID, "after")
	if h.srv.Len() != 2 {
		t.Fatalf("%d sessions, want 2", h.srv.Len())
	}
}

// TestSlowReaderBroadcast: one shared Message sent to many sessions, one
// of which does not read, costs that one session its place and nothing
// else.
func TestSlowReaderBroadcast(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: time.Minute, PingTimeout: time.Minute, MaxQueuedBytes: 256 << 10})
	var readers []*wsClient
	for range 5 {
		readers = append(readers, h.dialWS())
	}
	slow := h.dialWSWith(smallReadBufferDialer)
	slowRec := h.rec(slow.sid)
	m := engineio.NewMessage(make([]byte, 16<<10), false)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan struct{})
	// The readers drain concurrently.
	counts := make(chan int, len(readers))
	for _, c := range readers {
		go func() {
			n := 0
			for {
				_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
				if _, _, err := c.conn.ReadMessage(); err != nil {
					counts <- n
					return
				}
				n++
				select {
				case <-done:
					counts <- n
					return
				default:
				}
			}
		}()
	}
	for slowRec.s.Send(m) == nil && ctx.Err() == nil {
		for _, c := range readers {
			r := h.rec(c.sid)
			if err := r.s.Send(m); err != nil {
				t.Fatalf("a reading session refused a message: %v", err)
			}
			// A reader keeps up, however slow the machine: wait for it
			// rather than let its queue fill.
			eventually(t, "a reader to drain", func() bool { return r.s.Buffered() < 128<<10 })
		}
	}
	if e := slowRec.waitClose(t); e.reason != engineio.ReasonQueueFull {
		t.Fatalf("slow session closed with %q", e.reason)
	}
	close(done)
	for _, c := range readers {
		if h.rec(c.sid).isClosed() {
			t.Fatal("a reading session was closed")
		}
		// Wakes the reader goroutine, which stops after a message.
		must(t, h.rec(c.sid).s.Send(engineio.NewMessage([]byte("wake"), false)))
	}
	for range readers {
		<-counts
	}
	for _, c := range readers {
		c.sendText("4fine")
		for c.readText() != "4fine" {
		}
	}
}
