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
// lock. Times are monotonic nanoseconds since clockStart, 0 for none: a
// bucket is 24 bytes, as every socket has one.
type bucket struct {
	tokens float64
	last   int64
	since  int64 // when the current stretch of throttling began
}

var clockStart = time.Now()

// clock is the monotonic time for buckets; never 0.
func clock() int64 { return int64(time.Since(clockStart)) + 1 }

// take spends a token at now (a clock reading). It returns how long the
// reader should wait before handling the event (zero when a token was
// there), and flood when the socket has been throttled without a break for
// longer than the limit allows.
func (b *bucket) take(o *Options, now int64) (wait time.Duration, flood bool) {
	if o.EventsPerSecond <= 0 {
		return 0, false
	}
	burst := float64(o.EventBurst)
	if b.last == 0 {
		b.tokens = burst
	} else {
		b.tokens = min(burst, b.tokens+time.Duration(now-b.last).Seconds()*o.EventsPerSecond)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		b.since = 0
		return 0, false
	}
	if b.since == 0 {
		b.since = now
	}
	if time.Duration(now-b.since) > o.FloodTimeout {
		return 0, true
	}
	return time.Duration(-b.tokens / o.EventsPerSecond * float64(time.Second)), false
}

// throttle applies the event rate limit before an event is handled: the
// read path sleeps, so a fast sender is slowed by TCP back-pressure and
// other clients do not notice; one that keeps flooding is disconnected.
// It reports whether the event may go on.
func (c *conn) throttle(s *Socket) bool {
	wait, flood := s.rate.take(&c.srv.opts, clock())
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
