package sori

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sori-dev/sori/adapter"
)

// roomClients connects n clients to "/" and returns them with their
// sockets, in the same order.
func roomClients(t *testing.T, srv *Server, tsURL func() *rawClient, n int) ([]*rawClient, []*Socket) {
	t.Helper()
	sockets := make(chan *Socket, n)
	srv.OnConnection(func(s *Socket) {
		withPing(s)
		sockets <- s
	})
	cs := make([]*rawClient, n)
	ss := make([]*Socket, n)
	for i := range n {
		cs[i] = tsURL()
		cs[i].connect("/")
		ss[i] = recvOn(t, sockets)
	}
	return cs, ss
}

// received collects what each client got up to a "fence" event sent to
// everyone after the operation under test: a client's packets arrive in
// the order they were sent.
func received(t *testing.T, srv *Server, cs []*rawClient) [][]string {
	t.Helper()
	_ = srv.Sockets().Emit("fence")
	out := make([][]string, len(cs))
	for i, c := range cs {
		for {
			p := c.recv()
			if p == `2["fence"]` {
				break
			}
			out[i] = append(out[i], p)
		}
	}
	return out
}

func TestRooms(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	_, ss := roomClients(t, srv, func() *rawClient { return dial(t, ts) }, 1)
	s := ss[0]
	if got := s.Rooms(); !slices.Equal(got, []string{s.ID()}) {
		t.Fatalf("rooms at first %q", got)
	}
	s.Join("b", "a")
	s.Join("a") // again: no change
	if got := s.Rooms(); !slices.Equal(got, slices.Sorted(slices.Values([]string{s.ID(), "a", "b"}))) {
		t.Fatalf("rooms %q", got)
	}
	s.Leave("a")
	s.Leave("nowhere")
	if got := s.Rooms(); !slices.Equal(got, slices.Sorted(slices.Values([]string{s.ID(), "b"}))) {
		t.Fatalf("rooms after leave %q", got)
	}
	a := srv.Sockets().Adapter()
	if a.RoomSize("b") != 1 || a.RoomSize("a") != 0 || !a.HasSocket(s.ID()) || a.HasSocket("b") {
		t.Fatal("adapter rooms")
	}
}

func TestBroadcastSelection(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	cs, ss := roomClients(t, srv, func() *rawClient { return dial(t, ts) }, 5)
	// 0: r1   1: r1 r2   2: r2 r3   3: r3   4: none
	ss[0].Join("r1")
	ss[1].Join("r1", "r2")
	ss[2].Join("r2", "r3")
	ss[3].Join("r3")
	who := func(got [][]string, packet string) string {
		var b strings.Builder
		for i, ps := range got {
			n := 0
			for _, p := range ps {
				if p == packet {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("client %d got %q %d times", i, packet, n)
			}
			if n == 1 {
				fmt.Fprint(&b, i)
			}
		}
		return b.String()
	}
	cases := []struct {
		name string
		emit func()
		want string
	}{
		{"all", func() { _ = srv.Emit("e") }, "01234"},
		{"one room", func() { _ = srv.To("r1").Emit("e") }, "01"},
		{"In", func() { _ = srv.In("r3").Emit("e") }, "23"},
		{"two rooms, once each", func() { _ = srv.To("r1", "r2").Emit("e") }, "012"},
		{"chained To", func() { _ = srv.To("r1").To("r3").Emit("e") }, "0123"},
		{"except", func() { _ = srv.Except("r2").Emit("e") }, "034"},
		{"to and except", func() { _ = srv.To("r1", "r3").Except("r2").Emit("e") }, "03"},
		{"except many", func() { _ = srv.Except("r1", "r3").Emit("e") }, "4"},
		{"private room", func() { _ = srv.To(ss[4].ID()).Emit("e") }, "4"},
		{"room nobody is in", func() { _ = srv.To("nobody").Emit("e") }, ""},
		{"socket To leaves itself out", func() { _ = ss[1].To("r1", "r2").Emit("e") }, "02"},
		{"socket Broadcast", func() { _ = ss[0].Broadcast().Emit("e") }, "1234"},
		{"socket Except", func() { _ = ss[0].Except("r3").Emit("e") }, "14"},
		{"socket In", func() { _ = ss[2].In("r3").Emit("e") }, "3"},
		{"Local", func() { _ = srv.Sockets().Local().To("r2").Emit("e") }, "12"},
		{"Compress", func() { _ = srv.Sockets().Compress(false).To("r3").Emit("e") }, "23"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.emit()
			if got := who(received(t, srv, cs), `2["e"]`); got != tc.want {
				t.Fatalf("received by %q, want %q", got, tc.want)
			}
		})
	}
	// Operators are values: deriving one does not change the first.
	base := srv.To("r1")
	_ = base.Except("r1")
	_ = base.Emit("e")
	if got := who(received(t, srv, cs), `2["e"]`); got != "01" {
		t.Fatalf("base operator changed: %q", got)
	}
}

func TestBroadcastBinary(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	cs, _ := roomClients(t, srv, func() *rawClient { return dial(t, ts) }, 3)
	_ = srv.Emit("bin", []byte("hello"), map[string]any{"b": []byte{0}})
	for _, c := range cs {
		c.expect(`52-["bin",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}]`)
		if b := c.recvBin(); string(b) != "hello" {
			t.Fatalf("first attachment %q", b)
		}
		if b := c.recvBin(); string(b) != "\x00" {
			t.Fatalf("second attachment %q", b)
		}
	}
	// In a custom namespace too.
	srv.Of("/n").OnConnection(func(*Socket) {})
	cs[0].connect("/n")
	_ = srv.Of("/n").Emit("bin", []byte{7})
	cs[0].expect(`51-/n,["bin",{"_placeholder":true,"num":0}]`)
	if b := cs[0].recvBin(); string(b) != "\x07" {
		t.Fatalf("attachment %x", b)
	}
}

func TestBroadcastEmitWithAck(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	cs, ss := roomClients(t, srv, func() *rawClient { return dial(t, ts) }, 3)
	ss[0].Join("answer")
	ss[1].Join("answer")

	// Every client answers: all gathered.
	type result struct {
		args []Args
		err  error
	}
	done := make(chan result, 1)
	go func() {
		a, err := srv.Sockets().EmitWithAck(context.Background(), "q", 1)
		done <- result{a, err}
	}()
	for i, c := range cs {
		got := c.recv()
		var id int
		if _, err := fmt.Sscanf(got, `2%d["q",1]`, &id); err != nil {
			t.Fatalf("client %d got %q", i, got)
		}
		c.send(fmt.Sprintf(`3%d[%d]`, id, i))
	}
	r := recvOn(t, done)
	if r.err != nil || len(r.args) != 3 {
		t.Fatalf("gathered %d answers, %v", len(r.args), r.err)
	}
	var got []int
	for _, a := range r.args {
		var n int
		_ = a.Decode(&n)
		got = append(got, n)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("answers %v", got)
	}

	// One does not answer in time: ErrAckTimeout with the others' answers.
	go func() {
		a, err := srv.Sockets().Timeout(200*time.Millisecond).EmitWithAck(context.Background(), "q", 2)
		done <- result{a, err}
	}()
	for i, c := range cs {
		got := c.recv()
		var id int
		if _, err := fmt.Sscanf(got, `2%d["q",2]`, &id); err != nil {
			t.Fatalf("client %d got %q", i, got)
		}
		if i != 2 {
			c.send(fmt.Sprintf(`3%d["ok"]`, id))
		}
	}
	r = recvOn(t, done)
	if !errors.Is(r.err, ErrAckTimeout) || len(r.args) != 2 {
		t.Fatalf("timeout: %d answers, %v", len(r.args), r.err)
	}

	// From a socket, to a room: the others in it.
	go func() {
		a, err := ss[0].To("answer").Timeout(waitLimit).EmitWithAck(context.Background(), "q", 3)
		done <- result{a, err}
	}()
	got1 := cs[1].recv()
	var id int
	if _, err := fmt.Sscanf(got1, `2%d["q",3]`, &id); err != nil {
		t.Fatalf("got %q", got1)
	}
	cs[1].send(fmt.Sprintf(`3%d["one"]`, id))
	if r = recvOn(t, done); r.err != nil || len(r.args) != 1 {
		t.Fatalf("room: %d answers, %v", len(r.args), r.err)
	}

	// Nobody to ask: at once, no answers.
	a, err := srv.To("nobody").Timeout(waitLimit).EmitWithAck(context.Background(), "q")
	if err != nil || len(a) != 0 {
		t.Fatalf("empty room: %v %v", a, err)
	}
	// A cancelled context ends the wait with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := srv.Sockets().EmitWithAck(ctx, "q", 4); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if _, err := srv.Sockets().EmitWithAck(context.Background(), "disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved: %v", err)
	}
	for _, c := range cs {
		// The question was sent before the wait ended.
		if got := c.recv(); !strings.HasSuffix(got, `["q",4]`) {
			t.Fatalf("got %q", got)
		}
		barrier(c, "/", 99) // the unanswered questions left the sockets working
	}
}

func TestRoomEvents(t *testing.T) {
	var mu sync.Mutex
	var events []string
	srv, ts, _ := newTestServer(t, &Options{Adapter: func(nsp adapter.Namespace) adapter.Adapter {
		m := adapter.NewMemory(nsp)
		m.OnRoomEvent(func(e adapter.RoomEvent) {
			mu.Lock()
			events = append(events, fmt.Sprintf("%s %s %s", e.Kind, e.Room, e.ID))
			mu.Unlock()
		})
		return m
	}})
	disconnected := make(chan struct{})
	sockets := make(chan *Socket, 2)
	srv.OnConnection(func(s *Socket) {
		_ = s.On("disconnect", func() { disconnected <- struct{}{} })
		sockets <- s
	})
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := events
		events = nil
		return out
	}
	c1 := dial(t, ts)
	id1 := c1.connect("/")
	s1 := recvOn(t, sockets)
	c2 := dial(t, ts)
	id2 := c2.connect("/")
	s2 := recvOn(t, sockets)
	want := []string{
		"create-room " + id1 + " ", "join-room " + id1 + " " + id1,
		"create-room " + id2 + " ", "join-room " + id2 + " " + id2,
	}
	if got := take(); !slices.Equal(got, want) {
		t.Fatalf("on connect: %q, want %q", got, want)
	}
	s1.Join("room")
	s2.Join("room")
	s2.Join("room")
	want = []string{"create-room room ", "join-room room " + id1, "join-room room " + id2}
	if got := take(); !slices.Equal(got, want) {
		t.Fatalf("join: %q, want %q", got, want)
	}
	s1.Leave("room")
	s1.Leave("room")
	if got := take(); !slices.Equal(got, []string{"leave-room room " + id1}) {
		t.Fatalf("leave: %q", got)
	}
	c2.send("1")
	recvOn(t, disconnected)
	got := take()
	slices.Sort(got)
	want = []string{"delete-room " + id2 + " ", "delete-room room ", "leave-room " + id2 + " " + id2, "leave-room room " + id2}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("disconnect: %q, want %q", got, want)
	}
	if rooms := srv.Sockets().Adapter().Rooms(); !slices.Equal(rooms, []string{id1}) {
		t.Fatalf("rooms left %q", rooms)
	}
}

func TestClusterOperationsLocal(t *testing.T) {
	srv, ts, _ := newTestServer(t, nil)
	cs, ss := roomClients(t, srv, func() *rawClient { return dial(t, ts) }, 3)
	ctx := context.Background()
	nsp := srv.Sockets()
	ss[0].Data().Set("name", "zero")
	ss[0].Join("a")
	ss[1].Join("a", "b")

	all, err := nsp.FetchSockets(ctx)
	if err != nil || len(all) != 3 {
		t.Fatalf("FetchSockets: %d, %v", len(all), err)
	}
	inA, err := nsp.In("a").Except("b").FetchSockets(ctx)
	if err != nil || len(inA) != 1 || inA[0].ID != ss[0].ID() {
		t.Fatalf("FetchSockets in a except b: %v %v", inA, err)
	}
	r := inA[0]
	var data struct{ Name string }
	if err := r.DataInto(&data); err != nil || data.Name != "zero" || !r.Local {
		t.Fatalf("remote socket data %s: %v", r.Data, err)
	}
	if !slices.Equal(r.Rooms, slices.Sorted(slices.Values([]string{ss[0].ID(), "a"}))) {
		t.Fatalf("remote socket rooms %q", r.Rooms)
	}
	if r.Handshake == nil || r.Handshake.Address != "127.0.0.1" {
		t.Fatalf("remote socket handshake %+v", r.Handshake)
	}

	// SocketsJoin / SocketsLeave.
	if err := nsp.In("b").SocketsJoin(ctx, "c", "d"); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ss[1].Rooms(), "c") || !slices.Contains(ss[1].Rooms(), "d") || slices.Contains(ss[0].Rooms(), "c") {
		t.Fatalf("SocketsJoin: %q %q", ss[0].Rooms(), ss[1].Rooms())
	}
	if err := nsp.SocketsJoin(ctx, "everyone"); err != nil || nsp.Adapter().RoomSize("everyone") != 3 {
		t.Fatalf("SocketsJoin all: %v", err)
	}
	if err := nsp.Except("a").SocketsLeave(ctx, "everyone"); err != nil || nsp.Adapter().RoomSize("everyone") != 2 {
		t.Fatalf("SocketsLeave: %v", err)
	}
	if err := nsp.SocketsLeave(ctx, "c", "d"); err != nil || nsp.Adapter().RoomSize("c")+nsp.Adapter().RoomSize("d") != 0 {
		t.Fatalf("SocketsLeave all: %v", err)
	}

	// A remote socket acts on the socket.
	if err := r.Join(ctx, "r"); err != nil || !slices.Contains(ss[0].Rooms(), "r") {
		t.Fatalf("RemoteSocket.Join: %v", err)
	}
	if err := r.Leave(ctx, "r"); err != nil || slices.Contains(ss[0].Rooms(), "r") {
		t.Fatalf("RemoteSocket.Leave: %v", err)
	}
	if err := r.Emit("direct", 1); err != nil {
		t.Fatal(err)
	}
	cs[0].expect(`2["direct",1]`)

	// AllRooms and ServerCount with one server.
	rooms, err := nsp.Adapter().AllRooms(ctx)
	if err != nil || !slices.Contains(rooms, "a") || !slices.Contains(rooms, ss[2].ID()) {
		t.Fatalf("AllRooms %q %v", rooms, err)
	}
	if n, err := nsp.Adapter().ServerCount(ctx); n != 1 || err != nil {
		t.Fatalf("ServerCount %d %v", n, err)
	}

	// DisconnectSockets: without close the connection stays.
	if err := nsp.In("b").DisconnectSockets(ctx, false); err != nil {
		t.Fatal(err)
	}
	cs[1].expect("1")
	if err := r.Disconnect(ctx, true); err != nil {
		t.Fatal(err)
	}
	cs[0].expect("1")
	cs[0].waitClosed()
	if cs[1].closed() {
		t.Fatal("DisconnectSockets(false) closed the connection")
	}
	cs[1].connect("/")
	if err := nsp.DisconnectSockets(ctx, true); err != nil {
		t.Fatal(err)
	}
	cs[1].expect("1")
	cs[2].expect("1")
	cs[1].waitClosed()
	cs[2].waitClosed()
}

func TestServerSideEmitMemory(t *testing.T) {
	srv, _, _ := newTestServer(t, nil)
	nsp := srv.Sockets()
	ctx := context.Background()
	got := make(chan string, 2)
	if err := nsp.OnServerSideEmit("hello", func(who string, ack func(string)) {
		got <- who
		ack("hi " + who)
	}); err != nil {
		t.Fatal(err)
	}
	if err := nsp.OnServerSideEmit("bad", 1); err == nil {
		t.Fatal("non-func server-side handler accepted")
	}
	// One server: there is nobody else to reach, and no error.
	if err := nsp.ServerSideEmit(ctx, "hello", "me"); err != nil {
		t.Fatal(err)
	}
	answers, err := nsp.ServerSideEmitWithAck(ctx, "hello", "me")
	if err != nil || len(answers) != 0 {
		t.Fatalf("ServerSideEmitWithAck: %v %v", answers, err)
	}
	select {
	case who := <-got:
		t.Fatalf("the sending server ran its own handler for %q", who)
	default:
	}
	// What another server's emit runs, as a cluster adapter delivers it.
	name, _ := json.Marshal("hello")
	who, _ := json.Marshal("other")
	acked := make(chan []any, 2)
	nsp.ReceiveServerSideEmit(adapter.Args{Values: []json.RawMessage{name, who}}, func(a []any) { acked <- a })
	if w := recvOn(t, got); w != "other" {
		t.Fatalf("handler got %q", w)
	}
	if a := recvOn(t, acked); len(a) != 1 || a[0] != "hi other" {
		t.Fatalf("ack %v", a)
	}
	// No handler, no name: nothing happens.
	nsp.ReceiveServerSideEmit(adapter.Args{}, nil)
	unknown, _ := json.Marshal("unknown")
	nsp.ReceiveServerSideEmit(adapter.Args{Values: []json.RawMessage{unknown}}, nil)
}
