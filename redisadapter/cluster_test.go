package redisadapter_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/internal/testredis"
	"github.com/sori-dev/sori/redisadapter"
)

// logBuffer collects a node's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// node is one Sori server of a test cluster, with the handlers the tests
// drive: sockets join the rooms of their "rooms" query parameter and keep
// their "name" in their data; "join", "leave" and "shout" (a broadcast from
// the socket to a room) act as they say.
type node struct {
	name string
	srv  *sori.Server
	ts   *httptest.Server
	rc   *redis.Client
	logs *logBuffer

	mu       sync.Mutex
	received []string // server-side events: "event:arg"
}

func newNode(t *testing.T, r *testredis.Server, name string, opts *redisadapter.Options) *node {
	t.Helper()
	n := &node{name: name, logs: &logBuffer{}}
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	n.rc = redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: 1, DialTimeout: time.Second})
	var o redisadapter.Options
	if opts != nil {
		o = *opts
	}
	o.Logger = log
	factory, err := redisadapter.New(n.rc, &o)
	if err != nil {
		t.Fatalf("%s: New: %v", name, err)
	}
	n.srv = sori.NewServer(&sori.Options{Adapter: factory, Logger: log, DisableServeClient: true})
	n.srv.OnConnection(func(s *sori.Socket) {
		q := s.Handshake().Query()
		s.Data().Set("name", q.Get("name"))
		if rooms := q.Get("rooms"); rooms != "" {
			s.Join(strings.Split(rooms, ",")...)
		}
		_ = s.On("join", func(room string, ack func(...any)) { s.Join(room); ack() })
		_ = s.On("leave", func(room string, ack func(...any)) { s.Leave(room); ack() })
		_ = s.On("shout", func(room, text string) { _ = s.To(room).Emit("shout", text) })
	})
	nsp := n.srv.Sockets()
	_ = nsp.OnServerSideEmit("hello", func(arg string) { n.record("hello:" + arg) })
	_ = nsp.OnServerSideEmit("ping", func(arg string, ack func(...any)) { ack("pong from " + name + arg) })
	_ = nsp.OnServerSideEmit("silent", func(arg string, ack func(...any)) {
		if name == "n3" {
			return // never answers
		}
		ack("answer from " + name)
	})
	n.ts = httptest.NewServer(n.srv)
	t.Cleanup(n.close)
	return n
}

func (n *node) close() {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_ = n.srv.Close(ctx)
	n.ts.CloseClientConnections()
	n.ts.Close()
	_ = n.rc.Close()
}

func (n *node) record(s string) {
	n.mu.Lock()
	n.received = append(n.received, s)
	n.mu.Unlock()
}

func (n *node) got() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.received)
}

func (n *node) adapter() *redisadapter.Adapter {
	return n.srv.Sockets().Adapter().(*redisadapter.Adapter)
}

// cluster starts count nodes on r and waits until each counts them all.
func cluster(t *testing.T, r *testredis.Server, count int, opts *redisadapter.Options) []*node {
	t.Helper()
	nodes := make([]*node, count)
	for i := range nodes {
		nodes[i] = newNode(t, r, "n"+string(rune('1'+i)), opts)
	}
	for _, n := range nodes {
		eventually(t, "every node subscribed", func() bool {
			c, err := n.srv.Sockets().Adapter().ServerCount(context.Background())
			return err == nil && c == count
		})
	}
	return nodes
}

// eventually polls cond until it holds, failing after waitLimit.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// sentinel emits an event from n to every socket of the cluster and checks
// that it is the next event each client gets: nothing else came before.
func sentinel(t *testing.T, n *node, clients ...*client) {
	t.Helper()
	if err := n.srv.Emit("sentinel"); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if ev := c.next(); ev.Name != "sentinel" {
			t.Fatalf("%s got %q %v, want nothing before the sentinel", c, ev.Name, ev.Args)
		}
	}
}

func TestBroadcastAcrossThreeNodes(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 3, nil)
	a := connect(t, nodes[0].ts, "a", "rooms=r1")
	b := connect(t, nodes[1].ts, "b", "rooms=r1,r2")
	c := connect(t, nodes[2].ts, "c", "rooms=r2")
	all := []*client{a, b, c}

	// Everyone, from each node.
	for _, n := range nodes {
		if err := n.srv.Emit("all", n.name); err != nil {
			t.Fatalf("%s: Emit: %v", n.name, err)
		}
		for _, cl := range all {
			if ev := cl.expect("all"); ev.Args[0] != n.name {
				t.Fatalf("%s: got %v", cl, ev.Args)
			}
		}
	}

	// One room (its own channel), from a node with no member.
	if err := nodes[2].srv.To("r1").Emit("r1", "x"); err != nil {
		t.Fatal(err)
	}
	a.expect("r1")
	b.expect("r1")
	sentinel(t, nodes[0], all...)

	// Several rooms, less one.
	if err := nodes[2].srv.To("r1", "r2").Except("r2").Emit("r1-not-r2"); err != nil {
		t.Fatal(err)
	}
	a.expect("r1-not-r2")
	sentinel(t, nodes[0], all...)

	// A socket's broadcast to its room, itself left out, crossing nodes.
	a.emit("shout", "r1", "hi from a")
	if ev := b.expect("shout"); ev.Args[0] != "hi from a" {
		t.Fatalf("b got %v", ev.Args)
	}
	sentinel(t, nodes[1], all...)

	// A room joined later, through a socket's event, from another node.
	c.call("join", "late")
	if err := nodes[0].srv.To("late").Emit("late"); err != nil {
		t.Fatal(err)
	}
	c.expect("late")
	sentinel(t, nodes[1], all...)

	// Local stays on its node.
	if err := nodes[1].srv.Sockets().Local().Emit("local"); err != nil {
		t.Fatal(err)
	}
	b.expect("local")
	sentinel(t, nodes[0], all...)

	// Volatile and uncompressed flags go through.
	if err := nodes[0].srv.Sockets().Volatile().Compress(false).Emit("flags"); err != nil {
		t.Fatal(err)
	}
	for _, cl := range all {
		cl.expect("flags")
	}

	// Binary, at the top and nested, with key order kept.
	payload := map[string]any{"k": []byte{4, 5}, "n": 1.5}
	if err := nodes[1].srv.Emit("bin", []byte{1, 2, 3}, payload); err != nil {
		t.Fatal(err)
	}
	for _, cl := range all {
		ev := cl.expect("bin")
		if b, _ := ev.Args[0].([]byte); !bytes.Equal(b, []byte{1, 2, 3}) {
			t.Fatalf("%s: binary arg %#v", cl, ev.Args[0])
		}
		m, _ := ev.Args[1].(map[string]any)
		if b, _ := m["k"].([]byte); !bytes.Equal(b, []byte{4, 5}) || m["n"] != 1.5 {
			t.Fatalf("%s: nested %#v", cl, ev.Args[1])
		}
	}
}

func TestBroadcastWithAcks(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 3, nil)
	a := connect(t, nodes[0].ts, "a", "rooms=r1")
	b := connect(t, nodes[1].ts, "b", "rooms=r1,r2")
	c := connect(t, nodes[2].ts, "c", "rooms=r2")
	for _, cl := range []*client{a, b, c} {
		name := cl.name
		// One argument: only the first crosses servers, as in the reference.
		cl.onAckRequest(func(ev event) []any {
			return []any{map[string]any{"answer": name + ":" + ev.Name, "bin": []byte(name)}}
		})
	}

	names := func(answers []sori.Args) []string {
		var out []string
		for _, ans := range answers {
			var v struct {
				Answer string
				Bin    []byte
			}
			if err := ans.Decode(&v); err != nil || string(v.Bin) != strings.Split(v.Answer, ":")[0] {
				t.Fatalf("answer %+v: %v", v, err)
			}
			out = append(out, v.Answer)
		}
		slices.Sort(out)
		return out
	}

	// Every client of the cluster, with a timeout and without.
	start := time.Now()
	got, err := nodes[0].srv.Sockets().Timeout(3*time.Second).EmitWithAck(ctxT(t), "q")
	if err != nil {
		t.Fatalf("EmitWithAck: %v", err)
	}
	if want := []string{"a:q", "b:q", "c:q"}; !slices.Equal(names(got), want) {
		t.Fatalf("answers %v, want %v", names(got), want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("EmitWithAck took %v: it should end with the last answer", d)
	}
	got, err = nodes[1].srv.To("r2").EmitWithAck(context.Background(), "q2")
	if err != nil || !slices.Equal(names(got), []string{"b:q2", "c:q2"}) {
		t.Fatalf("To(r2).EmitWithAck: %v %v", names(got), err)
	}
	for _, cl := range []*client{a, b, c} {
		cl.drain()
	}

	// A client that never answers: the timeout, with the answers that came.
	c.onAckRequest(nil)
	start = time.Now()
	got, err = nodes[0].srv.Sockets().Timeout(700*time.Millisecond).EmitWithAck(ctxT(t), "q3")
	if !errors.Is(err, sori.ErrAckTimeout) {
		t.Fatalf("err = %v, want ErrAckTimeout", err)
	}
	if !slices.Equal(names(got), []string{"a:q3", "b:q3"}) {
		t.Fatalf("answers %v", names(got))
	}
	if d := time.Since(start); d < 600*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timed out after %v", d)
	}
}

func TestFetchSocketsAndRemoteSockets(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 2, nil)
	a := connect(t, nodes[0].ts, "alice", "rooms=r")
	b := connect(t, nodes[1].ts, "bob", "rooms=r,bobs")

	socks, err := nodes[0].srv.Sockets().FetchSockets(ctxT(t))
	if err != nil {
		t.Fatalf("FetchSockets: %v", err)
	}
	if len(socks) != 2 {
		t.Fatalf("got %d sockets", len(socks))
	}
	var bob *sori.RemoteSocket
	for _, s := range socks {
		switch s.ID {
		case a.id:
			if !s.Local {
				t.Fatal("alice is local to n1")
			}
		case b.id:
			bob = s
		default:
			t.Fatalf("unknown socket %s", s.ID)
		}
	}
	if bob == nil || bob.Local {
		t.Fatalf("bob: %+v", bob)
	}
	if got := bob.Handshake.Query().Get("name"); got != "bob" {
		t.Fatalf("bob's handshake query name = %q", got)
	}
	if bob.Handshake.Time.IsZero() || bob.Handshake.Address == "" {
		t.Fatalf("bob's handshake %+v", bob.Handshake)
	}
	var data struct{ Name string }
	if err := bob.DataInto(&data); err != nil || data.Name != "bob" {
		t.Fatalf("bob's data %s: %v", bob.Data, err)
	}
	rooms := slices.Sorted(slices.Values(bob.Rooms))
	if want := slices.Sorted(slices.Values([]string{b.id, "r", "bobs"})); !slices.Equal(rooms, want) {
		t.Fatalf("bob's rooms %v, want %v", rooms, want)
	}

	// Rooms and except choose across nodes.
	socks, err = nodes[0].srv.In("r").Except("bobs").FetchSockets(ctxT(t))
	if err != nil || len(socks) != 1 || socks[0].ID != a.id {
		t.Fatalf("In(r).Except(bobs): %v %v", socks, err)
	}

	// What a remote socket does.
	if err := bob.Emit("hi", "there"); err != nil {
		t.Fatal(err)
	}
	if ev := b.expect("hi"); ev.Args[0] != "there" {
		t.Fatalf("bob got %v", ev.Args)
	}
	bobAd := nodes[1].adapter()
	if err := bob.Join(ctxT(t), "x", "y"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob in x and y", func() bool { return bobAd.RoomSize("x") == 1 && bobAd.RoomSize("y") == 1 })
	if err := bob.Leave(ctxT(t), "x"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob out of x", func() bool { return bobAd.RoomSize("x") == 0 && bobAd.RoomSize("y") == 1 })
	if err := bob.Disconnect(ctxT(t), false); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.waitFor("disconnect", waitLimit); !ok {
		t.Fatal("bob was not disconnected")
	}
	eventually(t, "bob gone", func() bool { return !bobAd.HasSocket(b.id) })
	a.drain()
	sentinel(t, nodes[1], a)
}

func TestSocketsJoinLeaveDisconnect(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 3, nil)
	a := connect(t, nodes[0].ts, "a", "rooms=r")
	b := connect(t, nodes[1].ts, "b", "rooms=r")
	c := connect(t, nodes[2].ts, "c")
	inRoom := func(room string, want int) func() bool {
		return func() bool {
			n := 0
			for _, nd := range nodes {
				n += nd.adapter().RoomSize(room)
			}
			return n == want
		}
	}

	if err := nodes[2].srv.In("r").SocketsJoin(ctxT(t), "joined"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a and b in joined", inRoom("joined", 2))
	if nodes[0].adapter().RoomSize("joined") != 1 || nodes[1].adapter().RoomSize("joined") != 1 {
		t.Fatal("the wrong sockets joined")
	}
	if err := nodes[0].srv.Sockets().SocketsJoin(ctxT(t), "everyone"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all in everyone", inRoom("everyone", 3))
	if err := nodes[1].srv.Sockets().Except("r").SocketsLeave(ctxT(t), "everyone"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c out of everyone", inRoom("everyone", 2))
	if nodes[2].adapter().RoomSize("everyone") != 0 {
		t.Fatal("c is still in everyone")
	}
	rooms, err := nodes[2].srv.Sockets().Adapter().AllRooms(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"r", "joined", "everyone", a.id, b.id, c.id} {
		if !slices.Contains(rooms, want) {
			t.Fatalf("AllRooms %v lacks %q", rooms, want)
		}
	}

	if err := nodes[2].srv.In("joined").DisconnectSockets(ctxT(t), true); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*client{a, b} {
		if _, ok := cl.waitFor("disconnect", waitLimit); !ok {
			t.Fatalf("%s not disconnected", cl)
		}
		select {
		case <-cl.done:
		case <-time.After(waitLimit):
			t.Fatalf("%s: connection not closed", cl)
		}
	}
	eventually(t, "a and b gone", inRoom("r", 0))
	sentinel(t, nodes[0], c)
}

func TestServerSideEmit(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 3, &redisadapter.Options{RequestsTimeout: time.Second})
	n1 := nodes[0].srv.Sockets()

	if err := n1.ServerSideEmit(ctxT(t), "hello", "world"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		eventually(t, n.name+" got hello", func() bool { return slices.Equal(n.got(), []string{"hello:world"}) })
	}
	if len(nodes[0].got()) != 0 {
		t.Fatal("the sender got its own event")
	}

	answers, err := n1.ServerSideEmitWithAck(ctxT(t), "ping", "!")
	if err != nil {
		t.Fatalf("ServerSideEmitWithAck: %v", err)
	}
	var got []string
	for _, a := range answers {
		var s string
		if err := a.Decode(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	slices.Sort(got)
	if want := []string{"pong from n2!", "pong from n3!"}; !slices.Equal(got, want) {
		t.Fatalf("answers %v, want %v", got, want)
	}

	// n3 never answers: a timeout error after RequestsTimeout, with n2's.
	start := time.Now()
	answers, err = n1.ServerSideEmitWithAck(context.Background(), "silent", "")
	var te *redisadapter.TimeoutError
	if !errors.Is(err, redisadapter.ErrTimeout) || !errors.As(err, &te) || te.Got != 1 || te.Want != 2 {
		t.Fatalf("err = %v, want a timeout with 1 of 2", err)
	}
	if len(answers) != 1 {
		t.Fatalf("answers %v", answers)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timed out after %v", d)
	}
}

func TestAllRoomsAndServerCount(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 2, nil)
	connect(t, nodes[0].ts, "a", "rooms=ra")
	connect(t, nodes[1].ts, "b", "rooms=rb,shared")
	connect(t, nodes[1].ts, "c", "rooms=shared")
	for _, n := range nodes {
		rooms, err := n.srv.Sockets().Adapter().AllRooms(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"ra", "rb", "shared"} {
			if !slices.Contains(rooms, want) {
				t.Fatalf("%s: AllRooms %v lacks %s", n.name, rooms, want)
			}
		}
		if len(rooms) != 6 {
			t.Fatalf("%s: AllRooms %v", n.name, rooms)
		}
	}
	// Another namespace is a cluster of its own.
	other := nodes[0].srv.Of("/other").Adapter()
	eventually(t, "/other counts one server", func() bool {
		n, err := other.ServerCount(ctxT(t))
		return err == nil && n == 1
	})
	nodes[1].srv.Of("/other")
	eventually(t, "/other counts two servers", func() bool {
		n, err := other.ServerCount(ctxT(t))
		return err == nil && n == 2
	})
}

func TestRedisLostAndBack(t *testing.T) {
	r := testredis.Start(t)
	nodes := cluster(t, r, 2, &redisadapter.Options{RequestsTimeout: time.Second})
	a := connect(t, nodes[0].ts, "a", "rooms=room")
	a2 := connect(t, nodes[0].ts, "a2", "rooms=room")
	b := connect(t, nodes[1].ts, "b", "rooms=room")
	if err := nodes[0].srv.To("room").Emit("before"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*client{a, a2, b} {
		c.expect("before")
	}

	r.Stop()
	// The loss is seen, and logged once.
	eventually(t, "the loss logged", func() bool { return strings.Contains(nodes[0].logs.String(), "lost the connection") })

	// Local delivery goes on: broadcasts, and a socket's own broadcast.
	err := nodes[0].srv.To("room").Emit("while-down")
	if !errors.Is(err, redisadapter.ErrUnavailable) {
		t.Fatalf("Emit while down: %v, want ErrUnavailable", err)
	}
	a.expect("while-down")
	a2.expect("while-down")
	a.emit("shout", "room", "local shout")
	if ev := a2.expect("shout"); ev.Args[0] != "local shout" {
		t.Fatalf("a2 got %v", ev.Args)
	}

	// Requests fail at once with a timeout error; nothing hangs.
	start := time.Now()
	socks, err := nodes[0].srv.Sockets().FetchSockets(context.Background())
	if !errors.Is(err, redisadapter.ErrTimeout) || !errors.Is(err, redisadapter.ErrUnavailable) {
		t.Fatalf("FetchSockets while down: %v", err)
	}
	if len(socks) != 2 {
		t.Fatalf("FetchSockets while down gave %d local sockets", len(socks))
	}
	if _, err := nodes[0].srv.Sockets().ServerSideEmitWithAck(context.Background(), "ping", ""); !errors.Is(err, redisadapter.ErrTimeout) {
		t.Fatalf("ServerSideEmitWithAck while down: %v", err)
	}
	if _, err := nodes[0].srv.Sockets().Adapter().AllRooms(context.Background()); !errors.Is(err, redisadapter.ErrTimeout) {
		t.Fatalf("AllRooms while down: %v", err)
	}
	if err := nodes[0].srv.Sockets().SocketsJoin(context.Background(), "x"); !errors.Is(err, redisadapter.ErrTimeout) {
		t.Fatalf("SocketsJoin while down: %v", err)
	}
	if _, err := nodes[0].srv.Sockets().Timeout(time.Second).EmitWithAck(context.Background(), "q"); !errors.Is(err, redisadapter.ErrTimeout) {
		t.Fatalf("EmitWithAck while down: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("requests while down took %v", d)
	}
	time.Sleep(500 * time.Millisecond) // a few reconnection attempts
	for _, c := range []*client{a, a2} {
		c.drain()
	}

	r.Restart()
	// Cross-node broadcasts come back in both directions.
	for _, dir := range []struct {
		from *node
		to   *client
	}{{nodes[0], b}, {nodes[1], a}} {
		eventually(t, "broadcasts across again", func() bool {
			_ = dir.from.srv.To("room").Emit("after")
			_, ok := dir.to.waitFor("after", 200*time.Millisecond)
			return ok
		})
	}
	eventually(t, "the recovery logged", func() bool { return strings.Contains(nodes[0].logs.String(), "restored") })
	if n := strings.Count(nodes[0].logs.String(), "lost the connection"); n != 1 {
		t.Fatalf("the loss was logged %d times:\n%s", n, nodes[0].logs)
	}
	socks, err = nodes[1].srv.Sockets().FetchSockets(ctxT(t))
	if err != nil || len(socks) != 3 {
		t.Fatalf("FetchSockets after: %d %v", len(socks), err)
	}
}

func TestNewFailsWhenRedisIsUnreachable(t *testing.T) {
	r := testredis.Start(t)
	addr := r.Addr
	r.Stop()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	start := time.Now()
	_, err := redisadapter.New(rc, &redisadapter.Options{StartTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "unreachable") || !strings.Contains(err.Error(), addr) {
		t.Fatalf("New: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("New took %v", d)
	}
}
