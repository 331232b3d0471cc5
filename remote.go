package sori

import (
	"context"
	"encoding/json"

	"github.com/sori-dev/sori/adapter"
)

// RemoteSocket describes a socket that FetchSockets found, on this server
// or another, and acts on it wherever it is.
type RemoteSocket struct {
	nsp       *Namespace
	ID        string
	Handshake *Handshake
	Rooms     []string
	// Data is the socket's store as JSON.
	Data  json.RawMessage
	Local bool
}

func newRemoteSocket(nsp *Namespace, info adapter.SocketInfo) *RemoteSocket {
	r := &RemoteSocket{nsp: nsp, ID: info.ID, Rooms: info.Rooms, Data: info.Data, Local: info.Local,
		Handshake: &Handshake{}}
	if len(info.Handshake) > 0 {
		_ = json.Unmarshal(info.Handshake, r.Handshake)
	}
	return r
}

// DataInto decodes the socket's store into v.
func (r *RemoteSocket) DataInto(v any) error {
	if len(r.Data) == 0 {
		return nil
	}
	return json.Unmarshal(r.Data, v)
}

func (r *RemoteSocket) op() *BroadcastOperator {
	return &BroadcastOperator{nsp: r.nsp, opts: adapter.BroadcastOptions{Rooms: []string{r.ID}}}
}

// Emit sends an event to the socket.
func (r *RemoteSocket) Emit(event string, args ...any) error { return r.op().Emit(event, args...) }

// Join makes the socket join rooms.
func (r *RemoteSocket) Join(ctx context.Context, rooms ...string) error {
	return r.op().SocketsJoin(ctx, rooms...)
}

// Leave makes the socket leave rooms.
func (r *RemoteSocket) Leave(ctx context.Context, rooms ...string) error {
	return r.op().SocketsLeave(ctx, rooms...)
}

// Disconnect disconnects the socket; close also closes its connection.
func (r *RemoteSocket) Disconnect(ctx context.Context, close bool) error {
	return r.op().DisconnectSockets(ctx, close)
}
