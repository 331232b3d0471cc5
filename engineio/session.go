package engineio

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// Receiver is what the layer above gives each session: it is told of each
// message and, once, of the close. OnMessage calls for one session never
// overlap; none starts after OnClose has begun, though OnClose may run while
// a last OnMessage is still returning. data belongs to the receiver.
type Receiver interface {
	OnMessage(data []byte, binary bool)
	OnClose(reason Reason, err error)
}

// ErrQueueFull is the error given with ReasonQueueFull.
var ErrQueueFull = errors.New("engine.io: send queue over its limit")

type sessionState uint8

const (
	stateOpen    sessionState = iota
	stateClosing              // flushing what is queued, then closing
	stateClosed
)

type transportKind uint8

const (
	kindPolling transportKind = iota
	kindWebSocket
)

const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

func (k transportKind) String() string {
	if k == kindWebSocket {
		return transportWebSocket
	}
	return transportPolling
}

// Session is one client's Engine.IO connection, across its transports. Its
// methods are safe for concurrent use.
type Session struct {
	id   string
	ip   string // the client address limits count
	srv  *Server
	hs   *Handshake
	recv Receiver

	recvMu sync.Mutex // serializes OnMessage
	burst  bool       // the message being delivered came in a polled burst; under recvMu

	mu          sync.Mutex
	state       sessionState
	kind        transportKind
	queue       []*Message
	spare       []*Message // the last batch's backing array, reused
	queued      int        // bytes in queue
	closeReason Reason
	closeErr    error // with closeReason, once closed

	poll chan struct{} // set while a GET waits for data
	// pollDuringProbe: that GET came while a WebSocket was offered.
	pollDuringProbe bool
	posting         bool // a POST is being read

	ws      *wsConn // the WebSocket transport, once upgraded or direct
	probe   *wsConn // a WebSocket offered for upgrade
	probed  bool    // the probe answered 2probe: polls are released at once
	writing bool    // a writer, inline or goroutine, is at work
	pending []byte  // the unwritten rest of a batch; the writer's alone

	heartbeat    *time.Timer
	upgradeTimer *time.Timer // while a probe is offered
	waitingPong  bool
	closeTimer   *time.Timer

	done     chan struct{} // made by Done, closed once closed
	finished bool          // close has run to its end
}

func newSessionID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID is the session id, random and unguessable.
func (s *Session) ID() string { return s.id }

// Handshake is the request that opened the session.
func (s *Session) Handshake() *Handshake { return s.hs }

// Transport is the current transport: "polling" or "websocket".
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kind.String()
}

// Done is closed once the session is closed. The channel is made on
// demand: an idle session should not hold one nobody waits on.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		if s.finished {
			return closedChan
		}
		s.done = make(chan struct{})
	}
	return s.done
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Send queues m for the client and writes it at once if the connection
// takes it without blocking. It never blocks. It fails once the session is
// closing; a queue over its bound closes the session with ReasonQueueFull.
func (s *Session) Send(m *Message) error { return s.SendBatch([]*Message{m}) }

// SendBatch is Send for several messages, in order, with one wake-up of
// the transport: a Socket.IO packet and its binary attachments go together.
func (s *Session) SendBatch(ms []*Message) error { return s.add(ms, true) }

// Queue queues messages like SendBatch, but never writes on the caller's
// goroutine: a writer goroutine does. For broadcasts: the receivers' writes
// then run on all cores, and under load each writer sends many packets in
// one system call.
func (s *Session) Queue(ms ...*Message) error { return s.add(ms, false) }

// add appends ms to the queue, within its bound, and gets it moving: at
// once on this goroutine when inline allows it, else by a writer.
func (s *Session) add(ms []*Message, inline bool) error {
	n := 0
	for _, m := range ms {
		n += m.size()
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if s.queued+n > s.srv.opts.MaxQueuedBytes {
		s.mu.Unlock()
		s.closeNow(ReasonQueueFull, ErrQueueFull)
		return ErrQueueFull
	}
	s.queue = append(s.queue, ms...)
	s.queued += n
	if inline {
		s.flushLocked()
		return nil
	}
	s.kickLocked()
	s.mu.Unlock()
	return nil
}

// flushLocked gets the queue moving and unlocks s.mu. On a WebSocket that
// takes writes without blocking, the caller writes at once, on its own
// goroutine: no writer goroutine to start and wake for the common case of a
// small packet to a client that keeps up.
func (s *Session) flushLocked() {
	c := s.ws
	if s.kind != kindWebSocket || c == nil || s.writing || !c.inline() {
		s.kickLocked()
		s.mu.Unlock()
		return
	}
	s.writing = true
	s.mu.Unlock()
	if !s.writeInline(c) {
		s.srv.wg.Add(1)
		go s.writeLoop(c)
	}
}

func (s *Session) enqueueLocked(m *Message) {
	s.queue = append(s.queue, m)
	s.queued += m.size()
	s.kickLocked()
}

// kickLocked gets the queue moving: it wakes a waiting poll, or starts a
// writer goroutine on WebSocket when none runs.
func (s *Session) kickLocked() {
	switch s.kind {
	case kindPolling:
		if s.poll != nil {
			select {
			case s.poll <- struct{}{}:
			default:
			}
		}
	case kindWebSocket:
		if s.ws != nil && !s.writing {
			s.writing = true
			s.srv.wg.Add(1)
			go s.writeLoop(s.ws)
		}
	}
}

// takeLocked removes and returns everything queued.
func (s *Session) takeLocked() []*Message {
	batch := s.queue
	s.queue = s.spare[:0]
	s.spare = nil
	s.queued = 0
	return batch
}

// recycle gives a written batch's array back for the next one.
func (s *Session) recycle(batch []*Message) {
	clear(batch)
	s.mu.Lock()
	if s.spare == nil && cap(batch) <= 64 {
		s.spare = batch[:0]
	}
	s.mu.Unlock()
}

// Close flushes what is queued, tells the client, and closes the session
// with ReasonForcedClose.
func (s *Session) Close() { s.closeGracefully(ReasonForcedClose) }

func (s *Session) closeGracefully(reason Reason) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosing
	s.closeReason = reason
	if s.kind == kindPolling {
		// The close packet goes on the first poll that finds the queue
		// empty, never beside queued packets: a client handles close at once
		// and a packet before it (Socket.IO's DISCONNECT) a tick later, as it
		// would lose it. A client that never polls again is let go after the
		// heartbeat's whole period.
		s.closeTimer = time.AfterFunc(s.srv.opts.PingInterval+s.srv.opts.PingTimeout, func() {
			s.closeNow(reason, nil)
		})
	}
	if s.kind == kindWebSocket && s.ws != nil && !s.writing {
		s.writing = true
		s.srv.wg.Add(1)
		go s.writeLoop(s.ws)
	} else {
		s.kickLocked()
	}
	s.mu.Unlock()
}

// closeNow closes the session at once, dropping what is queued.
func (s *Session) closeNow(reason Reason, err error) { s.close(reason, err, false) }

// close closes the session. With closeFrame, its WebSocket gets a normal
// close frame first: only the writer goroutine may ask for it, as no other
// may write to the connection. The state changes before any I/O, so the
// reader, failing once the peer answers the close, cannot change the
// reason.
func (s *Session) close(reason Reason, err error, closeFrame bool) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.closeReason = reason
	s.closeErr = err
	if s.heartbeat != nil {
		s.heartbeat.Stop()
	}
	if s.closeTimer != nil {
		s.closeTimer.Stop()
	}
	s.stopUpgradeTimerLocked()
	poll, ws, probe := s.poll, s.ws, s.probe
	recv := s.recv // nil while the session is being accepted: newSession tells it
	clientClosedPolling := reason == ReasonTransportClose && s.kind == kindPolling && poll == nil
	s.queue, s.spare, s.queued = nil, nil, 0
	s.mu.Unlock()

	if poll != nil {
		select {
		case poll <- struct{}{}:
		default:
		}
	}
	if ws != nil {
		if closeFrame {
			ws.closeGracefully()
		} else {
			ws.close()
		}
	}
	if probe != nil {
		probe.close()
	}
	s.srv.remove(s)
	if clientClosedPolling {
		s.srv.gone.add(s.id)
	}
	s.srv.opts.Logger.Debug("engine.io session closed", "sid", s.id, "reason", string(reason), "err", err)
	s.srv.stats.close(reason)
	if recv != nil {
		recv.OnClose(reason, err)
	}
	s.mu.Lock()
	s.finished = true
	done := s.done
	s.mu.Unlock()
	if done != nil {
		close(done)
	}
}

// deliver hands one message to the receiver.
func (s *Session) deliver(data []byte, binary, burst bool) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.mu.Lock()
	open := s.state != stateClosed
	s.mu.Unlock()
	if open {
		s.srv.stats.in(len(data))
		s.burst = burst
		s.recv.OnMessage(data, binary)
		s.burst = false
	}
}

// ReadIdler may be implemented by a Receiver. When InBurst was true during
// OnMessage, OnReadIdle follows, on the same goroutine, once the burst of
// reads is over and the connection is watched again: work that OnMessage
// queued can run there, and even block, without holding up the messages
// that come next (they are read by another goroutine meanwhile). It saves
// starting a goroutine per message.
type ReadIdler interface {
	OnReadIdle()
}

// InBurst reports, during OnMessage only, whether the message came in a
// burst of reads that a call to OnReadIdle will close (a WebSocket watched
// by the server's poller). Otherwise the receiver must not wait for one.
func (s *Session) InBurst() bool { return s.burst }

// readIdle ends a burst of reads on the session's WebSocket c.
func (s *Session) readIdle(c *wsConn) {
	if ri, ok := s.recv.(ReadIdler); ok {
		s.mu.Lock()
		current := s.ws == c
		s.mu.Unlock()
		if current {
			ri.OnReadIdle()
		}
	}
}

// Buffered is the number of bytes queued for the client and not yet
// written: volatile packets are dropped while it is not zero.
func (s *Session) Buffered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued
}
