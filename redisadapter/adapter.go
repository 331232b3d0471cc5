package redisadapter

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sori-dev/sori/adapter"
)

// Options configures the adapters New makes. Zero fields take the
// reference's defaults.
type Options struct {
	// Key prefixes every channel ("socket.io"), as the reference's key
	// option: servers share a cluster when they share a key.
	Key string
	// RequestsTimeout bounds each request to the other servers (5s), as the
	// reference's requestsTimeout.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel sends answers to the requesting
	// server's own channel rather than the namespace's shared one, as the
	// reference's option of that name. Either way this adapter reads both.
	PublishOnSpecificResponseChannel bool
	// StartTimeout bounds the PING that New sends (5s).
	StartTimeout time.Duration
	// Logger receives the adapter's logs (slog.Default()).
	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Key == "" {
		c.Key = "socket.io"
	}
	if c.RequestsTimeout <= 0 {
		c.RequestsTimeout = 5 * time.Second
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Errors. A request to the other servers that does not complete in time, or
// cannot be sent at all, fails with a *TimeoutError, which matches
// ErrTimeout with errors.Is (and ErrUnavailable when Redis could not be
// reached).
var (
	// ErrTimeout: some servers did not answer in time.
	ErrTimeout = errors.New("redisadapter: timeout reached while waiting for the other servers")
	// ErrUnavailable: Redis could not be reached; only this server was.
	ErrUnavailable = errors.New("redisadapter: Redis unavailable")
	// ErrClosed: the adapter was closed.
	ErrClosed = errors.New("redisadapter: adapter closed")
)

// TimeoutError is the error of a cluster request that did not complete.
type TimeoutError struct {
	Op        string // the operation: "fetchSockets", "allRooms", "serverSideEmit", ...
	Got, Want int    // the answers that came, and those awaited
	Cause     error  // why, when it is not the clock: a Redis error, ErrUnavailable, a context error
}

func (e *TimeoutError) Error() string {
	s := "redisadapter: " + e.Op + ": timeout reached"
	if e.Want > 0 {
		s += fmt.Sprintf(": %d of %d responses", e.Got, e.Want)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// Unwrap is the cause.
func (e *TimeoutError) Unwrap() error { return e.Cause }

// Timeout is true, as for net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// New checks that Redis answers (a PING bounded by StartTimeout) and
// returns the factory of the namespaces' adapters, for sori.Options.Adapter.
// Give each sori.Server its own factory: they count as one server
// otherwise. client is not closed by the adapters.
//
// Redis Cluster is not supported (PUBSUB NUMSUB counts per node): use one
// Redis server, or a failover client (Sentinel).
func New(client redis.UniversalClient, opts *Options) (func(adapter.Namespace) adapter.Adapter, error) {
	if client == nil {
		return nil, errors.New("redisadapter: nil Redis client")
	}
	o := opts.withDefaults()
	ctx, cancel := context.WithTimeout(context.Background(), o.StartTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("redisadapter: Redis unreachable%s: %w", describe(client), err)
	}
	h := &hub{client: client, opts: o, log: o.Logger,
		routes: make(map[string]*Adapter), patterns: make(map[string]*Adapter)}
	return h.newAdapter, nil
}

func describe(client redis.UniversalClient) string {
	if c, ok := client.(*redis.Client); ok {
		return " at " + c.Options().Addr
	}
	return ""
}

// Adapter is the Redis adapter of one namespace. Local state (rooms,
// sockets) is the embedded in-memory adapter's; broadcasts and requests
// reach the other servers through Redis.
type Adapter struct {
	*adapter.Memory
	h       *hub
	nsp     adapter.Namespace
	uid     string
	log     *slog.Logger
	timeout time.Duration

	channel                 string // broadcasts, "socket.io#/#"
	pattern                 string // the pattern of broadcast channels
	requestChannel          string
	responseChannel         string
	specificResponseChannel string

	closing chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	requests map[string]*pending
	acks     map[string]*ackRequest

	// The server-side events of the other servers run here, one at a time
	// and in order, off the receiving goroutine.
	xmu      sync.Mutex
	tasks    []func()
	draining bool
}

func (h *hub) newAdapter(nsp adapter.Namespace) adapter.Adapter {
	name := nsp.Name()
	k := h.opts.Key
	a := &Adapter{
		Memory:   adapter.NewMemory(nsp),
		h:        h,
		nsp:      nsp,
		uid:      newID(),
		log:      h.log.With("nsp", name),
		timeout:  h.opts.RequestsTimeout,
		closing:  make(chan struct{}),
		requests: make(map[string]*pending),
		acks:     make(map[string]*ackRequest),
	}
	a.channel = k + "#" + name + "#"
	a.pattern = escapeGlob(a.channel) + "*"
	a.requestChannel = k + "-request#" + name + "#"
	a.responseChannel = k + "-response#" + name + "#"
	a.specificResponseChannel = a.responseChannel + a.uid + "#"
	h.register(a)
	return a
}

// UID is the server's id in the cluster for this namespace.
func (a *Adapter) UID() string { return a.uid }

// Close stops the adapter: it leaves its channels, fails the pending
// requests with ErrClosed and waits for its goroutines. The last adapter of
// a factory to close releases its Redis subscription connection.
func (a *Adapter) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	close(a.closing)
	a.mu.Unlock()
	a.h.unregister(a)
	a.wg.Wait()
	a.xmu.Lock()
	a.tasks = nil
	a.xmu.Unlock()
	return nil
}

func (a *Adapter) isClosed() bool {
	select {
	case <-a.closing:
		return true
	default:
		return false
	}
}

// exec queues a task on the adapter's executor.
func (a *Adapter) exec(task func()) {
	a.xmu.Lock()
	a.tasks = append(a.tasks, task)
	if a.draining {
		a.xmu.Unlock()
		return
	}
	a.draining = true
	a.xmu.Unlock()
	go a.drain()
}

func (a *Adapter) drain() {
	for {
		a.xmu.Lock()
		if len(a.tasks) == 0 || a.isClosed() {
			a.draining = false
			a.tasks = nil
			a.xmu.Unlock()
			return
		}
		task := a.tasks[0]
		a.tasks[0] = nil
		a.tasks = a.tasks[1:]
		a.xmu.Unlock()
		a.safely("server-side event", task)
	}
}

// safely runs fn, logging a panic rather than dying of it.
func (a *Adapter) safely(what string, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("redisadapter: panic", "in", what, "panic", fmt.Sprint(p))
		}
	}()
	fn()
}

const idChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// newID is a random id of 6 letters and digits, as the reference's uid2(6).
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b[:])
}

// escapeGlob quotes the characters that PSUBSCRIBE patterns give a meaning.
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

var _ adapter.Adapter = (*Adapter)(nil)
