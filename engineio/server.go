package engineio

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/gorilla/websocket"
)

// Server is an Engine.IO server and an http.Handler.
type Server struct {
	opts     Options
	upgrader websocket.Upgrader
	accept   func(*Session) Receiver

	mu       sync.RWMutex
	sessions map[string]*Session
	perIP    map[string]int // open sessions by client address
	closing  bool
	draining bool // Close waits on wg: no more Add from zero
	gone     gone // polling sessions just closed by their client

	pollMu      sync.Mutex
	poll        *poller // watches idle WebSockets (Linux)
	pollStopped bool

	wg    sync.WaitGroup // connection readers, writers and waiting polls
	stats counters
}

// NewServer returns a server with opts; nil means every default.
func NewServer(opts *Options) *Server {
	srv := &Server{opts: opts.withDefaults(), sessions: make(map[string]*Session), perIP: make(map[string]int)}
	srv.upgrader = websocket.Upgrader{
		ReadBufferSize:    1024,
		WriteBufferPool:   &sync.Pool{}, // idle connections hold no write buffer
		EnableCompression: srv.opts.PerMessageDeflate,
		CheckOrigin:       srv.opts.CheckOrigin,
		Error:             func(http.ResponseWriter, *http.Request, int, error) {},
	}
	if srv.upgrader.CheckOrigin == nil {
		srv.upgrader.CheckOrigin = srv.checkOrigin
	}
	srv.upgrader.Error = func(w http.ResponseWriter, _ *http.Request, _ int, _ error) {
		writeError(w, CodeBadRequest, "")
	}
	return srv
}

// Options returns the options in force, defaults filled in.
func (srv *Server) Options() Options { return srv.opts }

// OnConnection sets the function that takes each new session and returns
// its Receiver. It runs before the client gets the handshake, so no message
// can come before it returns. Set it before serving.
func (srv *Server) OnConnection(accept func(*Session) Receiver) { srv.accept = accept }

// Len is the number of open sessions.
func (srv *Server) Len() int {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return len(srv.sessions)
}

// Session returns the open session with the id, or nil.
func (srv *Server) Session(id string) *Session {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	return srv.sessions[id]
}

// ServeHTTP answers handshakes, polls, posts and WebSocket requests.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.opts.CORS != nil && srv.opts.CORS.apply(w, r) {
		return
	}
	q := r.URL.Query()
	transport := q.Get("transport")
	if !srv.opts.allows(transport) {
		writeError(w, CodeUnknownTransport, "")
		return
	}
	isWS := websocket.IsWebSocketUpgrade(r)
	if sid := q.Get("sid"); sid != "" {
		s := srv.Session(sid)
		if s == nil {
			if r.Method == http.MethodGet && transport == transportPolling && !isWS && srv.gone.take(sid) {
				srv.writePayload(w, r, []*Message{noopMessage})
				return
			}
			writeError(w, CodeUnknownSID, "")
			return
		}
		if q.Get("EIO") != "4" {
			writeError(w, CodeBadRequest, "")
			return
		}
		switch {
		case isWS && transport == transportWebSocket:
			if srv.opts.DisallowUpgrades || !srv.allowed(w, r) {
				if srv.opts.DisallowUpgrades {
					writeError(w, CodeBadRequest, "")
				}
				return
			}
			if !srv.enter(w) {
				return
			}
			defer srv.wg.Done()
			srv.serveUpgrade(w, r, s)
		case isWS || transport != s.Transport():
			writeError(w, CodeBadRequest, "")
		case r.Method == http.MethodGet:
			if !srv.enter(w) {
				return
			}
			defer srv.wg.Done()
			srv.servePoll(w, r, s)
		case r.Method == http.MethodPost:
			srv.servePost(w, r, s)
		default:
			writeError(w, CodeBadRequest, "")
		}
		return
	}
	if r.Method != http.MethodGet {
		writeError(w, CodeBadHandshakeMethod, "")
		return
	}
	if transport == transportWebSocket && !isWS {
		writeError(w, CodeBadRequest, "")
		return
	}
	if !srv.allowed(w, r) {
		return
	}
	if q.Get("EIO") != "4" {
		writeError(w, CodeUnsupportedProtocolVersion, "")
		return
	}
	if !srv.checkLimits(w, srv.clientIP(r)) {
		return
	}
	if isWS {
		if !srv.enter(w) {
			return
		}
		defer srv.wg.Done()
		srv.serveWebSocket(w, r)
		return
	}
	srv.handshakePolling(w, r)
}

// enter counts a request that may outlive a call to Close, or answers it
// when Close is already waiting for the others: a WaitGroup must not go up
// from zero while it is waited on.
func (srv *Server) enter(w http.ResponseWriter) bool {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	if srv.draining {
		http.Error(w, "server is closing", http.StatusServiceUnavailable)
		return false
	}
	srv.wg.Add(1)
	return true
}

// allowed runs Options.AllowRequest, answering a refusal.
func (srv *Server) allowed(w http.ResponseWriter, r *http.Request) bool {
	if srv.opts.AllowRequest == nil {
		return true
	}
	err := srv.opts.AllowRequest(r)
	if err == nil {
		return true
	}
	var re *RequestError
	if errors.As(err, &re) {
		writeError(w, re.Code, re.Message)
	} else {
		writeError(w, CodeForbidden, err.Error())
	}
	return false
}

func (srv *Server) handshakePolling(w http.ResponseWriter, r *http.Request) {
	s, err := srv.newSession(r, kindPolling)
	if err != nil {
		writeLimitError(w, err)
		return
	}
	if srv.opts.Cookie != nil {
		ck := *srv.opts.Cookie
		ck.Value = s.id
		http.SetCookie(w, &ck)
	}
	s.mu.Lock()
	// What OnConnection sent comes with the handshake; if it closed the
	// session, the close packet follows on the next poll.
	batch := append([]*Message{s.openMessage()}, s.takeLocked()...)
	s.mu.Unlock()
	s.startHeartbeat()
	srv.writePayload(w, r, batch)
}

// newSession registers a session and hands it to the layer above. It
// fails when the server is closing or a connection limit is reached.
func (srv *Server) newSession(r *http.Request, kind transportKind) (*Session, error) {
	s := &Session{
		id:   newSessionID(),
		srv:  srv,
		kind: kind,
		ip:   srv.clientIP(r),
		hs:   newHandshake(r, kind),
	}
	srv.mu.Lock()
	if srv.closing {
		srv.mu.Unlock()
		return nil, ErrTooManyConnections
	}
	if err := srv.overLimitLocked(s.ip); err != nil {
		srv.mu.Unlock()
		return nil, err
	}
	srv.sessions[s.id] = s
	srv.perIP[s.ip]++
	srv.mu.Unlock()
	var recv Receiver
	if srv.accept != nil {
		recv = srv.accept(s)
	}
	if recv == nil {
		recv = discard{}
	}
	// The session is registered, so Close (or the receiver itself, from
	// accept) may have closed it meanwhile, with no receiver to tell: it
	// is told now, and the handshake refused.
	s.mu.Lock()
	s.recv = recv
	closed, reason, err := s.state == stateClosed, s.closeReason, s.closeErr
	s.mu.Unlock()
	if closed {
		recv.OnClose(reason, err)
		return nil, ErrSessionClosed
	}
	return s, nil
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
		if srv.perIP[s.ip]--; srv.perIP[s.ip] <= 0 {
			delete(srv.perIP, s.ip)
		}
	}
	srv.mu.Unlock()
}

// Close stops new sessions, closes every session (flushing what each has
// queued, with ReasonServerShutdown) and waits for their goroutines. When
// ctx ends first, what remains is cut off and ctx's error returned.
func (srv *Server) Close(ctx context.Context) error {
	srv.mu.Lock()
	srv.closing = true
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.closeGracefully(ReasonServerShutdown)
	}
	var err error
	for _, s := range all {
		select {
		case <-s.Done():
		case <-ctx.Done():
			err = ctx.Err()
			s.closeNow(ReasonServerShutdown, err)
		}
	}
	srv.mu.Lock()
	srv.draining = true
	srv.mu.Unlock()
	srv.stopReaders()
	waited := make(chan struct{})
	go func() { srv.wg.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		return ctx.Err()
	}
	srv.stopPoller()
	return err
}

// enterQuiet counts a goroutine the server starts by itself (a polled
// connection's reader), unless Close is already waiting for the others.
func (srv *Server) enterQuiet() bool {
	srv.mu.RLock()
	defer srv.mu.RUnlock()
	if srv.draining {
		return false
	}
	srv.wg.Add(1)
	return true
}

type discard struct{}

func (discard) OnMessage([]byte, bool) {}
func (discard) OnClose(Reason, error)  {}
