package engineio_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Many clients echo many messages at once: every echo comes back whole and
// in order, whether the server wrote it at once on the reading goroutine or
// a writer goroutine finished what the socket would not take.
func TestEchoStorm(t *testing.T) {
	h := newHarness(t, quietOptions())
	const clients, msgs = 40, 1000 // the recorder keeps up to 1024 each
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := range clients {
		c := h.dialWS()
		wg.Go(func() {
			done := make(chan error, 1)
			go func() {
				for j := range msgs {
					_ = c.conn.SetReadDeadline(time.Now().Add(waitTimeout))
					typ, b, err := c.conn.ReadMessage()
					if err != nil {
						done <- fmt.Errorf("client %d, echo %d: %v", i, j, err)
						return
					}
					if want := fmt.Sprintf("4%d-%d-%0200d", i, j, j); typ != websocket.TextMessage || string(b) != want {
						done <- fmt.Errorf("client %d, echo %d: got %.40q, want %.40q", i, j, b, want)
						return
					}
				}
				done <- nil
			}()
			for j := range msgs {
				if err := c.conn.WriteMessage(websocket.TextMessage, fmt.Appendf(nil, "4%d-%d-%0200d", i, j, j)); err != nil {
					errs <- err
					return
				}
			}
			errs <- <-done
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A write that blocked (a ping by the writer goroutine) leaves a deadline on
// the connection; writes made later at once, on the reading goroutine, must
// not trip over it once it has passed.
func TestWritesAfterAnExpiredDeadline(t *testing.T) {
	opts := quietOptions()
	opts.PingInterval = 150 * time.Millisecond
	opts.PingTimeout = 2 * time.Second
	opts.WriteTimeout = 20 * time.Millisecond
	h := newHarness(t, opts)
	c := h.dialWS()
	var pings atomic.Int64
	var wmu sync.Mutex // one writer at a time on the client's side
	write := func(b []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return c.conn.WriteMessage(websocket.TextMessage, b)
	}
	msgs := make(chan string, 16)
	go func() { // answers pings, hands the rest over
		defer close(msgs)
		for {
			typ, b, err := c.conn.ReadMessage()
			if err != nil {
				return
			}
			if typ == websocket.TextMessage && string(b) == "2" {
				pings.Add(1)
				_ = write([]byte("3"))
				continue
			}
			msgs <- string(b)
		}
	}()
	for i := range 4 {
		// Just after a ping, the deadline its write set passes well before
		// the next ping: the echo is written in between.
		for want := pings.Load() + 1; pings.Load() < want; {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(3 * opts.WriteTimeout)
		if err := write(fmt.Appendf(nil, "4echo %d", i)); err != nil {
			t.Fatal(err)
		}
		select {
		case got, ok := <-msgs:
			if !ok || got != fmt.Sprintf("4echo %d", i) {
				t.Fatalf("echo %d: got %q (open: %v)", i, got, ok)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("no echo %d", i)
		}
	}
}
