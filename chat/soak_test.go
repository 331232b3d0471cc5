package chat_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/chat"
	"github.com/sori-dev/sori/client"
	"github.com/sori-dev/sori/engineio"
)

// The soak: many clients join rooms and chat while others come and go,
// leave rooms, reconnect, or lose their connection to a TCP reset. At the
// end every acknowledged message has reached every member that stayed in
// its room, and the server's goroutines and heap are back where they began.
// SORI_SOAK=long runs it at scale (make soak); the short one is in make test.
func TestSoak(t *testing.T) {
	stayers, churners, rooms, run := 120, 120, 8, 4*time.Second
	if os.Getenv("SORI_SOAK") == "long" {
		stayers, churners, rooms, run = 1500, 1500, 40, 60*time.Second
	}
	baseGoroutines := runtime.NumGoroutine()
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	// A short heartbeat reaps the sessions of clients that vanished (a
	// polling client that just stops): Close waits for those too.
	io := sori.NewServer(&sori.Options{DisableServeClient: true, Logger: slog.New(slog.DiscardHandler),
		Engine: engineio.Options{PingInterval: 2 * time.Second, PingTimeout: 5 * time.Second}})
	chat.Register(io, slog.New(slog.DiscardHandler))
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)

	opts := func(dialer *websocket.Dialer, transports ...string) *client.Options {
		return &client.Options{
			Transports: transports, Dialer: dialer, Logger: slog.New(slog.DiscardHandler),
			ReconnectionDelay: 20 * time.Millisecond, ReconnectionDelayMax: 200 * time.Millisecond,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), run+2*time.Minute)
	defer cancel()
	roomName := func(i int) string { return fmt.Sprintf("room-%d", i%rooms) }

	// The stayers: in one room from the start to the end, recording what
	// they receive.
	type member struct {
		s    *client.Socket
		nick string
		room string
		mu   sync.Mutex
		got  map[string]bool
	}
	members := make([]*member, stayers)
	var wg sync.WaitGroup
	for i := range members {
		m := &member{nick: fmt.Sprintf("stayer%d", i), room: roomName(i), got: make(map[string]bool)}
		members[i] = m
		wg.Go(func() {
			transports := []string{"websocket"}
			if i%4 == 0 {
				transports = []string{"polling"} // some stay on long-polling
			}
			s, err := client.Dial(ctx, ts.URL+"/", opts(websocket.DefaultDialer, transports...))
			if err != nil {
				t.Errorf("stayer %d: %v", i, err)
				return
			}
			m.s = s
			_ = s.On("new_message", func(text string) {
				m.mu.Lock()
				m.got[text] = true
				m.mu.Unlock()
			})
			if _, err := s.EmitWithAck(ctx, "nickname", m.nick); err != nil {
				t.Errorf("stayer %d nickname: %v", i, err)
			}
			if _, err := s.EmitWithAck(ctx, "enter_room", m.room); err != nil {
				t.Errorf("stayer %d enter: %v", i, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// Everyone chats; the churners also leave, reconnect and get reset.
	var mu sync.Mutex
	type line struct{ sender, text string }
	acked := make(map[string][]line) // room -> what the server acknowledged
	var sent, resets, reconnects atomic.Int64
	record := func(room, sender, text string) {
		mu.Lock()
		acked[room] = append(acked[room], line{sender, text})
		mu.Unlock()
	}
	say := func(s *client.Socket, nick, room string, n int) bool {
		text := fmt.Sprintf("%s says %d 안녕 👋", nick, n)
		a, err := s.EmitWithAck(ctx, "new_message", text, room)
		if err != nil || a.Len() != 0 { // refused (not in room yet) or lost: not acknowledged
			return false
		}
		sent.Add(1)
		record(room, nick, nick+": "+text)
		return true
	}
	deadline := time.Now().Add(run)
	for i := range stayers {
		m := members[i]
		wg.Go(func() {
			for n := 0; time.Now().Before(deadline); n++ {
				say(m.s, m.nick, m.room, n)
				time.Sleep(time.Duration(50+rand.IntN(100)) * time.Millisecond)
			}
		})
	}
	for i := range churners {
		wg.Go(func() {
			nick := fmt.Sprintf("churner%d", i)
			// The churner's own WebSockets, so that it can reset them.
			var connMu sync.Mutex
			var conns []*net.TCPConn
			dialer := *websocket.DefaultDialer
			dialer.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err == nil {
					connMu.Lock()
					conns = append(conns, c.(*net.TCPConn))
					connMu.Unlock()
				}
				return c, err
			}
			for n := 0; time.Now().Before(deadline); n++ {
				transports := []string{"websocket"}
				if i%3 == 0 {
					transports = []string{"polling", "websocket"}
				}
				s, err := client.Dial(ctx, ts.URL+"/", opts(&dialer, transports...))
				if err != nil {
					continue // a refused or failed dial is part of the churn
				}
				_, _ = s.EmitWithAck(ctx, "nickname", nick)
				room := roomName(rand.IntN(rooms))
				if _, err := s.EmitWithAck(ctx, "enter_room", room); err == nil {
					for k := range 3 {
						say(s, nick, room, n*10+k)
					}
				}
				switch rand.IntN(3) {
				case 0:
					_, _ = s.EmitWithAck(ctx, "leave_room", room)
					_ = s.Close()
				case 1: // an abrupt TCP reset of its latest WebSocket
					connMu.Lock()
					if len(conns) > 0 {
						c := conns[len(conns)-1]
						_ = c.SetLinger(0)
						_ = c.Close()
						resets.Add(1)
					}
					connMu.Unlock()
					time.Sleep(30 * time.Millisecond)
					_ = s.Close()
				default:
					reconnects.Add(1)
					_ = s.Close()
				}
			}
		})
	}
	wg.Wait()

	// Every acknowledged message reaches every stayer of its room.
	missing := func() (int, string) {
		mu.Lock()
		defer mu.Unlock()
		n, example := 0, ""
		for _, m := range members {
			m.mu.Lock()
			for _, l := range acked[m.room] {
				// The chat does not echo a message to its sender.
				if l.sender != m.nick && !m.got[l.text] {
					n++
					example = fmt.Sprintf("%s in %s missed %q", m.nick, m.room, l.text)
				}
			}
			m.mu.Unlock()
		}
		return n, example
	}
	wait := time.Now().Add(30 * time.Second)
	for {
		n, example := missing()
		if n == 0 {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("%d acknowledged deliveries missing, e.g. %s", n, example)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d messages acknowledged; %d resets, %d reconnects; %d stayers, %d churners",
		sent.Load(), resets.Load(), reconnects.Load(), stayers, churners)
	if sent.Load() == 0 {
		t.Fatal("nothing was sent")
	}

	for _, m := range members {
		_ = m.s.Close()
	}
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer closeCancel()
	if err := io.Close(closeCtx); err != nil {
		t.Errorf("server close: %v", err)
	}
	ts.CloseClientConnections()
	ts.Close()

	// Back to the baseline: no goroutine, timer or buffer outlives its
	// connection.
	settle := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseGoroutines+2 {
		if time.Now().After(settle) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left over %d at start:\n%s", runtime.NumGoroutine(), baseGoroutines, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapInuse) - int64(before.HeapInuse); grown > 16<<20 {
		t.Fatalf("heap in use grew by %d bytes", grown)
	}
}
