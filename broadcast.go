package sori

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// BroadcastOperator chooses the receivers and flags of a broadcast. Each
// method returns a new operator, so they chain:
//
//	io.To("room1").Except("room2").Volatile().Emit("news", n)
type BroadcastOperator struct {
	nsp  *Namespace
	opts adapter.BroadcastOptions
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.opts.Rooms = slices.Clone(b.opts.Rooms)
	c.opts.Except = slices.Clone(b.opts.Except)
	return &c
}

// To adds rooms to send to; a socket in any of them receives.
func (b *BroadcastOperator) To(rooms ...string) *BroadcastOperator {
	c := b.clone()
	for _, r := range rooms {
		if !slices.Contains(c.opts.Rooms, r) {
			c.opts.Rooms = append(c.opts.Rooms, r)
		}
	}
	return c
}

// In is To.
func (b *BroadcastOperator) In(rooms ...string) *BroadcastOperator { return b.To(rooms...) }

// Except leaves out the sockets in any of rooms.
func (b *BroadcastOperator) Except(rooms ...string) *BroadcastOperator {
	c := b.clone()
	c.opts.Except = append(c.opts.Except, rooms...)
	return c
}

// Volatile lets the event be dropped for clients not ready for it.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Volatile = true
	return c
}

// Compress sets whether the event may be compressed.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.NoCompress = !on
	return c
}

// Local keeps the broadcast on this server.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Local = true
	return c
}

// Timeout bounds the wait for acknowledgements in EmitWithAck.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.opts.Flags.Timeout = d
	return c
}

// Emit sends an event to the chosen sockets. It is encoded once, and the
// same bytes go to every receiver.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if reserved[event] {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if n := len(args); n > 0 && args[n-1] != nil && reflect.TypeOf(args[n-1]).Kind() == reflect.Func {
		return ErrAckInBroadcast
	}
	pkt := &parser.Packet{Type: parser.Event, Namespace: b.nsp.name, Data: append([]any{event}, args...)}
	return b.nsp.adapter.Broadcast(context.Background(), pkt, b.opts)
}

// EmitWithAck sends an event to the chosen sockets and gathers every
// acknowledgement, until all came, the Timeout passed (ErrAckTimeout, with
// those that came) or ctx ended.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if reserved[event] {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if b.opts.Flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.opts.Flags.Timeout)
		defer cancel()
	}
	var (
		mu       sync.Mutex
		expected int
		counted  bool
		answers  []Args
		done     = make(chan struct{})
		finished bool
	)
	check := func() {
		if counted && len(answers) >= expected && !finished {
			finished = true
			close(done)
		}
	}
	pkt := &parser.Packet{Type: parser.Event, Namespace: b.nsp.name, Data: append([]any{event}, args...)}
	err := b.nsp.adapter.BroadcastWithAck(ctx, pkt, b.opts,
		func(n int) {
			mu.Lock()
			expected += n
			mu.Unlock()
		},
		func(_ string, a adapter.Args) {
			mu.Lock()
			answers = append(answers, Args{a})
			check()
			mu.Unlock()
		})
	if err != nil {
		return nil, err
	}
	mu.Lock()
	counted = true
	check()
	mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	finished = true
	out := slices.Clone(answers)
	if len(out) < expected {
		if ctx.Err() == context.DeadlineExceeded {
			return out, ErrAckTimeout
		}
		return out, ctx.Err()
	}
	return out, nil
}

// FetchSockets describes the chosen sockets, across the cluster.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	infos, err := b.nsp.adapter.FetchSockets(ctx, b.opts)
	out := make([]*RemoteSocket, 0, len(infos))
	for _, info := range infos {
		out = append(out, newRemoteSocket(b.nsp, info))
	}
	return out, err
}

// SocketsJoin makes the chosen sockets join rooms, across the cluster.
func (b *BroadcastOperator) SocketsJoin(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.AddSockets(ctx, b.opts, rooms)
}

// SocketsLeave makes the chosen sockets leave rooms, across the cluster.
func (b *BroadcastOperator) SocketsLeave(ctx context.Context, rooms ...string) error {
	return b.nsp.adapter.DelSockets(ctx, b.opts, rooms)
}

// DisconnectSockets disconnects the chosen sockets, across the cluster;
// close also closes their connections.
func (b *BroadcastOperator) DisconnectSockets(ctx context.Context, close bool) error {
	return b.nsp.adapter.DisconnectSockets(ctx, b.opts, close)
}

// Broadcasts from a socket reach everyone chosen but the socket itself.

func (s *Socket) op() *BroadcastOperator {
	return &BroadcastOperator{nsp: s.nsp, opts: adapter.BroadcastOptions{Except: []string{s.id}}}
}

// To selects the sockets in rooms, this one left out.
func (s *Socket) To(rooms ...string) *BroadcastOperator { return s.op().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) *BroadcastOperator { return s.op().To(rooms...) }

// Except selects every socket of the namespace but those in rooms and this one.
func (s *Socket) Except(rooms ...string) *BroadcastOperator { return s.op().Except(rooms...) }

// Broadcast selects every socket of the namespace but this one.
func (s *Socket) Broadcast() *BroadcastOperator { return s.op() }
