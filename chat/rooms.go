package chat

import (
	"cmp"
	"context"
	"slices"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/adapter"
)

// Room is an open room and how many are in it.
type Room struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// openRooms lists the rooms that are not a socket's private room, sorted
// by name, with their counts, across the cluster.
func openRooms(ctx context.Context, nsp *sori.Namespace) ([]Room, error) {
	a := nsp.Adapter()
	if mem, ok := a.(*adapter.Memory); ok {
		// One server: read the adapter's maps, as the seed does.
		var out []Room
		for _, name := range mem.Rooms() {
			if !mem.HasSocket(name) {
				out = append(out, Room{name, mem.RoomSize(name)})
			}
		}
		return out, nil
	}
	// On a cluster error the adapter still returns what it has (this
	// server's sockets at least): a partial list beats none.
	sockets, err := nsp.FetchSockets(ctx)
	if err != nil && len(sockets) == 0 {
		return nil, err
	}
	ids := make(map[string]bool, len(sockets))
	for _, s := range sockets {
		ids[s.ID] = true
	}
	counts := make(map[string]int)
	for _, s := range sockets {
		for _, r := range s.Rooms {
			if !ids[r] {
				counts[r]++
			}
		}
	}
	out := make([]Room, 0, len(counts))
	for name, n := range counts {
		out = append(out, Room{name, n})
	}
	slices.SortFunc(out, func(a, b Room) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// roomSize counts the sockets in a room, across the cluster.
func roomSize(ctx context.Context, nsp *sori.Namespace, room string) int {
	if mem, ok := nsp.Adapter().(*adapter.Memory); ok {
		return mem.RoomSize(room)
	}
	sockets, _ := nsp.In(room).FetchSockets(ctx) // partial on error
	return len(sockets)
}
