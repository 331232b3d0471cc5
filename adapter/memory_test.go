package adapter

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sync"
	"testing"

	"github.com/sori-dev/sori/socketio/parser"
)

// fakeNamespace records what the adapter asks of its namespace.
type fakeNamespace struct {
	mu           sync.Mutex
	delivered    []string // ids, sorted per delivery
	packets      []*parser.Packet
	flags        []Flags
	withAck      bool
	disconnected []string
	ackID        uint64
	known        map[string]bool // sockets Info knows; nil: all
}

func (f *fakeNamespace) Name() string { return "/test" }

func (f *fakeNamespace) Deliver(pkt *parser.Packet, ids iter.Seq[string], flags Flags,
	onAck func(string, Args)) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	got := slices.Sorted(ids)
	f.delivered = append(f.delivered, fmt.Sprint(got))
	f.packets = append(f.packets, pkt)
	f.flags = append(f.flags, flags)
	f.withAck = onAck != nil
	if onAck != nil {
		for _, id := range got {
			onAck(id, Args{Values: []json.RawMessage{json.RawMessage(`"` + id + `"`)}})
		}
	}
	return len(got)
}

func (f *fakeNamespace) Info(id string) (SocketInfo, bool) {
	if f.known != nil && !f.known[id] {
		return SocketInfo{}, false
	}
	return SocketInfo{ID: id, Rooms: []string{id}}, true
}

func (f *fakeNamespace) Disconnect(id string, close bool) {
	f.mu.Lock()
	f.disconnected = append(f.disconnected, fmt.Sprint(id, " ", close))
	f.mu.Unlock()
}

func (f *fakeNamespace) ReceiveServerSideEmit(Args, func([]any)) {}

func (f *fakeNamespace) NextAckID() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ackID++
	return f.ackID
}

func (f *fakeNamespace) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delivered[len(f.delivered)-1]
}

// newRooms gives an adapter with sockets in rooms, each also in its own
// private room as the server puts it:
//
//	s1: r1   s2: r1 r2   s3: r2 r3   s4: r3   s5: -
func newRooms(t *testing.T) (*Memory, *fakeNamespace) {
	t.Helper()
	nsp := &fakeNamespace{}
	m := NewMemory(nsp)
	if m.Namespace() != nsp {
		t.Fatal("Namespace")
	}
	for id, rooms := range map[string][]string{
		"s1": {"r1"}, "s2": {"r1", "r2"}, "s3": {"r2", "r3"}, "s4": {"r3"}, "s5": nil,
	} {
		m.AddAll(id, id)
		m.AddAll(id, rooms...)
	}
	return m, nsp
}

func TestMemoryRooms(t *testing.T) {
	m, _ := newRooms(t)
	if got := m.SocketRooms("s2"); !slices.Equal(got, []string{"r1", "r2", "s2"}) {
		t.Fatalf("SocketRooms %q", got)
	}
	if m.SocketRooms("nobody") != nil {
		t.Fatal("rooms of an unknown socket")
	}
	if got := m.Rooms(); !slices.Equal(got, []string{"r1", "r2", "r3", "s1", "s2", "s3", "s4", "s5"}) {
		t.Fatalf("Rooms %q", got)
	}
	if m.RoomSize("r2") != 2 || m.RoomSize("none") != 0 || m.RoomSize("s1") != 1 {
		t.Fatal("RoomSize")
	}
	if !m.HasSocket("s5") || m.HasSocket("r1") {
		t.Fatal("HasSocket")
	}
	m.Del("s2", "r1")
	m.Del("s2", "r1")
	m.Del("s2", "none")
	m.Del("nobody", "r1")
	if got := m.SocketRooms("s2"); !slices.Equal(got, []string{"r2", "s2"}) {
		t.Fatalf("after Del %q", got)
	}
	m.Del("s1", "r1")
	if slices.Contains(m.Rooms(), "r1") {
		t.Fatal("empty room kept")
	}
	m.DelAll("s3")
	m.DelAll("s3")
	if m.HasSocket("s3") || m.RoomSize("r2") != 1 || m.RoomSize("r3") != 1 || slices.Contains(m.Rooms(), "s3") {
		t.Fatal("DelAll")
	}
	ctx := context.Background()
	if all, err := m.AllRooms(ctx); err != nil || !slices.Equal(all, m.Rooms()) {
		t.Fatalf("AllRooms %q %v", all, err)
	}
	if n, err := m.ServerCount(ctx); n != 1 || err != nil {
		t.Fatalf("ServerCount %d %v", n, err)
	}
	if res, err := m.ServerSideEmit(ctx, []any{"ev"}, true); res != nil || err != nil {
		t.Fatalf("ServerSideEmit %v %v", res, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryMatch(t *testing.T) {
	m, _ := newRooms(t)
	cases := []struct {
		opts BroadcastOptions
		want []string
	}{
		{BroadcastOptions{}, []string{"s1", "s2", "s3", "s4", "s5"}},
		{BroadcastOptions{Rooms: []string{"r1"}}, []string{"s1", "s2"}},
		{BroadcastOptions{Rooms: []string{"r1", "r2"}}, []string{"s1", "s2", "s3"}},
		{BroadcastOptions{Rooms: []string{"r1", "r2", "r3", "r1"}}, []string{"s1", "s2", "s3", "s4"}},
		{BroadcastOptions{Except: []string{"r2"}}, []string{"s1", "s4", "s5"}},
		{BroadcastOptions{Except: []string{"r1", "r3"}}, []string{"s5"}},
		{BroadcastOptions{Rooms: []string{"r1", "r3"}, Except: []string{"r2"}}, []string{"s1", "s4"}},
		{BroadcastOptions{Rooms: []string{"r2"}, Except: []string{"s2"}}, []string{"s3"}},
		{BroadcastOptions{Rooms: []string{"s5"}}, []string{"s5"}},
		{BroadcastOptions{Rooms: []string{"none"}}, nil},
		{BroadcastOptions{Except: []string{"none"}}, []string{"s1", "s2", "s3", "s4", "s5"}},
	}
	for _, tc := range cases {
		got := m.Match(tc.opts)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%+v) = %q, want %q", tc.opts, got, tc.want)
		}
		if len(tc.opts.Except) == 0 {
			got := m.Sockets(tc.opts.Rooms...)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Sockets(%q) = %q, want %q", tc.opts.Rooms, got, tc.want)
			}
		}
	}
}

func TestMemoryBroadcast(t *testing.T) {
	m, nsp := newRooms(t)
	ctx := context.Background()
	pkt := &parser.Packet{Type: parser.Event, Data: []any{"e"}}
	opts := BroadcastOptions{Rooms: []string{"r1", "r2"}, Except: []string{"s3"}, Flags: Flags{Volatile: true}}
	if err := m.Broadcast(ctx, pkt, opts); err != nil {
		t.Fatal(err)
	}
	if got := nsp.last(); got != "[s1 s2]" || nsp.withAck || !nsp.flags[0].Volatile || nsp.packets[0] != pkt {
		t.Fatalf("Broadcast delivered to %s (ack %v, flags %+v)", got, nsp.withAck, nsp.flags[0])
	}

	var count int
	var acked []string
	err := m.BroadcastWithAck(ctx, &parser.Packet{Type: parser.Event, Data: []any{"q"}},
		BroadcastOptions{Rooms: []string{"r3"}},
		func(n int) { count += n },
		func(id string, a Args) { acked = append(acked, id+"="+string(a.Values[0])) })
	if err != nil {
		t.Fatal(err)
	}
	p := nsp.packets[len(nsp.packets)-1]
	if !p.HasID || p.ID != 1 || count != 2 || !nsp.withAck || !slices.Equal(acked, []string{`s3="s3"`, `s4="s4"`}) {
		t.Fatalf("BroadcastWithAck: id %d/%v count %d acks %q", p.ID, p.HasID, count, acked)
	}
}

func TestMemorySocketOperations(t *testing.T) {
	m, nsp := newRooms(t)
	ctx := context.Background()
	nsp.known = map[string]bool{"s1": true, "s2": true} // s3 is gone meanwhile
	infos, err := m.FetchSockets(ctx, BroadcastOptions{Rooms: []string{"r1", "r2"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, info := range infos {
		if !info.Local {
			t.Fatalf("%s not local", info.ID)
		}
		ids = append(ids, info.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"s1", "s2"}) {
		t.Fatalf("FetchSockets %q", ids)
	}

	if err := m.AddSockets(ctx, BroadcastOptions{Rooms: []string{"r3"}}, []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Sockets("x"); len(got) != 2 || m.RoomSize("y") != 2 {
		t.Fatalf("AddSockets: x has %q", got)
	}
	if err := m.DelSockets(ctx, BroadcastOptions{Except: []string{"r2"}}, []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if got := m.Sockets("x"); !slices.Equal(got, []string{"s3"}) || m.RoomSize("y") != 1 {
		t.Fatalf("DelSockets: x has %q", got)
	}
	if err := m.DisconnectSockets(ctx, BroadcastOptions{Rooms: []string{"r1"}}, true); err != nil {
		t.Fatal(err)
	}
	slices.Sort(nsp.disconnected)
	if !slices.Equal(nsp.disconnected, []string{"s1 true", "s2 true"}) {
		t.Fatalf("DisconnectSockets %q", nsp.disconnected)
	}
}

func TestMemoryRoomEvents(t *testing.T) {
	m := NewMemory(&fakeNamespace{})
	var got []string
	m.AddAll("early", "before") // no listener yet: nothing recorded
	m.OnRoomEvent(func(e RoomEvent) { got = append(got, fmt.Sprintf("%s %s %s", e.Kind, e.Room, e.ID)) })
	take := func() []string {
		out := got
		got = nil
		return out
	}
	m.AddAll("a", "a", "room")
	m.AddAll("b", "b", "room")
	m.AddAll("b", "room")
	if g, want := take(), []string{
		"create-room a ", "join-room a a", "create-room room ", "join-room room a",
		"create-room b ", "join-room b b", "join-room room b",
	}; !slices.Equal(g, want) {
		t.Fatalf("joins %q, want %q", g, want)
	}
	m.Del("a", "room")
	m.Del("a", "room")
	if g := take(); !slices.Equal(g, []string{"leave-room room a"}) {
		t.Fatalf("leave %q", g)
	}
	m.DelAll("b")
	if g := take(); !slices.Equal(g, []string{"leave-room room b", "delete-room room ", "leave-room b b", "delete-room b "}) {
		t.Fatalf("DelAll %q", g)
	}
	m.DelAll("a")
	if g := take(); !slices.Equal(g, []string{"leave-room a a", "delete-room a "}) {
		t.Fatalf("DelAll private %q", g)
	}
	// A listener may call back into the adapter: it runs outside the lock.
	m.OnRoomEvent(func(e RoomEvent) {
		if e.Kind == JoinRoom {
			_ = m.RoomSize(e.Room)
		}
	})
	m.AddAll("c", "x")
}

func TestMemoryConcurrent(t *testing.T) {
	m := NewMemory(&fakeNamespace{})
	m.OnRoomEvent(func(RoomEvent) {})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			id := fmt.Sprint("s", w)
			for i := range 200 {
				room := fmt.Sprint("r", i%5)
				m.AddAll(id, id, room)
				_ = m.Match(BroadcastOptions{Rooms: []string{room}, Except: []string{"r1"}})
				_ = m.SocketRooms(id)
				_ = m.Rooms()
				m.Del(id, room)
				if i%50 == 0 {
					m.DelAll(id)
				}
			}
			m.DelAll(id)
		})
	}
	wg.Wait()
	if rooms := m.Rooms(); len(rooms) != 0 {
		t.Fatalf("rooms left %q", rooms)
	}
}
