package redisadapter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// pending is a request of this server awaiting the others' answers.
type pending struct {
	typ  int
	want int // answers awaited

	// Guarded by the adapter's mu.
	got     int
	done    chan struct{}
	isDone  bool
	sockets []adapter.SocketInfo
	rooms   map[string]struct{}
	answers []adapter.Args
}

// remoteSocket is a socket in a REMOTE_FETCH answer.
type remoteSocket struct {
	ID        string          `json:"id"`
	Handshake json.RawMessage `json:"handshake"`
	Rooms     roomList        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
}

// opError gives a request error the name of the operation that failed.
func opError(op string, err error) error {
	var te *TimeoutError
	if errors.As(err, &te) {
		c := *te
		c.Op = op
		return &c
	}
	return &TimeoutError{Op: op, Cause: err}
}

// doRequest publishes req and waits for p.want answers, the requests
// timeout, ctx, or Close.
func (a *Adapter) doRequest(ctx context.Context, op string, req *outRequest, p *pending) error {
	id := newID()
	req.UID, req.RequestID = a.uid, id
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	p.done = make(chan struct{})
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	a.requests[id] = p
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.requests, id)
		a.mu.Unlock()
	}()
	if err := a.h.publish(ctx, a.requestChannel, body); err != nil {
		return &TimeoutError{Op: op, Want: p.want, Cause: err}
	}
	timer := time.NewTimer(a.timeout)
	defer timer.Stop()
	var cause error
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-a.closing:
		return ErrClosed
	}
	a.mu.Lock()
	got := p.got
	a.mu.Unlock()
	return &TimeoutError{Op: op, Got: got, Want: p.want, Cause: cause}
}

// send publishes a request that expects no answer.
func (a *Adapter) send(ctx context.Context, op string, req *outRequest) error {
	req.UID = a.uid
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := a.h.publish(ctx, a.requestChannel, body); err != nil {
		return &TimeoutError{Op: op, Cause: err}
	}
	return nil
}

// ServerCount is the number of servers of the namespace in the cluster,
// this one included: the subscribers of its request channel (PUBSUB
// NUMSUB), as the reference counts them.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	const op = "serverCount"
	if a.h.down.Load() {
		return 0, &TimeoutError{Op: op, Cause: ErrUnavailable}
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	res, err := a.h.client.PubSubNumSub(ctx, a.requestChannel).Result()
	if err != nil {
		return 0, &TimeoutError{Op: op, Cause: fmt.Errorf("%w: %w", ErrUnavailable, err)}
	}
	return int(res[a.requestChannel]), nil
}

// FetchSockets describes the sockets chosen by opts on every server. On a
// timeout it returns those it has with the error.
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	const op = "fetchSockets"
	local, _ := a.Memory.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, opError(op, err)
	}
	if n <= 1 {
		return local, nil
	}
	p := &pending{typ: typeRemoteFetch, want: n - 1}
	err = a.request(ctx, op, &outRequest{Type: typeRemoteFetch, Opts: toWireOpts(opts, false)}, p)
	a.mu.Lock()
	out := append(local, p.sockets...)
	a.mu.Unlock()
	return out, err
}

// AllRooms lists the rooms of every server, sorted. On a timeout it
// returns those it has with the error.
func (a *Adapter) AllRooms(ctx context.Context) ([]string, error) {
	const op = "allRooms"
	local := a.Rooms()
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, opError(op, err)
	}
	if n <= 1 {
		return local, nil
	}
	p := &pending{typ: typeAllRooms, want: n - 1, rooms: make(map[string]struct{})}
	for _, r := range local {
		p.rooms[r] = struct{}{}
	}
	err = a.request(ctx, op, &outRequest{Type: typeAllRooms}, p)
	a.mu.Lock()
	out := slices.Sorted(maps.Keys(p.rooms))
	a.mu.Unlock()
	return out, err
}

// AddSockets makes the sockets chosen by opts join rooms: here at once,
// on the other servers when they get the request (nobody answers it).
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	_ = a.Memory.AddSockets(ctx, opts, rooms)
	if opts.Flags.Local || len(rooms) == 0 {
		return nil
	}
	return a.send(ctx, "socketsJoin", &outRequest{Type: typeRemoteJoin, Opts: toWireOpts(opts, false), Rooms: rooms})
}

// DelSockets makes the sockets chosen by opts leave rooms, everywhere.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []string) error {
	_ = a.Memory.DelSockets(ctx, opts, rooms)
	if opts.Flags.Local || len(rooms) == 0 {
		return nil
	}
	return a.send(ctx, "socketsLeave", &outRequest{Type: typeRemoteLeave, Opts: toWireOpts(opts, false), Rooms: rooms})
}

// DisconnectSockets disconnects the sockets chosen by opts, everywhere.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	_ = a.Memory.DisconnectSockets(ctx, opts, close)
	if opts.Flags.Local {
		return nil
	}
	return a.send(ctx, "disconnectSockets", &outRequest{Type: typeRemoteDisconnect, Opts: toWireOpts(opts, false), Close: &close})
}

// ServerSideEmit sends an event (args[0] is its name) to the other
// servers. With withAck it waits for each one's answer (its first
// argument), until the requests timeout or ctx; on a timeout it returns the
// answers that came with the error.
func (a *Adapter) ServerSideEmit(ctx context.Context, args []any, withAck bool) ([]adapter.Args, error) {
	const op = "serverSideEmit"
	data, err := json.Marshal(args)
	if err != nil {
		return nil, err
	}
	if !withAck {
		return nil, a.send(ctx, op, &outRequest{Type: typeServerSideEmit, Data: data})
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, opError(op, err)
	}
	if n <= 1 {
		return []adapter.Args{}, nil
	}
	p := &pending{typ: typeServerSideEmit, want: n - 1}
	err = a.request(ctx, op, &outRequest{Type: typeServerSideEmit, Data: data}, p)
	a.mu.Lock()
	out := slices.Clone(p.answers)
	a.mu.Unlock()
	if out == nil {
		out = []adapter.Args{}
	}
	return out, err
}

// answer publishes an answer to the server uid: on the shared response
// channel, or on its own with PublishOnSpecificResponseChannel.
func (a *Adapter) answer(uid string, payload []byte) {
	if a.isClosed() {
		return
	}
	channel := a.responseChannel
	if a.h.opts.PublishOnSpecificResponseChannel && uid != "" {
		channel += uid + "#"
	}
	a.h.respond(channel, payload)
}

func (a *Adapter) answerJSON(uid string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		a.log.Debug("redisadapter: answer not encodable", "err", err)
		return
	}
	a.answer(uid, b)
}

// own reports whether a request is this server's own.
func (a *Adapter) own(req *wireRequest) bool {
	if req.UID == a.uid {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.requests[req.RequestID]
	return ok
}

type idAnswer struct {
	RequestID string `json:"requestId"`
}

// onRequest answers a request of another server.
func (a *Adapter) onRequest(payload []byte) {
	var req wireRequest
	atts, err := decodeDocument(payload, &req)
	if err != nil {
		a.log.Debug("redisadapter: bad request", "err", err)
		return
	}
	ctx := context.Background()
	switch req.Type {
	case typeSockets:
		if a.own(&req) {
			return
		}
		ids := a.Memory.Sockets(req.Rooms...)
		if ids == nil {
			ids = []string{}
		}
		a.answerJSON(req.UID, struct {
			RequestID string   `json:"requestId"`
			Sockets   []string `json:"sockets"`
		}{req.RequestID, ids})
	case typeAllRooms:
		if a.own(&req) {
			return
		}
		a.answerJSON(req.UID, struct {
			RequestID string   `json:"requestId"`
			Rooms     []string `json:"rooms"`
		}{req.RequestID, a.Rooms()})
	case typeRemoteJoin, typeRemoteLeave, typeRemoteDisconnect:
		if req.UID == a.uid {
			return // done here already
		}
		if req.Opts != nil {
			opts := req.Opts.options()
			switch req.Type {
			case typeRemoteJoin:
				_ = a.Memory.AddSockets(ctx, opts, req.Rooms)
			case typeRemoteLeave:
				_ = a.Memory.DelSockets(ctx, opts, req.Rooms)
			default:
				_ = a.Memory.DisconnectSockets(ctx, opts, req.Close)
			}
			return
		}
		// The older form: one socket, answered.
		if req.Sid == "" || !a.HasSocket(req.Sid) {
			return
		}
		switch req.Type {
		case typeRemoteJoin:
			a.AddAll(req.Sid, roomName(req.Room))
		case typeRemoteLeave:
			a.Del(req.Sid, roomName(req.Room))
		default:
			a.nsp.Disconnect(req.Sid, req.Close)
		}
		a.answerJSON(req.UID, idAnswer{req.RequestID})
	case typeRemoteFetch:
		if a.own(&req) {
			return
		}
		infos, _ := a.Memory.FetchSockets(ctx, req.Opts.options())
		if infos == nil {
			infos = []adapter.SocketInfo{}
		}
		a.answerJSON(req.UID, struct {
			RequestID string               `json:"requestId"`
			Sockets   []adapter.SocketInfo `json:"sockets"`
		}{req.RequestID, infos})
	case typeServerSideEmit:
		if req.UID == a.uid {
			return
		}
		a.onServerSideEmit(&req)
	case typeBroadcast:
		a.onBroadcastRequest(&req, atts)
	default:
		a.log.Debug("redisadapter: unknown request type", "type", req.Type)
	}
}

// roomName reads a room given as a string or a number.
func roomName(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return string(raw)
}

// onServerSideEmit runs the handlers of another server's event on the
// executor; with a request id, the first answer goes back on the shared
// response channel, as the reference sends it.
func (a *Adapter) onServerSideEmit(req *wireRequest) {
	values, err := parser.Args(req.Data)
	if err != nil || len(values) == 0 {
		return
	}
	args := adapter.Args{Values: values}
	if req.RequestID == "" {
		a.exec(func() { a.nsp.ReceiveServerSideEmit(args, nil) })
		return
	}
	id := req.RequestID
	ack := func(vs []any) {
		if a.isClosed() {
			return
		}
		r := struct {
			Type      int             `json:"type"`
			RequestID string          `json:"requestId"`
			Data      json.RawMessage `json:"data,omitempty"`
		}{Type: typeServerSideEmit, RequestID: id}
		if len(vs) > 0 {
			if b, err := json.Marshal(vs[0]); err == nil {
				r.Data = b
			}
		}
		b, err := json.Marshal(r)
		if err != nil {
			return
		}
		a.h.respond(a.responseChannel, b)
	}
	a.exec(func() { a.nsp.ReceiveServerSideEmit(args, ack) })
}

// onResponse takes an answer to one of this server's requests.
func (a *Adapter) onResponse(payload []byte) {
	var r wireResponse
	atts, err := decodeDocument(payload, &r)
	if err != nil {
		a.log.Debug("redisadapter: bad response", "err", err)
		return
	}
	if r.RequestID == "" {
		return
	}
	a.mu.Lock()
	if ar := a.acks[r.RequestID]; ar != nil {
		a.mu.Unlock()
		a.onAckResponse(ar, &r, atts)
		return
	}
	p := a.requests[r.RequestID]
	if p == nil {
		a.mu.Unlock()
		return
	}
	defer a.mu.Unlock()
	p.got++
	switch p.typ {
	case typeRemoteFetch:
		var socks []remoteSocket
		if len(r.Sockets) > 0 && json.Unmarshal(r.Sockets, &socks) == nil {
			for _, s := range socks {
				rooms := []string(s.Rooms)
				if rooms == nil {
					rooms = []string{}
				}
				p.sockets = append(p.sockets, adapter.SocketInfo{ID: s.ID, Handshake: s.Handshake,
					Rooms: rooms, Data: s.Data})
			}
		}
	case typeAllRooms:
		for _, room := range r.Rooms {
			p.rooms[room] = struct{}{}
		}
	case typeServerSideEmit:
		p.answers = append(p.answers, argsOf(r.Data, nil))
	}
	if !p.isDone && p.got >= p.want {
		p.isDone = true
		close(p.done)
	}
}
