package sori

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sori-dev/sori/engineio"
)

// A client that stops reading is cut off once its queue passes the bound;
// the others in its room get every message, and the server's memory stays
// bounded.
func TestSlowReaderInFloodedRoom(t *testing.T) {
	const limit = 256 << 10
	srv, ts, _ := newTestServer(t, &Options{Engine: engineio.Options{MaxQueuedBytes: limit, MaxHTTPBufferSize: limit}})
	reasons := make(chan string, 3)
	joined := make(chan struct{}, 3)
	srv.OnConnection(func(s *Socket) {
		s.On("join", func(done func()) { _ = s.Join("room"); done(); joined <- struct{}{} })
		s.On("disconnect", func(reason string) { reasons <- reason })
	})
	fast1, fast2, slow := dial(t, ts), dial(t, ts), dial(t, ts)
	for _, c := range []*rawClient{fast1, fast2, slow} {
		c.connect("/")
		c.send(`21["join"]`)
		c.expect(`31[]`)
		<-joined
	}

	// The slow client's reader stops once its 1024-message channel is
	// full: from then on, nothing reads its connection. The sender keeps
	// pace with the clients that read (a producer faster than every
	// reader would fill every queue): the slow one must not hold them up.
	const n, batch = 4000, 20 // a batch (80 KB) fits in a queue
	payload := strings.Repeat("x", 4000)
	var got [2]atomic.Int64
	for i, c := range []*rawClient{fast1, fast2} {
		go func() {
			for got[i].Load() < n {
				select {
				case f := <-c.frames:
					if strings.HasPrefix(f.text, `2["news"`) {
						got[i].Add(1)
					}
				case <-c.done:
					return
				}
			}
		}()
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for sent := 0; sent < n; {
		for range batch {
			if err := srv.To("room").Emit("news", sent, payload); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		deadline := time.Now().Add(waitLimit)
		for got[0].Load() < int64(sent) || got[1].Load() < int64(sent) {
			if time.Now().After(deadline) {
				t.Fatalf("reading clients got %d and %d of %d messages", got[0].Load(), got[1].Load(), sent)
			}
			time.Sleep(time.Millisecond)
		}
	}
	select {
	case r := <-reasons:
		if r != string(engineio.ReasonQueueFull) {
			t.Fatalf("slow client disconnected with %q, want %q", r, engineio.ReasonQueueFull)
		}
	case <-time.After(waitLimit):
		t.Fatal("the client that stopped reading was never cut off")
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	// 4000 × 4 KB = 16 MB went to each client; what stays behind must not
	// be the slow client's share.
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 8<<20 {
		t.Fatalf("heap grew by %d bytes", grown)
	}
}

// A socket that floods is slowed to the rate, then disconnected; another
// client's requests go on being answered meanwhile.
func TestEventFloodThrottledThenDisconnected(t *testing.T) {
	srv, ts, _ := newTestServer(t, &Options{EventsPerSecond: 50, EventBurst: 10, FloodTimeout: 500 * time.Millisecond})
	var handled atomic.Int64
	reasons := make(chan string, 2)
	srv.OnConnection(func(s *Socket) {
		s.On("spam", func() { handled.Add(1) })
		s.On("ping", func(done func(...any)) { done("pong") })
		s.On("disconnect", func(reason string) { reasons <- reason })
	})
	flooder, calm := dial(t, ts), dial(t, ts)
	flooder.connect("/")
	calm.connect("/")

	start := time.Now()
	go func() {
		for range 5000 {
			if flooder.closed() {
				return
			}
			flooder.send(`2["spam"]`)
		}
	}()
	for i := range 10 {
		calm.send(fmt.Sprintf(`2%d["ping"]`, i))
		calm.expect(fmt.Sprintf(`3%d["pong"]`, i))
	}
	select {
	case r := <-reasons:
		if r != reasonRateLimit {
			t.Fatalf("flooder disconnected with %q, want %q", r, reasonRateLimit)
		}
	case <-time.After(waitLimit):
		t.Fatal("the flooder was never disconnected")
	}
	elapsed := time.Since(start).Seconds()
	// Throttled: no more than the burst and the rate over the time it had.
	if got, most := handled.Load(), int64(10+50*elapsed)+5; got > most {
		t.Fatalf("%d events handled in %.2fs; the limit allows %d", got, elapsed, most)
	}
	flooder.waitClosed()
	calm.send(`20["ping"]`)
	calm.expect(`30["pong"]`)
}

func TestMaxRoomsPerSocket(t *testing.T) {
	srv, ts, _ := newTestServer(t, &Options{MaxRoomsPerSocket: 3})
	errs := make(chan error, 1)
	srv.OnConnection(func(s *Socket) {
		if err := s.Join("a", "b"); err != nil { // with its own room: 3
			errs <- err
			return
		}
		errs <- s.Join("c")
		_ = s.Emit("rooms", len(s.Rooms()))
	})
	c := dial(t, ts)
	c.connect("/")
	if err := <-errs; err != ErrTooManyRooms {
		t.Fatalf("join past the limit: %v, want ErrTooManyRooms", err)
	}
	c.expect(`2["rooms",3]`)
}

// Close lets a handler that is running finish, and its acknowledgement
// reaches the client before the connection closes.
func TestCloseLetsHandlersFinish(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	started := make(chan struct{})
	srv.OnConnection(func(s *Socket) {
		s.On("slow", func(done func(...any)) {
			close(started)
			time.Sleep(300 * time.Millisecond)
			done("finished")
		})
	})
	c := dial(t, ts)
	c.connect("/")
	c.send(`27["slow"]`)
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := srv.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	c.expect(`37["finished"]`)
	c.waitClosed()
}
