package redisadapter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The hub is what the adapters of one factory share: the Redis client, one
// subscription connection for every namespace, the goroutine that reads it,
// the health of the link, and the queue of answers to publish.
//
// Faults. go-redis reconnects the subscription connection and subscribes
// again to every channel when a read fails; the reading goroutine retries
// with a growing backoff while Redis is away. The first failure is logged
// once (a warning), and the recovery once (info). While Redis is away the
// hub is "down": broadcasts are delivered to the local sockets and not
// published (Broadcast returns an error matching ErrUnavailable), requests
// fail at once with a *TimeoutError, and answers are dropped. A link that
// goes silent is checked with PING; no PONG within the check interval and
// the subscription connection is made anew.

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// healthyCheck is the idle time after which the subscription connection is
// checked with PING; downCheck is that time while Redis is away. (Variables
// for the tests.)
var (
	healthyCheck = 10 * time.Second
	downCheck    = time.Second
)

type hub struct {
	client redis.UniversalClient
	opts   Options
	log    *slog.Logger

	down  atomic.Bool
	stats hubStats

	// life orders the starts and stops of the subscription connection.
	life     sync.Mutex
	mu       sync.RWMutex
	ps       *redis.PubSub
	stop     chan struct{}
	loopDone chan struct{}
	routes   map[string]*Adapter // exact channel -> adapter
	patterns map[string]*Adapter // broadcast pattern -> adapter

	// The outbox: answers published in order, off the reading goroutine.
	omu       sync.Mutex
	out       []outMsg
	draining  bool
	outClosed bool // the last adapter closed: answers are dropped
	owg       sync.WaitGroup
}

type outMsg struct {
	channel string
	payload []byte
}

// register subscribes to a's channels, starting the subscription
// connection and its reader for the first adapter.
func (h *hub) register(a *Adapter) {
	h.life.Lock()
	defer h.life.Unlock()
	h.mu.Lock()
	h.routes[a.requestChannel] = a
	h.routes[a.responseChannel] = a
	h.routes[a.specificResponseChannel] = a
	h.patterns[a.pattern] = a
	ps := h.ps
	first := ps == nil
	if first {
		ps = h.client.Subscribe(context.Background())
		h.ps = ps
		h.omu.Lock()
		h.outClosed = false
		h.omu.Unlock()
	}
	h.mu.Unlock()

	// go-redis remembers the channels even when this fails, and subscribes
	// to them when it connects again.
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.RequestsTimeout)
	defer cancel()
	err := h.onCurrent(ps, func(ps *redis.PubSub) error {
		err := ps.Subscribe(ctx, a.requestChannel, a.responseChannel, a.specificResponseChannel)
		if perr := ps.PSubscribe(ctx, a.pattern); err == nil {
			err = perr
		}
		return err
	})
	if err != nil {
		h.markDown(err)
	}
	if first {
		h.mu.Lock()
		if h.ps == ps && h.stop == nil {
			h.stop = make(chan struct{})
			h.loopDone = make(chan struct{})
			go h.loop(ps, h.stop, h.loopDone)
		}
		h.mu.Unlock()
	}
}

// unregister forgets a's channels; the last adapter stops the reader and
// closes the subscription connection.
func (h *hub) unregister(a *Adapter) {
	h.life.Lock()
	defer h.life.Unlock()
	h.mu.Lock()
	for _, ch := range []string{a.requestChannel, a.responseChannel, a.specificResponseChannel} {
		if h.routes[ch] == a {
			delete(h.routes, ch)
		}
	}
	if h.patterns[a.pattern] == a {
		delete(h.patterns, a.pattern)
	}
	ps := h.ps
	last := len(h.routes) == 0 && len(h.patterns) == 0
	var stop, loopDone chan struct{}
	if last {
		stop, loopDone = h.stop, h.loopDone
		h.ps, h.stop, h.loopDone = nil, nil, nil
	}
	h.mu.Unlock()
	if ps == nil {
		return
	}
	if !last {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = h.onCurrent(ps, func(ps *redis.PubSub) error {
			_ = ps.Unsubscribe(ctx, a.requestChannel, a.responseChannel, a.specificResponseChannel)
			return ps.PUnsubscribe(ctx, a.pattern)
		})
		return
	}
	if stop != nil {
		close(stop)
	}
	_ = ps.Close() // also ends a blocked read
	if loopDone != nil {
		<-loopDone
	}
	h.omu.Lock()
	h.outClosed = true
	h.out = nil
	h.omu.Unlock()
	h.owg.Wait()
}

// onCurrent runs fn on ps, and again on the connection that replaced it if
// the reader renewed it meanwhile.
func (h *hub) onCurrent(ps *redis.PubSub, fn func(*redis.PubSub) error) error {
	for {
		err := fn(ps)
		h.mu.RLock()
		cur := h.ps
		h.mu.RUnlock()
		if cur == nil || cur == ps {
			return err
		}
		ps = cur
	}
}

// loop reads the subscription connection ps until stop. It is the only
// reader of ps, and of the connections that replace it.
func (h *hub) loop(ps *redis.PubSub, stop, done chan struct{}) {
	defer close(done)
	backoff := minBackoff
	pinged := false
	for {
		select {
		case <-stop:
			return
		default:
		}
		check := healthyCheck
		if h.down.Load() {
			check = downCheck
		}
		msg, err := ps.ReceiveTimeout(context.Background(), check)
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			if isTimeout(err) {
				if pinged {
					// No PONG to the last PING: the link is dead but silent.
					h.markDown(errors.New("no answer to PING"))
					if ps = h.renew(ps); ps == nil {
						return
					}
					pinged = false
					continue
				}
				// Idle: check the link. The PONG comes as a message.
				if perr := ps.Ping(context.Background()); perr != nil {
					h.markDown(perr)
				} else {
					pinged = true
				}
				continue
			}
			pinged = false
			h.markDown(err)
			select {
			case <-stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff, pinged = minBackoff, false
		h.markUp()
		if m, ok := msg.(*redis.Message); ok {
			h.dispatch(m)
		}
	}
}

// renew replaces a silent subscription connection with a new one,
// subscribed to every channel of the live adapters; nil once the hub
// closed it.
func (h *hub) renew(old *redis.PubSub) *redis.PubSub {
	h.mu.Lock()
	if h.ps != old {
		h.mu.Unlock()
		return nil
	}
	ps := h.client.Subscribe(context.Background())
	h.ps = ps
	var chans, pats []string
	for ch := range h.routes {
		chans = append(chans, ch)
	}
	for p := range h.patterns {
		pats = append(pats, p)
	}
	h.mu.Unlock()
	_ = old.Close()
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.RequestsTimeout)
	defer cancel()
	if len(chans) > 0 {
		_ = ps.Subscribe(ctx, chans...)
	}
	if len(pats) > 0 {
		_ = ps.PSubscribe(ctx, pats...)
	}
	return ps
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dispatch hands a message to the adapter of its channel.
func (h *hub) dispatch(m *redis.Message) {
	h.mu.RLock()
	var a *Adapter
	if m.Pattern != "" {
		a = h.patterns[m.Pattern]
	} else {
		a = h.routes[m.Channel]
	}
	h.mu.RUnlock()
	if a == nil || a.isClosed() {
		return
	}
	a.safely("message on "+m.Channel, func() {
		switch {
		case m.Pattern != "":
			a.onBroadcast(m.Channel, []byte(m.Payload))
		case m.Channel == a.requestChannel:
			a.onRequest([]byte(m.Payload))
		default:
			a.onResponse([]byte(m.Payload))
		}
	})
}

// markDown notes that Redis is away, logging it once.
func (h *hub) markDown(err error) {
	if h.down.CompareAndSwap(false, true) {
		h.log.Warn("redisadapter: lost the connection to Redis; local delivery goes on, reconnecting",
			"err", err)
	}
}

// markUp notes that Redis answers again, logging it once.
func (h *hub) markUp() {
	if h.down.CompareAndSwap(true, false) {
		h.log.Info("redisadapter: connection to Redis restored")
	}
}

// publish sends payload to channel, failing at once while the reader
// knows Redis is away (only the reader decides that: it sees a failure
// first, and a recovery at once).
func (h *hub) publish(ctx context.Context, channel string, payload []byte) error {
	if h.down.Load() {
		return ErrUnavailable
	}
	ctx, cancel := context.WithTimeout(ctx, h.opts.RequestsTimeout)
	defer cancel()
	if err := h.client.Publish(ctx, channel, payload).Err(); err != nil {
		h.stats.errors.Add(1)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// respond queues an answer; answers go out in order.
func (h *hub) respond(channel string, payload []byte) {
	h.omu.Lock()
	if h.outClosed {
		h.omu.Unlock()
		return
	}
	h.out = append(h.out, outMsg{channel, payload})
	if h.draining {
		h.omu.Unlock()
		return
	}
	h.draining = true
	h.owg.Add(1)
	h.omu.Unlock()
	go h.drainOut()
}

func (h *hub) drainOut() {
	defer h.owg.Done()
	for {
		h.omu.Lock()
		if len(h.out) == 0 || h.outClosed {
			h.draining = false
			h.out = nil
			h.omu.Unlock()
			return
		}
		m := h.out[0]
		h.out[0] = outMsg{}
		h.out = h.out[1:]
		h.omu.Unlock()
		if err := h.publish(context.Background(), m.channel, m.payload); err != nil {
			h.log.Debug("redisadapter: answer not sent", "channel", m.channel, "err", err)
		}
	}
}
