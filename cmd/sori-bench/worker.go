package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A worker is a load generator process: it holds connections and runs
// the load the coordinator asks for, one request at a time, as JSON lines
// on stdin and stdout.

// request is one order from the coordinator.
type request struct {
	Op       string        `json:"op"`
	Addr     string        `json:"addr,omitempty"`
	N        int           `json:"n,omitempty"`
	Conc     int           `json:"conc,omitempty"`
	Src      []string      `json:"src,omitempty"`
	Room     string        `json:"room,omitempty"`
	From     int           `json:"from,omitempty"`
	To       int           `json:"to,omitempty"`
	Sender   int           `json:"sender,omitempty"`
	Members  int           `json:"members,omitempty"`
	Window   int           `json:"window,omitempty"`
	Rate     float64       `json:"rate,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
	Warmup   time.Duration `json:"warmup,omitempty"`
	Hold     time.Duration `json:"hold,omitempty"`
	MsgSize  int           `json:"msg_size,omitempty"`
}

// response is a worker's answer.
type response struct {
	Err      string        `json:"err,omitempty"`
	OK       int64         `json:"ok,omitempty"`
	Failed   int64         `json:"failed,omitempty"`
	FirstErr string        `json:"first_err,omitempty"`
	Sent     int64         `json:"sent,omitempty"`
	Count    int64         `json:"count,omitempty"`
	Elapsed  time.Duration `json:"elapsed,omitempty"`
	Hist     snapshot      `json:"hist,omitempty"`
	Live     int64         `json:"live,omitempty"`
}

// fanPhase is a fan-out measurement under way.
type fanPhase struct {
	id         int64
	hist       hist
	recordFrom int64
	delivered  atomic.Int64
	windowed   bool
	remaining  []atomic.Int32 // deliveries still expected, by seq % len
	done       chan int64     // seqs fully delivered (windowed)
}

// ackPhase is an acknowledgement measurement under way.
type ackPhase struct {
	hist       hist
	recordFrom int64
	acked      atomic.Int64
}

type workerState struct {
	epoch time.Time

	mu    sync.Mutex
	conns []*wconn

	readers sync.WaitGroup
	live    atomic.Int64

	fan      atomic.Pointer[fanPhase]
	fanIDs   atomic.Int64
	ack      atomic.Pointer[ackPhase]
	joinLeft atomic.Int64
	joinDone atomic.Pointer[chan struct{}]
}

// now is the time since the worker's epoch, monotonic.
func (ws *workerState) now() int64 { return int64(time.Since(ws.epoch)) }

func (ws *workerState) at(t time.Time) int64 { return int64(t.Sub(ws.epoch)) }

func worker(in io.Reader, out io.Writer) error {
	ws := &workerState{epoch: time.Now()}
	dec := json.NewDecoder(in)
	enc := json.NewEncoder(out)
	for {
		var req request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				ws.closeAll()
				return nil
			}
			return err
		}
		resp := ws.handle(req)
		if err := enc.Encode(resp); err != nil {
			return err
		}
		if req.Op == "exit" {
			return nil
		}
	}
}

func (ws *workerState) handle(req request) (resp response) {
	defer func() {
		if p := recover(); p != nil {
			resp = response{Err: fmt.Sprint("panic: ", p)}
		}
	}()
	switch req.Op {
	case "connect":
		return ws.connect(req)
	case "join":
		return ws.join(req)
	case "fanout":
		return ws.fanout(req)
	case "ack":
		return ws.acks(req)
	case "churn":
		return ws.churn(req)
	case "close", "exit":
		ws.closeAll()
		return response{}
	case "live":
		return response{Live: ws.live.Load()}
	}
	return response{Err: "unknown op " + req.Op}
}

func sources(src []string) []net.IP {
	var ips []net.IP
	for _, s := range src {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		}
	}
	if len(ips) == 0 {
		ips = []net.IP{nil}
	}
	return ips
}

// connect opens N connections, Conc at a time, each a full Socket.IO
// connection (WebSocket, open packet, CONNECT and its answer); Hist is
// the time each took.
func (ws *workerState) connect(req request) response {
	var h hist
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	src := sources(req.Src)
	jobs := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range max(1, req.Conc) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				t0 := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				w, err := dialWire(ctx, src[i%len(src)], req.Addr)
				cancel()
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				h.record(int64(time.Since(t0)))
				ok.Add(1)
				ws.mu.Lock()
				ws.conns = append(ws.conns, w)
				ws.mu.Unlock()
				ws.readers.Add(1)
				ws.live.Add(1)
				go ws.read(w)
			}
		}()
	}
	for i := range req.N {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	resp := response{OK: ok.Load(), Failed: failed.Load(), Elapsed: time.Since(start), Hist: h.snapshot(), Live: ws.live.Load()}
	if e, _ := firstErr.Load().(string); e != "" {
		resp.FirstErr = e
	}
	return resp
}

// read handles what the server sends on w until it closes.
func (ws *workerState) read(w *wconn) {
	defer ws.readers.Done()
	defer ws.live.Add(-1)
	for {
		p, err := w.readMessage()
		if err != nil {
			w.close()
			return
		}
		if len(p) == 0 {
			continue
		}
		switch p[0] {
		case '2': // Engine.IO ping
			if w.writeText([]byte("3")) != nil {
				w.close()
				return
			}
		case '4':
			if len(p) < 2 {
				continue
			}
			switch p[1] {
			case '2':
				ws.onEvent(p[2:])
			case '3':
				ws.onAck(w, p[2:])
			}
		case '1':
			w.close()
			return
		}
	}
}

var newMessagePrefix = []byte(`["new_message","`)

// onEvent takes new_message("<phase>:<seq>:<sent at>:padding").
func (ws *workerState) onEvent(p []byte) {
	now := ws.now()
	rest, ok := bytes.CutPrefix(p, newMessagePrefix)
	if !ok {
		return
	}
	fields := bytes.SplitN(rest, []byte(":"), 4)
	if len(fields) < 4 {
		return
	}
	phase, _ := strconv.ParseInt(string(fields[0]), 10, 64)
	seq, _ := strconv.ParseInt(string(fields[1]), 10, 64)
	at, _ := strconv.ParseInt(string(fields[2]), 10, 64)
	f := ws.fan.Load()
	if f == nil || f.id != phase {
		return
	}
	if at >= f.recordFrom {
		f.hist.record(now - at)
	}
	f.delivered.Add(1)
	if f.windowed {
		if f.remaining[seq%int64(len(f.remaining))].Add(-1) == 0 {
			f.done <- seq
		}
	}
}

// onAck takes <id>[...].
func (ws *workerState) onAck(w *wconn, p []byte) {
	now := ws.now()
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	id, err := strconv.ParseUint(string(p[:i]), 10, 64)
	if err != nil {
		return
	}
	pa, ok := w.takeAck(id)
	if !ok {
		return
	}
	switch pa.kind {
	case ackJoin:
		if ws.joinLeft.Add(-1) == 0 {
			if ch := ws.joinDone.Load(); ch != nil {
				close(*ch)
			}
		}
	case ackRTT:
		if a := ws.ack.Load(); a != nil {
			if pa.at >= a.recordFrom {
				a.hist.record(now - pa.at)
			}
			a.acked.Add(1)
		}
	}
}

func (ws *workerState) conn(i int) *wconn {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if i < 0 || i >= len(ws.conns) {
		return nil
	}
	return ws.conns[i]
}

func (ws *workerState) connRange(from, to int) []*wconn {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	to = min(to, len(ws.conns))
	if from >= to {
		return nil
	}
	return append([]*wconn(nil), ws.conns[from:to]...)
}

// join makes connections [From, To) enter Room, and waits for every ack.
func (ws *workerState) join(req request) response {
	cs := ws.connRange(req.From, req.To)
	if len(cs) == 0 {
		return response{Err: "no connections to join"}
	}
	done := make(chan struct{})
	ws.joinDone.Store(&done)
	ws.joinLeft.Store(int64(len(cs)))
	start := time.Now()
	room := strconv.Quote(req.Room)
	for _, w := range cs {
		if err := w.emit("enter_room", []string{room}, true, ackJoin, 0); err != nil {
			return response{Err: "join: " + err.Error()}
		}
	}
	select {
	case <-done:
		return response{OK: int64(len(cs)), Elapsed: time.Since(start)}
	case <-time.After(60 * time.Second):
		return response{Err: fmt.Sprintf("join: %d acks missing", ws.joinLeft.Load())}
	}
}

// message is a new_message text of about size bytes.
func message(phase, seq, at int64, size int) string {
	head := fmt.Sprintf("%d:%d:%d:", phase, seq, at)
	if n := size - len(head); n > 0 {
		return strconv.Quote(head + strings.Repeat("x", n))
	}
	return strconv.Quote(head + "x")
}

// fanout sends new_message(msg, Room) from connection Sender, Members
// receiving each: with a Window, as fast as the deliveries of the message
// Window back are complete; else at Rate messages a second. It runs for
// Duration, then waits for the deliveries still on the way.
func (ws *workerState) fanout(req request) response {
	sender := ws.conn(req.Sender)
	if sender == nil || req.Members <= 0 {
		return response{Err: "fanout: no sender or no members"}
	}
	f := &fanPhase{id: ws.fanIDs.Add(1), windowed: req.Window > 0}
	if f.windowed {
		f.remaining = make([]atomic.Int32, 4096)
		f.done = make(chan int64, len(f.remaining))
	}
	start := time.Now()
	f.recordFrom = ws.at(start.Add(req.Warmup))
	ws.fan.Store(f)
	defer ws.fan.Store(nil)
	room := strconv.Quote(req.Room)
	var sent int64
	var lost error
	if f.windowed {
		window := min(req.Window, len(f.remaining)/2)
		inflight := 0
		for time.Since(start) < req.Duration && lost == nil {
			if inflight >= window {
				select {
				case <-f.done:
					inflight--
				case <-time.After(5 * time.Second):
					lost = errors.New("deliveries stopped coming")
					continue
				}
			}
			f.remaining[sent%int64(len(f.remaining))].Store(int32(req.Members))
			if err := sender.emit("new_message", []string{message(f.id, sent, ws.now(), req.MsgSize), room}, true, ackIgnore, 0); err != nil {
				return response{Err: "fanout send: " + err.Error()}
			}
			sent++
			inflight++
		}
		for inflight > 0 && lost == nil {
			select {
			case <-f.done:
				inflight--
			case <-time.After(5 * time.Second):
				lost = errors.New("deliveries stopped coming")
			}
		}
	} else {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		interval := time.Duration(float64(time.Second) / req.Rate)
		for i := int64(0); ; i++ {
			due := start.Add(time.Duration(i) * interval)
			if due.Sub(start) >= req.Duration {
				break
			}
			sleepUntil(due)
			if err := sender.emit("new_message", []string{message(f.id, i, ws.now(), req.MsgSize), room}, true, ackIgnore, 0); err != nil {
				return response{Err: "fanout send: " + err.Error()}
			}
			sent++
		}
		want := sent * int64(req.Members)
		deadline := time.Now().Add(5 * time.Second)
		for f.delivered.Load() < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	resp := response{Sent: sent, Count: f.delivered.Load(), Elapsed: time.Since(start), Hist: f.hist.snapshot(), Live: ws.live.Load()}
	if lost != nil {
		resp.FirstErr = lost.Error()
	}
	return resp
}

// acks sends new_message(msg, "void", ack) from connections [From, To)
// in turn, open loop at Rate a second for Warmup+Duration; Hist is the
// time from each send to its acknowledgement, after Warmup.
func (ws *workerState) acks(req request) response {
	cs := ws.connRange(req.From, req.To)
	if len(cs) == 0 || req.Rate <= 0 {
		return response{Err: "ack: no connections or no rate"}
	}
	a := &ackPhase{}
	start := time.Now()
	a.recordFrom = ws.at(start.Add(req.Warmup))
	ws.ack.Store(a)
	defer ws.ack.Store(nil)
	total := int64((req.Warmup + req.Duration).Seconds() * req.Rate)
	interval := float64(time.Second) / req.Rate
	msg := message(0, 0, 0, req.MsgSize)
	room := strconv.Quote("void")
	var measured int64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := range total {
		sleepUntil(start.Add(time.Duration(float64(i) * interval)))
		at := ws.now()
		if at >= a.recordFrom {
			measured++
		}
		if err := cs[i%int64(len(cs))].emit("new_message", []string{msg, room}, true, ackRTT, at); err != nil {
			return response{Err: "ack send: " + err.Error()}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.acked.Load() < total && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return response{Sent: total, OK: measured, Count: a.acked.Load(), Elapsed: time.Since(start), Hist: a.hist.snapshot()}
}

// churn opens connections at Rate a second for Duration, each held for
// Hold, then closed; Hist is their connection times.
func (ws *workerState) churn(req request) response {
	if req.Rate <= 0 {
		return response{Err: "churn: no rate"}
	}
	var h hist
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	src := sources(req.Src)
	sem := make(chan struct{}, 4000)
	var wg sync.WaitGroup
	start := time.Now()
	interval := float64(time.Second) / req.Rate
	total := int64(req.Duration.Seconds() * req.Rate)
	for i := range total {
		due := start.Add(time.Duration(float64(i) * interval))
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			w, err := dialWire(ctx, src[i%int64(len(src))], req.Addr)
			cancel()
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			h.record(int64(time.Since(t0)))
			time.Sleep(req.Hold)
			w.close()
			ok.Add(1)
		}()
	}
	wg.Wait()
	resp := response{OK: ok.Load(), Failed: failed.Load(), Elapsed: time.Since(start), Hist: h.snapshot()}
	if e, _ := firstErr.Load().(string); e != "" {
		resp.FirstErr = e
	}
	return resp
}

// sleepUntil waits until t. The Go timer sleeps in whole milliseconds on
// this kind of VM (no epoll_pwait2), so pacing sleeps with nanosleep on the
// caller's thread, which the caller has locked.
func sleepUntil(t time.Time) {
	d := time.Until(t)
	if d <= 20*time.Microsecond {
		return
	}
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil)
}

// closeAll closes every connection and waits for their readers.
func (ws *workerState) closeAll() {
	ws.mu.Lock()
	cs := ws.conns
	ws.conns = nil
	ws.mu.Unlock()
	for _, w := range cs {
		w.close()
	}
	ws.readers.Wait()
}
