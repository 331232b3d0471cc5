package client

import (
	"math"
	"math/rand/v2"
	"time"
)

// backoff is the JS client's reconnection delay: min·2^attempt, capped at
// max, spread by ±factor at random.
type backoff struct {
	min, max time.Duration
	factor   float64 // randomization, 0..1
	attempts int
}

func (b *backoff) duration() time.Duration {
	ms := float64(b.min) * math.Pow(2, float64(b.attempts))
	b.attempts++
	if b.factor > 0 {
		r := rand.Float64()
		deviation := math.Floor(r * b.factor * ms)
		if int(math.Floor(r*10))&1 == 0 {
			ms -= deviation
		} else {
			ms += deviation
		}
	}
	if ms > float64(b.max) || math.IsInf(ms, 0) || math.IsNaN(ms) {
		ms = float64(b.max)
	}
	return time.Duration(ms)
}

func (b *backoff) reset() { b.attempts = 0 }
