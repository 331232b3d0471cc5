package adapter

import (
	"context"
	"iter"
	"slices"
	"sync"

	"github.com/sori-dev/sori/socketio/parser"
)

type set = map[string]struct{}

// Memory is the in-memory adapter: one server, no cluster. Its zero value
// is not usable; make one with NewMemory. Safe for concurrent use.
//
// A socket's private room is implicit: a socket id in sids is a room of
// one, so the commonest room costs no map of its own. Explicit rooms, and
// the explicit rooms of each socket, are kept in maps.
type Memory struct {
	nsp Namespace

	mu    sync.RWMutex
	rooms map[string]set // explicit room -> socket ids
	sids  map[string]set // socket id -> its explicit rooms (nil when none)

	lmu       sync.RWMutex
	listeners []func(RoomEvent)
}

// NewMemory returns the in-memory adapter of nsp.
func NewMemory(nsp Namespace) *Memory {
	return &Memory{nsp: nsp, rooms: make(map[string]set), sids: make(map[string]set)}
}

// Namespace is the namespace the adapter serves.
func (m *Memory) Namespace() Namespace { return m.nsp }

// OnRoomEvent adds a listener of create-room, delete-room, join-room and
// leave-room. It runs synchronously, outside the adapter's lock.
func (m *Memory) OnRoomEvent(fn func(RoomEvent)) {
	m.lmu.Lock()
	m.listeners = append(m.listeners, fn)
	m.lmu.Unlock()
}

func (m *Memory) emit(events []RoomEvent) {
	if len(events) == 0 {
		return
	}
	m.lmu.RLock()
	ls := m.listeners
	m.lmu.RUnlock()
	for _, e := range events {
		for _, fn := range ls {
			fn(e)
		}
	}
}

func (m *Memory) hasListeners() bool {
	m.lmu.RLock()
	defer m.lmu.RUnlock()
	return len(m.listeners) > 0
}

// sizeLocked is the number of sockets in room.
func (m *Memory) sizeLocked(room string) int {
	n := len(m.rooms[room])
	if _, private := m.sids[room]; private {
		n++
	}
	return n
}

// AddAll puts socket id in rooms. The socket's own id is its private room.
func (m *Memory) AddAll(id string, rooms ...string) {
	track := m.hasListeners()
	var events []RoomEvent
	m.mu.Lock()
	mine, known := m.sids[id]
	if !known {
		m.sids[id] = nil
	}
	for _, room := range rooms {
		if room == id {
			if !known && track {
				if len(m.rooms[id]) == 0 {
					events = append(events, RoomEvent{Kind: CreateRoom, Room: id})
				}
				events = append(events, RoomEvent{Kind: JoinRoom, Room: id, ID: id})
			}
			known = true
			continue
		}
		if _, in := mine[room]; in {
			continue
		}
		if mine == nil {
			mine = make(set, 1)
			m.sids[id] = mine
		}
		mine[room] = struct{}{}
		members, ok := m.rooms[room]
		if !ok {
			members = make(set, 1)
			m.rooms[room] = members
			if track && m.sizeLocked(room) == 0 {
				events = append(events, RoomEvent{Kind: CreateRoom, Room: room})
			}
		}
		members[id] = struct{}{}
		if track {
			events = append(events, RoomEvent{Kind: JoinRoom, Room: room, ID: id})
		}
	}
	m.mu.Unlock()
	m.emit(events)
}

// Del takes socket id out of room. A socket stays in its private room
// while it is connected.
func (m *Memory) Del(id, room string) {
	m.mu.Lock()
	var events []RoomEvent
	if mine := m.sids[id]; mine != nil {
		if _, in := mine[room]; in {
			delete(mine, room)
			events = m.leaveLocked(id, room, m.hasListeners())
		}
	}
	m.mu.Unlock()
	m.emit(events)
}

// leaveLocked removes id from the explicit room, dropping it when empty.
func (m *Memory) leaveLocked(id, room string, track bool) []RoomEvent {
	members, ok := m.rooms[room]
	if !ok {
		return nil
	}
	if _, in := members[id]; !in {
		return nil
	}
	delete(members, id)
	var events []RoomEvent
	if track {
		events = append(events, RoomEvent{Kind: LeaveRoom, Room: room, ID: id})
	}
	if len(members) == 0 {
		delete(m.rooms, room)
		if track && m.sizeLocked(room) == 0 {
			events = append(events, RoomEvent{Kind: DeleteRoom, Room: room})
		}
	}
	return events
}

// DelAll takes socket id out of every room; it is gone.
func (m *Memory) DelAll(id string) {
	track := m.hasListeners()
	var events []RoomEvent
	m.mu.Lock()
	mine, known := m.sids[id]
	for room := range mine {
		events = append(events, m.leaveLocked(id, room, track)...)
	}
	delete(m.sids, id)
	if known && track {
		events = append(events, RoomEvent{Kind: LeaveRoom, Room: id, ID: id})
		if len(m.rooms[id]) == 0 {
			events = append(events, RoomEvent{Kind: DeleteRoom, Room: id})
		}
	}
	m.mu.Unlock()
	m.emit(events)
}

// SocketRooms lists the rooms of socket id, its private room too, sorted.
func (m *Memory) SocketRooms(id string) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mine, ok := m.sids[id]
	if !ok {
		return nil
	}
	out := make([]string, 0, len(mine)+1)
	out = append(out, id)
	for room := range mine {
		out = append(out, room)
	}
	slices.Sort(out)
	return out
}

// Rooms lists every room with a local socket, private rooms too, sorted.
func (m *Memory) Rooms() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]string, 0, len(m.rooms)+len(m.sids))
	for room := range m.rooms {
		if _, private := m.sids[room]; !private {
			out = append(out, room)
		}
	}
	for id := range m.sids {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// RoomSize is the number of local sockets in room.
func (m *Memory) RoomSize(room string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.sizeLocked(room)
}

// HasSocket reports whether a local socket has the id.
func (m *Memory) HasSocket(id string) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.sids[id]
	return ok
}

// Sockets lists the local sockets in any of rooms, or all of them.
func (m *Memory) Sockets(rooms ...string) []string {
	return m.Match(BroadcastOptions{Rooms: rooms})
}

// Match returns the ids of the local sockets chosen by opts, each once.
func (m *Memory) Match(opts BroadcastOptions) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Collect(m.matchLocked(opts))
}

// matchLocked yields the local sockets chosen by opts.
func (m *Memory) matchLocked(opts BroadcastOptions) iter.Seq[string] {
	return func(yield func(string) bool) {
		excluded := func(id string) bool {
			for _, room := range opts.Except {
				if room == id {
					return true
				}
				if _, in := m.rooms[room][id]; in {
					return true
				}
			}
			return false
		}
		if len(opts.Rooms) == 0 {
			for id := range m.sids {
				if !excluded(id) && !yield(id) {
					return
				}
			}
			return
		}
		var seen set
		if len(opts.Rooms) > 1 {
			seen = make(set)
		}
		visit := func(id string) bool {
			if seen != nil {
				if _, dup := seen[id]; dup {
					return true
				}
				seen[id] = struct{}{}
			}
			return excluded(id) || yield(id)
		}
		for _, room := range opts.Rooms {
			if _, private := m.sids[room]; private && !visit(room) {
				return
			}
			for id := range m.rooms[room] {
				if !visit(id) {
					return
				}
			}
		}
	}
}

// Broadcast delivers pkt to the local sockets chosen by opts.
func (m *Memory) Broadcast(_ context.Context, pkt *parser.Packet, opts BroadcastOptions) error {
	m.nsp.Deliver(pkt, slices.Values(m.Match(opts)), opts.Flags, nil)
	return nil
}

// BroadcastWithAck delivers pkt asking each receiver for an ack.
func (m *Memory) BroadcastWithAck(_ context.Context, pkt *parser.Packet, opts BroadcastOptions,
	onCount func(int), onAck func(string, Args)) error {
	pkt.ID, pkt.HasID = m.nsp.NextAckID(), true
	onCount(m.nsp.Deliver(pkt, slices.Values(m.Match(opts)), opts.Flags, onAck))
	return nil
}

// FetchSockets describes the local sockets chosen by opts.
func (m *Memory) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	ids := m.Match(opts)
	out := make([]SocketInfo, 0, len(ids))
	for _, id := range ids {
		if info, ok := m.nsp.Info(id); ok {
			info.Local = true
			out = append(out, info)
		}
	}
	return out, nil
}

// AddSockets makes the local sockets chosen by opts join rooms.
func (m *Memory) AddSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, id := range m.Match(opts) {
		m.AddAll(id, rooms...)
	}
	return nil
}

// DelSockets makes the local sockets chosen by opts leave rooms.
func (m *Memory) DelSockets(_ context.Context, opts BroadcastOptions, rooms []string) error {
	for _, id := range m.Match(opts) {
		for _, room := range rooms {
			m.Del(id, room)
		}
	}
	return nil
}

// DisconnectSockets disconnects the local sockets chosen by opts.
func (m *Memory) DisconnectSockets(_ context.Context, opts BroadcastOptions, close bool) error {
	for _, id := range m.Match(opts) {
		m.nsp.Disconnect(id, close)
	}
	return nil
}

// AllRooms lists the local rooms: with one server, that is all of them.
func (m *Memory) AllRooms(context.Context) ([]string, error) { return m.Rooms(), nil }

// ServerSideEmit has no other server to reach.
func (m *Memory) ServerSideEmit(context.Context, []any, bool) ([]Args, error) { return nil, nil }

// ServerCount is 1.
func (m *Memory) ServerCount(context.Context) (int, error) { return 1, nil }

// Close does nothing.
func (m *Memory) Close() error { return nil }

var _ Adapter = (*Memory)(nil)
