package adapter

import (
	"context"
	"encoding/json"
	"iter"
	"time"

	"github.com/sori-dev/sori/socketio/parser"
)

// Flags modify a broadcast.
type Flags struct {
	// Volatile packets may be dropped for a client that is not ready to
	// receive them (its transport is busy or it is upgrading).
	Volatile bool
	// NoCompress turns off compression for this packet.
	NoCompress bool
	// Local keeps the broadcast on this server, in a cluster.
	Local bool
	// Timeout bounds the wait for acknowledgements, for broadcasts with acks.
	Timeout time.Duration
}

// BroadcastOptions choose the receivers of a broadcast: the sockets in any
// of Rooms (every socket when empty), less those in any of Except.
type BroadcastOptions struct {
	Rooms  []string
	Except []string
	Flags  Flags
}

// Args are the arguments of an acknowledgement: raw JSON values and the
// binary attachments their placeholders point to (see parser.Unmarshal).
type Args struct {
	Values      []json.RawMessage
	Attachments [][]byte
}

// SocketInfo describes a socket, local or on another server.
type SocketInfo struct {
	ID        string          `json:"id"`
	Handshake json.RawMessage `json:"handshake"`
	Rooms     []string        `json:"rooms"`
	Data      json.RawMessage `json:"data"`
	// Local is true for a socket of this server.
	Local bool `json:"-"`
}

// Namespace is what an adapter needs from the namespace that owns it.
type Namespace interface {
	// Name is the namespace's name, such as "/".
	Name() string
	// Deliver sends pkt, encoded once, to the local sockets with the given
	// ids. When onAck is not nil, pkt.ID has been set and each receiver's
	// acknowledgement is passed to onAck with its socket id. Deliver returns
	// how many sockets it sent to.
	Deliver(pkt *parser.Packet, ids iter.Seq[string], flags Flags, onAck func(id string, args Args)) int
	// Info describes a local socket; false when there is none with that id.
	Info(id string) (SocketInfo, bool)
	// Disconnect disconnects a local socket; close also closes its
	// underlying connection.
	Disconnect(id string, close bool)
	// ReceiveServerSideEmit receives a ServerSideEmit from another server: an
	// event name and its arguments. ack, when not nil, takes the answer.
	ReceiveServerSideEmit(args Args, ack func(args []any))
	// NextAckID allocates an acknowledgement id, unique in the namespace.
	NextAckID() uint64
}

// Adapter tracks rooms and delivers broadcasts, for one namespace.
type Adapter interface {
	// AddAll puts a local socket in rooms.
	AddAll(id string, rooms ...string)
	// Del takes a local socket out of a room.
	Del(id, room string)
	// DelAll takes a local socket out of every room; it is gone.
	DelAll(id string)
	// SocketRooms lists the rooms of a local socket; nil when unknown.
	SocketRooms(id string) []string
	// Rooms lists the rooms that have local sockets, the private ones too.
	Rooms() []string
	// RoomSize is the number of local sockets in room.
	RoomSize(room string) int
	// HasSocket reports whether a local socket has the id: a room of that
	// name is its private room.
	HasSocket(id string) bool
	// Sockets lists the ids of the local sockets in any of rooms (all
	// sockets when rooms is empty).
	Sockets(rooms ...string) []string

	// Broadcast sends pkt to the sockets chosen by opts, on every server.
	Broadcast(ctx context.Context, pkt *parser.Packet, opts BroadcastOptions) error
	// BroadcastWithAck is Broadcast asking each receiver for an
	// acknowledgement: onCount is told how many sockets each server sent to
	// (it may be called several times, adding up), and onAck gets each
	// answer. The caller applies the timeout.
	BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts BroadcastOptions,
		onCount func(n int), onAck func(id string, args Args)) error
	// FetchSockets describes the sockets chosen by opts, on every server.
	FetchSockets(ctx context.Context, opts BroadcastOptions) ([]SocketInfo, error)
	// AddSockets makes the sockets chosen by opts join rooms, on every server.
	AddSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DelSockets makes the sockets chosen by opts leave rooms, on every server.
	DelSockets(ctx context.Context, opts BroadcastOptions, rooms []string) error
	// DisconnectSockets disconnects the sockets chosen by opts, on every server.
	DisconnectSockets(ctx context.Context, opts BroadcastOptions, close bool) error
	// AllRooms lists the rooms of every server.
	AllRooms(ctx context.Context) ([]string, error)
	// ServerSideEmit sends an event (args[0] is its name) to the other
	// servers of the cluster. With onAck, it waits until ctx ends or every
	// server answered, and returns the answers.
	ServerSideEmit(ctx context.Context, args []any, withAck bool) ([]Args, error)
	// ServerCount is the number of servers in the cluster, this one included.
	ServerCount(ctx context.Context) (int, error)
	// Close releases the adapter's resources.
	Close() error
}

// RoomEvent is a change of room membership, for OnRoomEvent listeners.
type RoomEvent struct {
	Kind RoomEventKind
	Room string
	ID   string // the socket, for join and leave
}

// RoomEventKind names a room event as the reference adapter does.
type RoomEventKind string

// Room events.
const (
	CreateRoom RoomEventKind = "create-room"
	DeleteRoom RoomEventKind = "delete-room"
	JoinRoom   RoomEventKind = "join-room"
	LeaveRoom  RoomEventKind = "leave-room"
)
