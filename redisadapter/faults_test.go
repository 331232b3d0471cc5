package redisadapter

import (
	"context"
	"io"
	"iter"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/internal/testredis"
	"github.com/sori-dev/sori/socketio/parser"
)

// fakeNamespace records what the adapter delivers.
type fakeNamespace struct {
	mu        sync.Mutex
	delivered []string
}

func (f *fakeNamespace) Name() string { return "/" }
func (f *fakeNamespace) Deliver(pkt *parser.Packet, ids iter.Seq[string], _ adapter.Flags,
	_ func(string, adapter.Args)) int {
	n := 0
	for range ids {
		n++
	}
	raw, _ := pkt.Data.(interface{ MarshalJSON() ([]byte, error) })
	var s string
	if raw != nil {
		b, _ := raw.MarshalJSON()
		s = string(b)
	}
	f.mu.Lock()
	f.delivered = append(f.delivered, s)
	f.mu.Unlock()
	return n
}
func (f *fakeNamespace) Info(string) (adapter.SocketInfo, bool)               { return adapter.SocketInfo{}, false }
func (f *fakeNamespace) Disconnect(string, bool)                              {}
func (f *fakeNamespace) ReceiveServerSideEmit(adapter.Args, func(args []any)) {}
func (f *fakeNamespace) NextAckID() uint64                                    { return 0 }

func (f *fakeNamespace) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.delivered...)
}

// freezer is a TCP proxy whose connections can be frozen: they stay open
// and carry nothing, as behind a dead network path. New connections pass.
type freezer struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen []chan struct{}
	conns  []net.Conn
	done   chan struct{}
}

func newFreezer(t *testing.T, target string) *freezer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{ln: ln, target: target, done: make(chan struct{})}
	go f.serve()
	t.Cleanup(func() {
		close(f.done)
		_ = ln.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.conns {
			_ = c.Close()
		}
	})
	return f
}

func (f *freezer) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		r, err := net.Dial("tcp", f.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		stop := make(chan struct{})
		f.mu.Lock()
		f.frozen = append(f.frozen, stop)
		f.conns = append(f.conns, c, r)
		f.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				select {
				case <-stop:
					<-f.done // frozen: hold the data until the test ends
					return
				default:
				}
				if n > 0 {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					if err != io.EOF {
						_ = dst.Close()
					}
					return
				}
			}
		}
		go pipe(r, c)
		go pipe(c, r)
	}
}

// freeze stops every connection open now.
func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.frozen {
		close(s)
	}
	f.frozen = nil
}

func TestSilentLinkIsRenewed(t *testing.T) {
	old := healthyCheck
	healthyCheck = 150 * time.Millisecond
	t.Cleanup(func() { healthyCheck = old })

	r := testredis.Start(t)
	proxy := newFreezer(t, r.Addr)
	rc := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: -1})
	defer rc.Close()
	factory, err := New(rc, &Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), RequestsTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	nsp := &fakeNamespace{}
	a := factory(nsp).(*Adapter)
	defer a.Close()
	a.AddAll("s1", "s1")

	direct := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer direct.Close()
	send := func(text string) {
		msg, err := jsonToMsgpack([]byte(`["other",{"type":2,"data":["`+text+`"],"nsp":"/"},{"rooms":[],"except":[],"flags":{}}]`), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := direct.Publish(context.Background(), "socket.io#/#", msg).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitGot := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for len(nsp.got()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("delivered %v, want %d", nsp.got(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Subscribed?
	deadline := time.Now().Add(5 * time.Second)
	for {
		res, _ := direct.PubSubNumSub(context.Background(), a.requestChannel).Result()
		if res[a.requestChannel] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	send("before")
	waitGot(1)

	proxy.freeze()
	// The silent connection is replaced, subscribed anew: messages come again.
	deadline = time.Now().Add(5 * time.Second)
	for len(nsp.got()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery after the link froze: %v", nsp.got())
		}
		send("after")
		time.Sleep(100 * time.Millisecond)
	}
	if got := nsp.got(); got[0] != `["before"]` || got[1] != `["after"]` {
		t.Fatalf("delivered %v", got)
	}
}
