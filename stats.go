package sori

import (
	"sync"
	"sync/atomic"

	"github.com/sori-dev/sori/engineio"
)

// Stats are a server's counters, for monitoring (see package metrics).
type Stats struct {
	// Engine holds the transport layer's: sessions by transport, messages
	// and bytes, closes by reason.
	Engine engineio.Stats
	// Namespaces describes each namespace now.
	Namespaces map[string]NamespaceStats
	// EventsIn counts the events clients sent; EventsOut the events
	// queued for clients (a broadcast counts once per receiver).
	EventsIn, EventsOut uint64
	// Disconnects counts the sockets disconnected, by reason.
	Disconnects map[string]uint64
}

// NamespaceStats describes a namespace.
type NamespaceStats struct {
	Sockets int // local sockets
	Rooms   int // local rooms, private rooms aside
}

type counters struct {
	eventsIn, eventsOut atomic.Uint64

	mu          sync.Mutex
	disconnects map[string]uint64
}

func (c *counters) disconnect(reason string) {
	c.mu.Lock()
	if c.disconnects == nil {
		c.disconnects = make(map[string]uint64)
	}
	c.disconnects[reason]++
	c.mu.Unlock()
}

// Stats returns the server's counters.
func (srv *Server) Stats() Stats {
	st := Stats{
		Engine:      srv.engine.Stats(),
		Namespaces:  make(map[string]NamespaceStats),
		EventsIn:    srv.stats.eventsIn.Load(),
		EventsOut:   srv.stats.eventsOut.Load(),
		Disconnects: make(map[string]uint64),
	}
	srv.mu.RLock()
	nsps := make([]*Namespace, 0, len(srv.namespaces))
	for _, nsp := range srv.namespaces {
		nsps = append(nsps, nsp)
	}
	srv.mu.RUnlock()
	for _, nsp := range nsps {
		n := nsp.Len()
		rooms := len(nsp.adapter.Rooms()) - n // each socket has its private room
		st.Namespaces[nsp.name] = NamespaceStats{Sockets: n, Rooms: max(rooms, 0)}
	}
	srv.stats.mu.Lock()
	for r, n := range srv.stats.disconnects {
		st.Disconnects[r] = n
	}
	srv.stats.mu.Unlock()
	return st
}
