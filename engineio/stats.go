package engineio

import (
	"sync"
	"sync/atomic"
)

// Stats are a server's counters: open sessions now, and totals since it
// started. Package metrics exposes them to Prometheus.
type Stats struct {
	// Sessions counts the open sessions by transport.
	Sessions map[string]int
	// MessagesIn and BytesIn count the messages the clients sent.
	MessagesIn, BytesIn uint64
	// MessagesOut and BytesOut count the packets and bytes written.
	MessagesOut, BytesOut uint64
	// Closed counts the closed sessions by reason.
	Closed map[Reason]uint64
}

type counters struct {
	msgsIn, bytesIn, msgsOut, bytesOut atomic.Uint64

	mu     sync.Mutex
	closed map[Reason]uint64
}

func (c *counters) in(n int) {
	c.msgsIn.Add(1)
	c.bytesIn.Add(uint64(n))
}

func (c *counters) out(msgs, bytes int) {
	c.msgsOut.Add(uint64(msgs))
	c.bytesOut.Add(uint64(bytes))
}

func (c *counters) close(r Reason) {
	c.mu.Lock()
	if c.closed == nil {
		c.closed = make(map[Reason]uint64)
	}
	c.closed[r]++
	c.mu.Unlock()
}

// Stats returns the server's counters.
func (srv *Server) Stats() Stats {
	st := Stats{
		Sessions:    map[string]int{transportPolling: 0, transportWebSocket: 0},
		MessagesIn:  srv.stats.msgsIn.Load(),
		BytesIn:     srv.stats.bytesIn.Load(),
		MessagesOut: srv.stats.msgsOut.Load(),
		BytesOut:    srv.stats.bytesOut.Load(),
		Closed:      make(map[Reason]uint64),
	}
	srv.mu.RLock()
	for _, s := range srv.sessions {
		s.mu.Lock()
		st.Sessions[s.kind.String()]++
		s.mu.Unlock()
	}
	srv.mu.RUnlock()
	srv.stats.mu.Lock()
	for r, n := range srv.stats.closed {
		st.Closed[r] = n
	}
	srv.stats.mu.Unlock()
	return st
}
