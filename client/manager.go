package client

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/socketio/parser"
)

// Manager is one connection to a server, the JS client's Manager: a single
// Engine.IO session at a time, shared by the Sockets of every namespace
// (multiplexing), opened again after a loss with exponential backoff. Its
// methods are safe for concurrent use.
//
// Its events, registered with On: "open" func(), "close" func(reason
// string, err error), "error" func(error), "reconnect_attempt"
// func(attempt int), "reconnect" func(attempt int), "reconnect_error"
// func(error), "reconnect_failed" func().
type Manager struct {
	opts      Options
	cfg       *engineConfig
	transport *http.Transport // our own, closed with us; nil with Options.HTTPClient
	exec      *executor

	mu            sync.Mutex
	eng           *engine
	opening       bool // a connect loop runs
	loopCancel    context.CancelFunc
	skipReconnect bool
	closed        bool
	backoff       backoff
	sockets       map[string]*Socket
	handlers      map[string][]any
	wg            sync.WaitGroup // connect loop and engine closers

	decMu  sync.Mutex
	dec    parser.Decoder
	decEng *engine
}

// NewManager returns a Manager for the server at rawurl (http, https, ws
// or wss; a path there is ignored, namespaces come with Socket). It does
// not connect: Socket(...).Connect does.
func NewManager(rawurl string, opts *Options) (*Manager, error) {
	base, _, err := parseURL(rawurl)
	if err != nil {
		return nil, err
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	q := base.Query()
	for k, v := range o.Query {
		q[k] = append(q[k], v...)
	}
	base.RawQuery = ""
	m := &Manager{
		opts:     o,
		exec:     newExecutor(),
		sockets:  make(map[string]*Socket),
		handlers: make(map[string][]any),
		backoff:  backoff{min: o.ReconnectionDelay, max: o.ReconnectionDelayMax, factor: o.RandomizationFactor},
	}
	m.cfg = &engineConfig{
		base:       base,
		path:       o.Path,
		query:      q,
		header:     o.Header,
		transports: o.Transports,
		upgrade:    o.upgrade(),
		timeout:    o.Timeout,
		httpClient: o.HTTPClient,
		dialer:     o.Dialer,
	}
	if m.cfg.httpClient == nil {
		m.transport = http.DefaultTransport.(*http.Transport).Clone()
		m.cfg.httpClient = &http.Client{Transport: m.transport}
	}
	if m.cfg.dialer == nil {
		d := *websocket.DefaultDialer
		m.cfg.dialer = &d
	}
	return m, nil
}

// SocketOptions configures one namespace's Socket.
type SocketOptions struct {
	// Auth replaces Options.Auth for this namespace.
	Auth any
}

// Socket returns the Socket of namespace nsp ("/" when empty), making it
// the first time. It is not connected until its Connect.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *Socket {
	if nsp == "" {
		nsp = "/"
	} else if nsp[0] != '/' {
		nsp = "/" + nsp
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.sockets[nsp]; ok {
		return s
	}
	s := &Socket{m: m, nsp: nsp, auth: m.opts.Auth}
	if opts != nil && opts.Auth != nil {
		s.auth = opts.Auth
	}
	m.sockets[nsp] = s
	return s
}

// Transport is the current transport, "polling" or "websocket", or ""
// while there is no connection.
func (m *Manager) Transport() string {
	m.mu.Lock()
	e := m.eng
	m.mu.Unlock()
	if e == nil {
		return ""
	}
	return e.currentTransport()
}

// On registers a handler of a Manager event (see Manager).
func (m *Manager) On(event string, fn any) error {
	switch event {
	case "open", "close", "error", "reconnect_attempt", "reconnect", "reconnect_error", "reconnect_failed":
	default:
		return fmt.Errorf("socket.io client: unknown Manager event %q", event)
	}
	if err := checkLocal(event, fn); err != nil {
		return err
	}
	m.mu.Lock()
	m.handlers[event] = append(m.handlers[event], fn)
	m.mu.Unlock()
	return nil
}

// fire runs the handlers of a Manager event on the executor.
func (m *Manager) fire(event string, vals ...any) {
	m.exec.do(func() {
		m.mu.Lock()
		hs := m.handlers[event]
		m.mu.Unlock()
		for _, fn := range hs {
			m.safely(event, func() error { callLocal(fn, vals...); return nil }, nil)
		}
	})
}

// safely runs user code; a panic or an error goes to onErr handlers, or
// to the log when there are none.
func (m *Manager) safely(what string, fn func() error, s *Socket) {
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("socket.io client: %q handler panicked: %v\n%s", what, p, debug.Stack())
			}
		}()
		err = fn()
	}()
	if err == nil {
		return
	}
	var hs []func(error)
	if s != nil {
		s.mu.Lock()
		hs = s.onErr
		s.mu.Unlock()
	}
	if len(hs) == 0 {
		m.opts.Logger.Warn("socket.io client: handler failed", "event", what, "err", err)
		return
	}
	for _, h := range hs {
		func() {
			defer func() { _ = recover() }()
			h(err)
		}()
	}
}

// engine is the current session, or nil.
func (m *Manager) engine() *engine {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.eng
}

// open gets a connection going for s: at once when there is one,
// else by starting the connect loop.
func (m *Manager) open(s *Socket) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.skipReconnect = false
	e := m.eng
	m.mu.Unlock()
	if e != nil {
		s.onOpen(e)
		return nil
	}
	m.startLoop(false)
	return nil
}

// startLoop starts the connect loop unless one runs or a session is open.
func (m *Manager) startLoop(reconnect bool) {
	m.mu.Lock()
	if m.closed || m.opening || m.eng != nil {
		m.mu.Unlock()
		return
	}
	m.opening = true
	ctx, cancel := context.WithCancel(context.Background())
	m.loopCancel = cancel
	m.wg.Add(1)
	m.mu.Unlock()
	go m.connectLoop(ctx, cancel, reconnect)
}

// connectLoop opens a session, trying again after backoff delays when
// reconnection is on.
func (m *Manager) connectLoop(ctx context.Context, cancel context.CancelFunc, reconnect bool) {
	defer m.wg.Done()
	defer func() {
		cancel()
		m.mu.Lock()
		m.opening = false
		m.loopCancel = nil
		m.mu.Unlock()
	}()
	for first := true; ; first = false {
		retry := reconnect || !first
		attempt := 0
		if retry {
			m.mu.Lock()
			max := m.opts.ReconnectionAttempts
			if max > 0 && m.backoff.attempts >= max {
				m.backoff.reset()
				m.mu.Unlock()
				m.fire("reconnect_failed")
				m.socketsConnectError(ErrReconnectFailed)
				return
			}
			delay := m.backoff.duration()
			attempt = m.backoff.attempts
			m.mu.Unlock()
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
			m.fire("reconnect_attempt", attempt)
		}
		err := m.openOnce(ctx)
		if err == nil {
			if retry {
				m.mu.Lock()
				m.backoff.reset()
				m.mu.Unlock()
				m.fire("reconnect", attempt)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		m.fire("error", err)
		m.socketsConnectError(err)
		if retry {
			m.fire("reconnect_error", err)
		}
		m.mu.Lock()
		stop := m.closed || m.skipReconnect || !m.opts.reconnection()
		m.mu.Unlock()
		if stop {
			return
		}
	}
}

// openOnce opens one session and sends the CONNECT of every active
// socket.
func (m *Manager) openOnce(ctx context.Context) error {
	e, err := openEngine(ctx, m.cfg, m)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed || m.skipReconnect || ctx.Err() != nil {
		m.mu.Unlock()
		e.end("", nil, false)
		return ErrClosed
	}
	m.eng = e
	socks := m.socketList()
	m.mu.Unlock()
	e.start()
	m.fire("open")
	for _, s := range socks {
		if s.active.Load() {
			s.onOpen(e)
		}
	}
	return nil
}

func (m *Manager) socketList() []*Socket {
	out := make([]*Socket, 0, len(m.sockets))
	for _, s := range m.sockets {
		out = append(out, s)
	}
	return out
}

// socketsConnectError tells the active sockets not connected yet that
// the connection failed.
func (m *Manager) socketsConnectError(err error) {
	m.mu.Lock()
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		s.onConnectFailure(err)
	}
}

// engineMessage implements engineEvents: it decodes Socket.IO packets and
// routes them to their namespace's socket.
func (m *Manager) engineMessage(e *engine, data []byte, binary bool) {
	m.decMu.Lock()
	defer m.decMu.Unlock()
	if m.engine() != e {
		return
	}
	if m.decEng != e {
		m.dec.Reset()
		m.decEng = e
	}
	pkt, err := m.dec.Add(data, binary)
	if err != nil {
		e.fail(reasonParseError, err)
		return
	}
	if pkt == nil {
		return // waiting for attachments
	}
	m.mu.Lock()
	s := m.sockets[pkt.Namespace]
	m.mu.Unlock()
	if s != nil {
		s.onPacket(e, pkt)
	}
}

// engineClose implements engineEvents: the session is lost. Sockets
// disconnect with the reason, and the Manager reconnects unless told not
// to.
func (m *Manager) engineClose(e *engine, reason string, err error) {
	m.mu.Lock()
	if m.eng != e {
		m.mu.Unlock()
		return
	}
	m.eng = nil
	reconnect := !m.closed && !m.skipReconnect && m.opts.reconnection()
	socks := m.socketList()
	m.mu.Unlock()
	m.fire("close", reason, err)
	for _, s := range socks {
		s.onEngineClose(reason)
	}
	if reconnect {
		m.startLoop(true)
	}
}

// maybeCloseIdle closes the session once no socket wants it, as the JS
// client does when its last socket disconnects.
func (m *Manager) maybeCloseIdle() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for _, s := range m.sockets {
		if s.active.Load() {
			m.mu.Unlock()
			return
		}
	}
	m.skipReconnect = true
	if m.loopCancel != nil {
		m.loopCancel()
	}
	e := m.eng
	m.eng = nil
	if e != nil {
		m.wg.Add(1)
	}
	m.mu.Unlock()
	if e != nil {
		e.close()
		go func() {
			defer m.wg.Done()
			e.wait()
		}()
	}
}

// Close disconnects every socket ("io client disconnect"), closes the
// connection and waits for every goroutine of the Manager, the handlers'
// included; called from a handler, it does not wait for that handler. The
// Manager cannot be used again.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		m.exec.wait()
		return nil
	}
	m.closed = true
	m.skipReconnect = true
	if m.loopCancel != nil {
		m.loopCancel()
	}
	e := m.eng
	m.eng = nil
	socks := m.socketList()
	m.mu.Unlock()
	for _, s := range socks {
		s.onManagerClose(e)
	}
	if e != nil {
		e.close()
		e.wait()
	}
	m.wg.Wait()
	if m.transport != nil {
		m.transport.CloseIdleConnections()
	}
	m.exec.wait()
	return nil
}
