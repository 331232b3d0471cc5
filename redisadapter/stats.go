package redisadapter

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sori-dev/sori/adapter"
)

// hubStats counts what metrics report: failures of Redis operations, and
// requests to the other servers with their total duration.
type hubStats struct {
	errors, requests, nanos atomic.Uint64
}

// Stats implements adapter.Instrumented. The counters are the factory's:
// every namespace of one server shares them.
func (a *Adapter) Stats() adapter.Stats {
	s := &a.h.stats
	return adapter.Stats{
		Errors:          s.errors.Load(),
		Requests:        s.requests.Load(),
		RequestDuration: time.Duration(s.nanos.Load()),
	}
}

// request is doRequest, counted.
func (a *Adapter) request(ctx context.Context, op string, req *outRequest, p *pending) error {
	start := time.Now()
	err := a.doRequest(ctx, op, req, p)
	a.h.stats.requests.Add(1)
	a.h.stats.nanos.Add(uint64(time.Since(start)))
	if err != nil {
		a.h.stats.errors.Add(1)
	}
	return err
}

var _ adapter.Instrumented = (*Adapter)(nil)
