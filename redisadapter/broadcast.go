package redisadapter

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// wireEvent is the packet type the reference puts on the wire for events,
// binary or not: its encoder picks BINARY_EVENT itself.
const wireEvent = int(parser.Event)

// Broadcast delivers pkt to the local sockets chosen by opts, then, unless
// opts.Flags.Local, publishes it to the other servers. An error (matching
// ErrUnavailable when Redis is away) means the other servers were not
// reached; the local sockets got the packet all the same.
func (a *Adapter) Broadcast(ctx context.Context, pkt *parser.Packet, opts adapter.BroadcastOptions) error {
	if opts.Flags.Local {
		return a.Memory.Broadcast(ctx, pkt, opts)
	}
	msg, encErr := a.encodeBroadcast(pkt, opts)
	_ = a.Memory.Broadcast(ctx, pkt, opts)
	if encErr != nil {
		return fmt.Errorf("redisadapter: broadcast not encodable for the cluster: %w", encErr)
	}
	channel := a.channel
	if len(opts.Rooms) == 1 {
		channel += opts.Rooms[0] + "#"
	}
	if err := a.h.publish(ctx, channel, msg); err != nil {
		return fmt.Errorf("redisadapter: broadcast not sent to the other servers: %w", err)
	}
	return nil
}

// encodeBroadcast is the msgpack message [uid, packet, opts].
func (a *Adapter) encodeBroadcast(pkt *parser.Packet, opts adapter.BroadcastOptions) ([]byte, error) {
	data, atts, err := packetJSON(pkt)
	if err != nil {
		return nil, err
	}
	nsp := a.nsp.Name()
	doc, err := json.Marshal([]any{a.uid, &wirePacket{Type: wireEvent, Data: data, Nsp: &nsp}, toWireOpts(opts, true)})
	if err != nil {
		return nil, err
	}
	return jsonToMsgpack(doc, atts)
}

// onBroadcast receives a broadcast from another server.
func (a *Adapter) onBroadcast(channel string, payload []byte) {
	if len(channel) < len(a.channel) || channel[:len(a.channel)] != a.channel {
		return
	}
	if rest := channel[len(a.channel):]; rest != "" {
		// A broadcast to one room: for nobody here unless the room is.
		if rest[len(rest)-1] != '#' || a.RoomSize(rest[:len(rest)-1]) == 0 {
			return
		}
	}
	js, atts, err := msgpackToJSON(payload)
	if err != nil {
		a.log.Debug("redisadapter: bad broadcast", "err", err)
		return
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(js, &parts); err != nil || len(parts) < 3 {
		a.log.Debug("redisadapter: bad broadcast", "err", err)
		return
	}
	var uid string
	var p wirePacket
	var o wireOpts
	if json.Unmarshal(parts[0], &uid) != nil || uid == a.uid {
		return // ours
	}
	if json.Unmarshal(parts[1], &p) != nil || json.Unmarshal(parts[2], &o) != nil {
		a.log.Debug("redisadapter: bad broadcast packet or options")
		return
	}
	nsp := "/"
	if p.Nsp != nil {
		nsp = *p.Nsp
	}
	if nsp != a.nsp.Name() || len(p.Data) == 0 {
		return
	}
	pkt := &parser.Packet{Type: parser.Event, Data: p.Data}
	if len(atts) > 0 {
		pkt.Attachments = atts
	}
	opts := o.options()
	opts.Flags.Local = true
	_ = a.Memory.Broadcast(context.Background(), pkt, opts)
}

// ackRequest follows a broadcast with acknowledgements that this server
// sent: the other servers' client counts, and their clients' answers.
type ackRequest struct {
	onCount func(int)
	onAck   func(string, adapter.Args)

	// Guarded by the adapter's mu.
	want     int // the servers awaited; -1 until known
	servers  int // client counts received
	clients  int // the clients they reached
	answers  int // answers received
	counted  chan struct{}
	finished chan struct{}
	isCount  bool
	isFinish bool
}

func (r *ackRequest) check() {
	if !r.isCount && r.want >= 0 && r.servers >= r.want {
		r.isCount = true
		close(r.counted)
	}
	if r.isCount && !r.isFinish && r.answers >= r.clients {
		r.isFinish = true
		close(r.finished)
	}
}

// BroadcastWithAck delivers pkt to the sockets chosen by opts on every
// server, each asked for an acknowledgement. onCount learns how many
// sockets each server reached and onAck gets every answer (with an empty
// socket id for those of other servers). It returns once every server said
// how many sockets it reached, or at the deadline of ctx (the counts of
// the silent servers then count as one missing answer each, so that the
// caller sees its timeout), or after the requests timeout for a ctx
// without deadline (a *TimeoutError).
func (a *Adapter) BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts adapter.BroadcastOptions,
	onCount func(int), onAck func(string, adapter.Args)) error {
	if opts.Flags.Local {
		return a.Memory.BroadcastWithAck(ctx, pkt, opts, onCount, onAck)
	}
	const op = "broadcastWithAck"
	data, atts, err := packetJSON(pkt)
	if err != nil {
		return err
	}
	id := newID()
	nsp := a.nsp.Name()
	doc, err := json.Marshal(&outRequest{UID: a.uid, RequestID: id, Type: typeBroadcast,
		Packet: &wirePacket{Type: wireEvent, Data: data, Nsp: &nsp}, Opts: toWireOpts(opts, true)})
	if err != nil {
		return err
	}
	msg, err := jsonToMsgpack(doc, atts)
	if err != nil {
		return err
	}
	ar := &ackRequest{onCount: onCount, onAck: onAck, want: -1,
		counted: make(chan struct{}), finished: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	a.acks[id] = ar
	a.mu.Unlock()
	if err := a.h.publish(ctx, a.requestChannel, msg); err != nil {
		a.dropAck(id)
		return &TimeoutError{Op: op, Cause: err}
	}
	_ = a.Memory.BroadcastWithAck(ctx, pkt, opts, onCount, onAck)

	n, countErr := a.ServerCount(ctx)
	a.mu.Lock()
	if countErr == nil {
		ar.want = max(n-1, 0)
		ar.check()
	}
	a.mu.Unlock()

	deadline, hasDeadline := ctx.Deadline()
	wait := a.timeout
	if hasDeadline {
		wait = time.Until(deadline)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ar.counted:
	case <-timer.C:
	case <-ctx.Done():
	case <-a.closing:
		a.dropAck(id)
		return ErrClosed
	}
	a.mu.Lock()
	complete, got, want := ar.isCount, ar.servers, ar.want
	a.mu.Unlock()
	if !complete {
		if !hasDeadline {
			a.dropAck(id)
			return &TimeoutError{Op: op, Got: got, Want: want, Cause: countErr}
		}
		// Each silent server owes at least one answer: the caller's wait
		// ends at its deadline, with the answers that came.
		onCount(max(want-got, 1))
	}
	// Answers may still come until the caller stops waiting.
	if !a.watch(func() {
		select {
		case <-ctx.Done():
		case <-ar.finished:
		case <-a.closing:
		}
		a.dropAck(id)
	}) {
		a.dropAck(id)
	}
	return nil
}

// watch runs fn on a goroutine that Close waits for; false when closed.
func (a *Adapter) watch(fn func()) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return false
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		fn()
	}()
	return true
}

func (a *Adapter) dropAck(id string) {
	a.mu.Lock()
	delete(a.acks, id)
	a.mu.Unlock()
}

// onAckResponse takes a client count or a client's answer for one of our
// broadcasts. The callback runs before the count is marked, so that the
// caller knows every count when BroadcastWithAck returns.
func (a *Adapter) onAckResponse(ar *ackRequest, r *wireResponse, atts [][]byte) {
	if r.Type == nil {
		return
	}
	switch *r.Type {
	case typeBroadcastClientCount:
		ar.onCount(r.ClientCount)
		a.mu.Lock()
		ar.servers++
		ar.clients += r.ClientCount
		ar.check()
		a.mu.Unlock()
	case typeBroadcastAck:
		ar.onAck("", argsOf(r.Packet, atts))
		a.mu.Lock()
		ar.answers++
		ar.check()
		a.mu.Unlock()
	}
}

// onBroadcastRequest delivers another server's broadcast with
// acknowledgements, and sends it the client count and every answer.
func (a *Adapter) onBroadcastRequest(req *wireRequest, atts [][]byte) {
	if req.UID == a.uid {
		return
	}
	a.mu.Lock()
	_, ours := a.acks[req.RequestID]
	a.mu.Unlock()
	if ours || req.Packet == nil || len(req.Packet.Data) == 0 {
		return
	}
	if req.Packet.Nsp != nil && *req.Packet.Nsp != a.nsp.Name() {
		return
	}
	pkt := &parser.Packet{Type: parser.Event, Data: req.Packet.Data}
	if len(atts) > 0 {
		pkt.Attachments = atts
	}
	id, uid := req.RequestID, req.UID
	opts := req.Opts.options()
	opts.Flags.Local = true
	_ = a.Memory.BroadcastWithAck(context.Background(), pkt, opts,
		func(n int) {
			b, _ := json.Marshal(struct {
				Type        int    `json:"type"`
				RequestID   string `json:"requestId"`
				ClientCount int    `json:"clientCount"`
			}{typeBroadcastClientCount, id, n})
			a.answer(uid, b)
		},
		func(_ string, args adapter.Args) {
			r := struct {
				Type      int             `json:"type"`
				RequestID string          `json:"requestId"`
				Packet    json.RawMessage `json:"packet,omitempty"`
			}{Type: typeBroadcastAck, RequestID: id}
			if len(args.Values) > 0 {
				r.Packet = args.Values[0]
			}
			doc, err := json.Marshal(r)
			if err == nil {
				var b []byte
				if b, err = jsonToMsgpack(doc, args.Attachments); err == nil {
					a.answer(uid, b)
				}
			}
			if err != nil {
				a.log.Debug("redisadapter: acknowledgement not encodable", "err", err)
			}
		})
}
