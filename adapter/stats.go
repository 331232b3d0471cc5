package adapter

import "time"

// Stats are a cluster adapter's counters: its failures and how long its
// requests to other servers took. Memory has none to give.
type Stats struct {
	Errors          uint64        // publish, subscribe and request failures
	Requests        uint64        // requests to other servers answered or timed out
	RequestDuration time.Duration // their total duration
}

// Instrumented is an adapter that keeps Stats.
type Instrumented interface {
	Stats() Stats
}
