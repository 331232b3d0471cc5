package sori

import (
	"errors"
	"time"
)

// ErrTooManyRooms: Join would put the socket in more rooms than
// Options.MaxRoomsPerSocket allows.
var ErrTooManyRooms = errors.New("sori: too many rooms for one socket")

// reasonRateLimit is the disconnect reason of a socket that flooded.
const reasonRateLimit = "event rate limit exceeded"

// bucket is a token bucket over one socket's incoming events. Only the
// connection's read path uses it, and reads never overlap, so it needs no
// lock.
type bucket struct {
	tokens   float64
	last     time.Time
	since    time.Time // when the current stretch of throttling began
	disabled bool
}

// take spends a token. It returns how long the reader should wait before
// handling the event (zero when a token was there), and flood when the
// socket has been throttled without a break for longer than the limit
// allows.
func (b *bucket) take(o *Options, now time.Time) (wait time.Duration, flood bool) {
	if b.disabled || o.EventsPerSecond <= 0 {
		return 0, false
	}
	burst := float64(o.EventBurst)
	if b.last.IsZero() {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*o.EventsPerSecond)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		b.since = time.Time{}
		return 0, false
	}
	if b.since.IsZero() {
		b.since = now
	}
	if now.Sub(b.since) > o.FloodTimeout {
		return 0, true
	}
	return time.Duration(-b.tokens / o.EventsPerSecond * float64(time.Second)), false
}

// throttle applies the event rate limit before an event is handled: the
// read path sleeps, so a fast sender is slowed by TCP back-pressure and
// other clients do not notice; one that keeps flooding is disconnected.
// It reports whether the event may go on.
func (c *conn) throttle(s *Socket) bool {
	wait, flood := s.rate.take(&c.srv.opts, time.Now())
	if flood {
		c.srv.log.Warn("socket.io: event flood, disconnecting", "socket", s.id, "addr", s.hs.Address)
		c.closeWith(reasonRateLimit)
		return false
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.es.Done():
			return false
		}
	}
	return true
}
