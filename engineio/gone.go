package engineio

import (
	"sync"
	"time"
)

// goneGrace is how long the id of a polling session that its client closed
// stays known.
const goneGrace = time.Second

// gone remembers, for goneGrace, the polling sessions that their client
// closed (a close packet in a POST) while no GET was waiting. A GET that
// the client sent just before its close, over another connection, may still
// be on its way: it is answered with the noop it would have had, had it
// come first (the single-threaded reference server always sees it first),
// instead of "Session ID unknown". One GET per session; later ones get the
// error.
type gone struct {
	mu    sync.Mutex
	ids   map[string]time.Time // sid -> expiry
	order []goneEntry          // by expiry, oldest first
}

type goneEntry struct {
	sid     string
	expires time.Time
}

func (g *gone) add(sid string) {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(now)
	if g.ids == nil {
		g.ids = make(map[string]time.Time)
	}
	exp := now.Add(goneGrace)
	g.ids[sid] = exp
	g.order = append(g.order, goneEntry{sid, exp})
}

// take reports whether sid was closed by its client a moment ago, and
// forgets it.
func (g *gone) take(sid string) bool {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pruneLocked(now)
	if _, ok := g.ids[sid]; !ok {
		return false
	}
	delete(g.ids, sid)
	return true
}

func (g *gone) pruneLocked(now time.Time) {
	n := 0
	for n < len(g.order) && !g.order[n].expires.After(now) {
		if exp, ok := g.ids[g.order[n].sid]; ok && !exp.After(now) {
			delete(g.ids, g.order[n].sid)
		}
		n++
	}
	if n > 0 {
		g.order = append(g.order[:0], g.order[n:]...)
	}
}
