package engineio_test

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/engineio/parser"
)

func TestHeartbeatWebSocket(t *testing.T) {
	const interval = 100 * time.Millisecond
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: 400 * time.Millisecond})
	opened := time.Now()
	c := h.dialWS()
	rec := h.rec(c.sid)
	last := opened
	for i := range 5 {
		if got := c.readText(); got != "2" {
			t.Fatalf("ping %d: got %q", i, got)
		}
		if gap := time.Since(last); gap < interval*9/10 {
			t.Fatalf("ping %d came %v after the last, before the interval %v", i, gap, interval)
		}
		last = time.Now()
		c.sendText("3")
	}
	if rec.isClosed() {
		t.Fatal("session closed though every ping was answered")
	}
	c.roundTrip("alive")
}

func TestPingTimeoutWebSocket(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 100 * time.Millisecond
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: timeout})
	start := time.Now()
	c := h.dialWS()
	rec := h.rec(c.sid)
	if got := c.readText(); got != "2" {
		t.Fatalf("got %q, want a ping", got)
	}
	// No pong.
	if e := rec.waitClose(t); e.reason != engineio.ReasonPingTimeout {
		t.Fatalf("closed with %q, want ping timeout", e.reason)
	}
	if elapsed := time.Since(start); elapsed < (interval+timeout)*9/10 {
		t.Fatalf("closed after %v, before interval+timeout", elapsed)
	}
	_ = c.waitClosed()
	if h.srv.Session(c.sid) != nil || h.srv.Len() != 0 {
		t.Fatal("closed session still registered")
	}
}

func TestHeartbeatPolling(t *testing.T) {
	const interval = 100 * time.Millisecond
	h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: 400 * time.Millisecond})
	sid := h.openPolling()
	rec := h.rec(sid)
	for i := range 4 {
		start := time.Now()
		ps := h.poll(sid)
		if len(ps) != 1 || ps[0].Type != parser.Ping {
			t.Fatalf("round %d: got %q, want a ping", i, payloadString(ps))
		}
		if i > 0 && time.Since(start) < interval/2 {
			t.Fatalf("round %d: ping came after %v", i, time.Since(start))
		}
		h.post(sid, "3")
	}
	if rec.isClosed() {
		t.Fatal("session closed though every ping was answered")
	}
	h.pollRoundTrip(sid, "alive")
}

func TestPingTimeoutPolling(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: 50 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	sid := h.openPolling()
	rec := h.rec(sid)
	if ps := h.poll(sid); len(ps) != 1 || ps[0].Type != parser.Ping {
		t.Fatalf("got %q, want a ping", payloadString(ps))
	}
	// Poll again without answering: the waiting GET gets the close packet.
	r := h.mustDo("GET", h.pollURL(sid), "", nil)
	if r.status != 200 || r.body != "1" {
		t.Fatalf("GET %d %q, want 200 \"1\"", r.status, r.body)
	}
	if e := rec.waitClose(t); e.reason != engineio.ReasonPingTimeout {
		t.Fatalf("closed with %q, want ping timeout", e.reason)
	}
	checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")
}

func TestClientCloseWebSocket(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("close frame", func(t *testing.T) {
		c := h.dialWS()
		rec := h.rec(c.sid)
		must(t, c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)))
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose {
			t.Fatalf("closed with %q, want transport close", e.reason)
		}
	})
	t.Run("close packet", func(t *testing.T) {
		c := h.dialWS()
		rec := h.rec(c.sid)
		c.sendText("1")
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose {
			t.Fatalf("closed with %q, want transport close", e.reason)
		}
		_ = c.waitClosed()
	})
	t.Run("TCP reset", func(t *testing.T) {
		c := h.dialWS()
		rec := h.rec(c.sid)
		must(t, c.conn.NetConn().(*net.TCPConn).SetLinger(0))
		c.conn.NetConn().Close()
		if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose && e.reason != engineio.ReasonTransportError {
			t.Fatalf("closed with %q", e.reason)
		}
	})
	eventually(t, "no session left", func() bool { return h.srv.Len() == 0 })
}

func TestClientClosePolling(t *testing.T) {
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	pending := h.pollAsync(sid)
	eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
	h.post(sid, "1")
	select {
	case r := <-pending:
		if r.status != 200 || r.body != "6" {
			t.Fatalf("pending GET: %d %q, want 200 \"6\" as the reference", r.status, r.body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("pending GET not released")
	}
	if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose {
		t.Fatalf("closed with %q, want transport close", e.reason)
	}
	checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")

	// A GET sent just before the close packet, arriving after it, gets the
	// noop it would have had; only one does.
	sid = h.openPolling()
	rec = h.rec(sid)
	h.post(sid, "1")
	rec.waitClose(t)
	if r := h.mustDo("GET", h.pollURL(sid), "", nil); r.status != 200 || r.body != "6" {
		t.Fatalf("GET in flight: %d %q, want 200 \"6\"", r.status, r.body)
	}
	checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")
	checkError(t, h.mustDo("POST", h.pollURL(sid), "4x", nil), 400, 1, "Session ID unknown")

	// Messages before the close packet in one payload are delivered.
	sid = h.openPolling()
	rec = h.rec(sid)
	h.post(sid, "4last words\x1e1")
	if m := rec.waitMessage(t); m.data != "last words" {
		t.Fatalf("message %+v", m)
	}
	if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose {
		t.Fatalf("closed with %q, want transport close", e.reason)
	}
}

func TestPollAbortedClosesSession(t *testing.T) {
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	must(t, err)
	_, err = conn.Write([]byte("GET " + strings.TrimPrefix(h.pollURL(sid), h.ts.URL) + " HTTP/1.1\r\nHost: x\r\n\r\n"))
	must(t, err)
	eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
	must(t, conn.(*net.TCPConn).SetLinger(0))
	conn.Close()
	if e := rec.waitClose(t); e.reason != engineio.ReasonTransportError {
		t.Fatalf("closed with %q, want transport error", e.reason)
	}
}

func TestServerCloseWebSocket(t *testing.T) {
	h := newHarness(t, &engineio.Options{PingInterval: time.Minute, PingTimeout: time.Minute, MaxQueuedBytes: 64 << 20})
	c := h.dialWS()
	rec := h.rec(c.sid)
	big := strings.Repeat("x", 1<<20)
	for i := range 8 {
		must(t, rec.s.Send(engineio.NewMessage([]byte(big[:i+1]), false)))
	}
	rec.s.Close()
	if err := rec.s.Send(engineio.NewMessage([]byte("late"), false)); !errors.Is(err, engineio.ErrSessionClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
	rec.s.Close() // twice is harmless
	for i := range 8 {
		if got := c.readText(); got != "4"+big[:i+1] {
			t.Fatalf("message %d: %d bytes", i, len(got))
		}
	}
	if err := c.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("connection ended with %v, want a normal close frame", err)
	}
	if e := rec.waitClose(t); e.reason != engineio.ReasonForcedClose || e.err != nil {
		t.Fatalf("closed with %q %v, want forced close", e.reason, e.err)
	}
	select {
	case <-rec.s.Done():
	case <-time.After(waitTimeout):
		t.Fatal("Done not closed")
	}
}

func TestServerClosePolling(t *testing.T) {
	h := newHarness(t, nil)
	t.Run("next poll", func(t *testing.T) {
		sid := h.openPolling()
		rec := h.rec(sid)
		must(t, rec.s.Send(engineio.NewMessage([]byte("a"), false)))
		must(t, rec.s.Send(engineio.NewMessage([]byte{7}, true)))
		rec.s.Close()
		if err := rec.s.Send(engineio.NewMessage([]byte("late"), false)); !errors.Is(err, engineio.ErrSessionClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
		// What was queued first, then the close packet on a poll of its
		// own (a client acts on close before the packets beside it).
		r := h.mustDo("GET", h.pollURL(sid), "", nil)
		if r.status != 200 || r.body != "4a\x1ebBw==" {
			t.Fatalf("GET %d %q", r.status, r.body)
		}
		if r := h.mustDo("GET", h.pollURL(sid), "", nil); r.status != 200 || r.body != "1" {
			t.Fatalf("second GET %d %q", r.status, r.body)
		}
		if e := rec.waitClose(t); e.reason != engineio.ReasonForcedClose {
			t.Fatalf("closed with %q", e.reason)
		}
		checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 1, "Session ID unknown")
	})
	t.Run("pending poll", func(t *testing.T) {
		sid := h.openPolling()
		rec := h.rec(sid)
		pending := h.pollAsync(sid)
		eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })
		must(t, rec.s.SendBatch([]*engineio.Message{engineio.NewMessage([]byte("x"), false), engineio.NewMessage([]byte("y"), false)}))
		rec.s.Close()
		select {
		case r := <-pending:
			if r.body != "4x\x1e4y" {
				t.Fatalf("pending GET %d %q", r.status, r.body)
			}
			if r := h.mustDo("GET", h.pollURL(sid), "", nil); r.body != "1" {
				t.Fatalf("next GET %q", r.body)
			}
		case <-time.After(waitTimeout):
			t.Fatal("pending GET not released")
		}
		if e := rec.waitClose(t); e.reason != engineio.ReasonForcedClose {
			t.Fatalf("closed with %q", e.reason)
		}
	})
	t.Run("client never polls", func(t *testing.T) {
		const interval, timeout = 60 * time.Millisecond, 60 * time.Millisecond
		h := newHarness(t, &engineio.Options{PingInterval: interval, PingTimeout: timeout})
		sid := h.openPolling()
		rec := h.rec(sid)
		start := time.Now()
		rec.s.Close()
		// The heartbeat, which started earlier and gets no pong, may be
		// the first to end it, as in the reference.
		if e := rec.waitClose(t); e.reason != engineio.ReasonForcedClose && e.reason != engineio.ReasonPingTimeout {
			t.Fatalf("closed with %q", e.reason)
		}
		if elapsed := time.Since(start); elapsed < (interval+timeout)*9/10 {
			t.Fatalf("closed after %v, before the client had a chance to poll", elapsed)
		}
	})
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	must(t, rec.s.Send(engineio.NewMessage([]byte("before"), false)))
	if ps := h.poll(sid); payloadString(ps) != "4before" {
		t.Fatalf("poll %q", payloadString(ps))
	}
	pending := h.pollAsync(sid)
	eventually(t, "the GET to wait", func() bool { return engineio.PollWaiting(rec.s) })

	c := h.dialUpgrade(sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	select {
	case r := <-pending:
		if r.status != 200 || r.body != "6" {
			t.Fatalf("pending GET %d %q, want 200 \"6\"", r.status, r.body)
		}
	case <-time.After(waitTimeout):
		t.Fatal("pending GET not released by the probe")
	}
	// While probed, polls get a noop (after 100ms at most).
	if r := h.mustDo("GET", h.pollURL(sid), "", nil); r.body != "6" {
		t.Fatalf("poll while probed: %q", r.body)
	}
	if tr := rec.s.Transport(); tr != "polling" {
		t.Fatalf("transport %q before the upgrade packet", tr)
	}
	// Queued while probed, delivered on the WebSocket once upgraded.
	must(t, rec.s.Send(engineio.NewMessage([]byte("during"), false)))
	c.sendText("5")
	if got := c.readText(); got != "4during" {
		t.Fatalf("first frame after upgrade %q", got)
	}
	eventually(t, "the transport to change", func() bool { return rec.s.Transport() == "websocket" })
	c.roundTrip("on websocket")
	c.sendBinary([]byte{9, 8})
	if typ, data := c.readSkipPing(); typ != websocket.BinaryMessage || string(data) != "\x09\x08" {
		t.Fatalf("binary echo %d %x", typ, data)
	}
	// Polling requests for the session are refused now.
	checkError(t, h.mustDo("GET", h.pollURL(sid), "", nil), 400, 3, "Bad request")
	checkError(t, h.mustDo("POST", h.pollURL(sid), "4x", nil), 400, 3, "Bad request")
	c.roundTrip("still fine")
	if rec.s.Handshake().Transport != "polling" {
		t.Fatal("the handshake changed")
	}
}

func TestUpgradeWithPendingPollAndClose(t *testing.T) {
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	c := h.dialUpgrade(sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	// The server closes the session between probe and upgrade: the close
	// goes out on the new transport, after what was queued.
	must(t, rec.s.Send(engineio.NewMessage([]byte("bye"), false)))
	rec.s.Close()
	c.sendText("5")
	if got := c.readText(); got != "4bye" {
		t.Fatalf("got %q", got)
	}
	if err := c.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("ended with %v", err)
	}
	if e := rec.waitClose(t); e.reason != engineio.ReasonForcedClose {
		t.Fatalf("closed with %q", e.reason)
	}
}

func TestUpgradeClientClosesPollingSession(t *testing.T) {
	// The session closes while a probe is open: the probe goes with it.
	h := newHarness(t, nil)
	sid := h.openPolling()
	rec := h.rec(sid)
	c := h.dialUpgrade(sid)
	c.sendText("2probe")
	if got := c.readText(); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	h.post(sid, "1")
	if e := rec.waitClose(t); e.reason != engineio.ReasonTransportClose {
		t.Fatalf("closed with %q", e.reason)
	}
	_ = c.waitClosed()
}

func TestReceiverOrder(t *testing.T) {
	// Many messages on one session arrive in order, with no overlapping
	// OnMessage (the recorder checks), on both transports.
	h := newHarness(t, &engineio.Options{PingInterval: time.Minute, PingTimeout: time.Minute})
	c := h.dialWS()
	rec := h.rec(c.sid)
	const n = 500
	go func() {
		for i := range n {
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte("4"+strconv.Itoa(i))); err != nil {
				return
			}
		}
	}()
	for i := range n {
		if m := rec.waitMessage(t); m.data != strconv.Itoa(i) {
			t.Fatalf("message %d is %q", i, m.data)
		}
	}
	for i := range n {
		if got := c.readText(); got != "4"+strconv.Itoa(i) {
			t.Fatalf("echo %d is %q", i, got)
		}
	}

	sid := h.openPolling()
	prec := h.rec(sid)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(parser.Separator)
		}
		b.WriteString("4" + strconv.Itoa(i))
	}
	h.post(sid, b.String())
	for i := range n {
		if m := prec.waitMessage(t); m.data != strconv.Itoa(i) {
			t.Fatalf("polling message %d is %q", i, m.data)
		}
	}
	var got []parser.Packet
	for len(got) < n {
		got = append(got, h.poll(sid)...)
	}
	for i, p := range got {
		if string(p.Data) != strconv.Itoa(i) {
			t.Fatalf("polling echo %d is %q", i, p.Data)
		}
	}
}

// TestSendInOnConnection: what the layer above sends while it accepts a
// session comes after the open packet, on either transport.
func TestSendInOnConnection(t *testing.T) {
	h := newHarnessConfig(t, harnessConfig{opts: quietOptions(), onConnect: func(s *engineio.Session) {
		_ = s.Send(engineio.NewMessage([]byte("welcome"), false))
	}})
	conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
	must(t, err)
	h.track(conn)
	c := &wsClient{t: t, conn: conn}
	first := c.readText()
	c.sid = parseOpen(t, first).SID
	if got := c.readText(); got != "4welcome" {
		t.Fatalf("second frame %q", got)
	}
	c.roundTrip("then echo")

	r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
	ps := decodePayload(t, r.body)
	if len(ps) != 2 || ps[0].Type != parser.Open || string(ps[1].Data) != "welcome" {
		t.Fatalf("handshake payload %q", r.body)
	}
}

// TestCloseInOnConnection: a session refused by the layer above, which
// closes it as it accepts it, gets its open and close packets and ends at
// once.
func TestCloseInOnConnection(t *testing.T) {
	h := newHarnessConfig(t, harnessConfig{opts: quietOptions(), onConnect: func(s *engineio.Session) {
		_ = s.Send(engineio.NewMessage([]byte("go away"), false))
		s.Close()
	}})
	conn, _, err := wsDialer.Dial(h.wsURL("EIO", "4", "transport", "websocket"), nil)
	must(t, err)
	h.track(conn)
	c := &wsClient{t: t, conn: conn}
	c.sid = parseOpen(t, c.readText()).SID
	if got := c.readText(); got != "4go away" {
		t.Fatalf("got %q", got)
	}
	if err := c.waitClosed(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("ended with %v", err)
	}
	if e := h.rec(c.sid).waitClose(t); e.reason != engineio.ReasonForcedClose {
		t.Fatalf("closed with %q", e.reason)
	}

	r := h.mustDo("GET", h.query("EIO", "4", "transport", "polling"), "", nil)
	ps := decodePayload(t, r.body)
	if len(ps) != 2 || ps[0].Type != parser.Open || string(ps[1].Data) != "go away" {
		t.Fatalf("handshake payload %q", r.body)
	}
	sid := parseOpen(t, "0"+string(ps[0].Data)).SID
	if r := h.mustDo("GET", h.pollURL(sid), "", nil); r.body != "1" {
		t.Fatalf("poll after the handshake %q", r.body)
	}
	if e := h.rec(sid).waitClose(t); e.reason != engineio.ReasonForcedClose {
		t.Fatalf("closed with %q", e.reason)
	}
}
