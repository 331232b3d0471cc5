package engineio

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio/parser"
)

// wsConn is one WebSocket connection. gorilla/websocket does the
// handshake. Sori writes data frames itself, so that a whole queue goes out
// in one system call. Reading is of two kinds:
//   - polled (Linux, no permessage-deflate): the server's poller watches
//     the connection and a goroutine exists only while bytes are there to
//     read; Sori decodes the frames (wsread.go);
//   - otherwise a goroutine reads with gorilla, which also inflates.
type wsConn struct {
	srv      *Server
	conn     *websocket.Conn // gorilla's; nil once polled
	raw      net.Conn
	deflate  bool // permessage-deflate negotiated: writes go through gorilla
	closeOne sync.Once
	events   wsEvents

	// Polled reading.
	polled bool
	poller *poller
	closed atomic.Bool
	rc     syscall.RawConn
	fd     int32
	fr     frameReader
}

// wsEvents is told what a WebSocket reads: the session it belongs to, as
// its transport or as a probe for an upgrade.
type wsEvents interface {
	wsPacket(c *wsConn, p parser.Packet)
	wsClosed(c *wsConn, err error)
	// wsReadIdle ends a burst of polled reads; see ReadIdler.
	wsReadIdle(c *wsConn)
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// write sends a batch of packets and returns the bytes written.
func (c *wsConn) write(batch []*Message) (int, error) {
	deadline := time.Now().Add(c.srv.opts.WriteTimeout)
	if c.deflate {
		n := 0
		for _, m := range batch {
			c.conn.EnableWriteCompression(len(m.data) >= c.srv.opts.CompressionThreshold)
			_ = c.conn.SetWriteDeadline(deadline)
			var err error
			if m.binary {
				err = c.conn.WriteMessage(websocket.BinaryMessage, m.data)
			} else {
				err = c.conn.WriteMessage(websocket.TextMessage, m.text)
			}
			if err != nil {
				return n, err
			}
			n += len(m.data)
		}
		return n, nil
	}
	bp := framePool.Get().(*[]byte)
	buf := appendFrames((*bp)[:0], batch)
	_ = c.raw.SetWriteDeadline(deadline)
	n, err := c.raw.Write(buf)
	putFrameBuf(bp, buf)
	return n, err
}

// appendFrames frames a batch of packets.
func appendFrames(buf []byte, batch []*Message) []byte {
	for _, m := range batch {
		if m.binary {
			buf = appendFrame(buf, opBinary, m.data)
		} else {
			buf = appendFrame(buf, opText, m.text)
		}
	}
	return buf
}

func putFrameBuf(bp *[]byte, buf []byte) {
	if cap(buf) <= 64<<10 { // keep the pool's buffers small
		*bp = buf[:0]
		framePool.Put(bp)
	}
}

// writeControl writes one control frame. Frames are written whole by one
// Write each, so this may run beside the writer goroutine.
func (c *wsConn) writeControl(op byte, payload []byte) {
	var b [2 + 125]byte
	_ = c.raw.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.raw.Write(appendFrame(b[:0], op, payload))
}

// closeGracefully sends a normal close frame, then closes.
func (c *wsConn) closeGracefully() { c.closeWith(websocket.CloseNormalClosure, "") }

// closeWith sends a close frame with code and text, then closes.
func (c *wsConn) closeWith(code int, text string) {
	payload := binary.BigEndian.AppendUint16(make([]byte, 0, 125), uint16(code))
	c.writeControl(opClose, append(payload, text[:min(len(text), 123)]...))
	c.close()
}

func (c *wsConn) close() {
	c.closeOne.Do(func() {
		c.closed.Store(true)
		if c.polled {
			c.poller.remove(c)
		}
		_ = c.raw.Close()
	})
}

// read returns the next packet, with gorilla.
func (c *wsConn) read() (parser.Packet, error) {
	mt, data, err := c.conn.ReadMessage()
	if err != nil {
		return parser.Packet{}, err
	}
	if mt == websocket.BinaryMessage {
		return parser.Packet{Type: parser.Message, Data: data, Binary: true}, nil
	}
	return parser.DecodeText(data)
}

// startReading hands what c reads to ev, from now on.
func (c *wsConn) startReading(ev wsEvents) {
	c.events = ev
	if c.startPolling() {
		return
	}
	c.srv.wg.Add(1) // the caller, a request being served, holds a count
	go c.readLoop()
}

func (c *wsConn) readLoop() {
	defer c.srv.wg.Done()
	for {
		p, err := c.read()
		if err != nil {
			c.events.wsClosed(c, err)
			return
		}
		c.events.wsPacket(c, p)
	}
}

var errPeerClosed = errors.New("engine.io: websocket closed by the client")

// onFrame handles a frame decoded by the polled reader.
func (c *wsConn) onFrame(op byte, payload []byte) error {
	switch op {
	case opText:
		p, err := parser.DecodeText(payload)
		if err != nil {
			return err
		}
		c.events.wsPacket(c, p)
	case opBinary:
		c.events.wsPacket(c, parser.Packet{Type: parser.Message, Data: payload, Binary: true})
	case opPing:
		c.writeControl(opPong, payload)
	case opClose:
		code := payload
		if len(code) > 2 {
			code = code[:2]
		}
		c.writeControl(opClose, code)
		return errPeerClosed
	}
	return nil
}

// readFailed ends a polled connection whose read or frames failed.
func (c *wsConn) readFailed(err error) {
	switch {
	case errors.Is(err, errWSTooBig):
		c.writeControl(opClose, binary.BigEndian.AppendUint16(nil, websocket.CloseMessageTooBig))
	case errors.Is(err, errWSProtocol):
		c.writeControl(opClose, binary.BigEndian.AppendUint16(nil, websocket.CloseProtocolError))
	}
	c.events.wsClosed(c, err)
}

// readReason maps a read error to the reason the session closes with.
func readReason(err error) Reason {
	switch {
	case errors.Is(err, parser.ErrInvalid):
		return ReasonParseError
	case errors.Is(err, websocket.ErrReadLimit), errors.Is(err, errWSTooBig), errors.Is(err, errWSProtocol):
		return ReasonTransportError
	case errors.Is(err, errPeerClosed), errors.Is(err, io.EOF):
		return ReasonTransportClose
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == websocket.CloseMessageTooBig {
		return ReasonTransportError
	}
	return ReasonTransportClose
}

func (srv *Server) acceptWebSocket(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	conn, err := srv.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err // gorilla has answered the request
	}
	conn.SetReadLimit(int64(srv.opts.MaxHTTPBufferSize) + 1) // +1: the packet type
	c := &wsConn{srv: srv, conn: conn, raw: conn.NetConn()}
	c.fr.max = srv.opts.MaxHTTPBufferSize + 1
	// gorilla accepts permessage-deflate whenever it is enabled and offered.
	c.deflate = srv.opts.PerMessageDeflate && offersDeflate(r)
	c.preparePolling()
	return c, nil
}

func offersDeflate(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-Websocket-Extensions") {
		if strings.Contains(v, "permessage-deflate") {
			return true
		}
	}
	return false
}

// serveWebSocket opens a session that starts on WebSocket.
func (srv *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	c, err := srv.acceptWebSocket(w, r)
	if err != nil {
		return
	}
	s, err := srv.newSession(r, kindWebSocket)
	if err != nil {
		c.closeWith(websocket.CloseTryAgainLater, err.Error())
		return
	}
	s.mu.Lock()
	s.ws = c
	// The open packet goes first, before anything the receiver sent from
	// OnConnection.
	open := s.openMessage()
	s.queue = append(s.queue, nil)
	copy(s.queue[1:], s.queue)
	s.queue[0] = open
	s.queued += open.size()
	s.kickLocked()
	s.mu.Unlock()
	s.startHeartbeat()
	c.startReading(s)
}

// wsPacket implements wsEvents.
func (s *Session) wsPacket(c *wsConn, p parser.Packet) {
	s.mu.Lock()
	probe, current := s.probe == c, s.ws == c
	s.mu.Unlock()
	switch {
	case current:
		s.onPacket(p, c.polled)
	case probe:
		s.onProbePacket(c, p)
	}
}

// wsReadIdle implements wsEvents.
func (s *Session) wsReadIdle(c *wsConn) { s.readIdle(c) }

// wsClosed implements wsEvents.
func (s *Session) wsClosed(c *wsConn, err error) {
	s.mu.Lock()
	probe, current := s.probe == c, s.ws == c
	s.mu.Unlock()
	switch {
	case current:
		s.closeNow(readReason(err), err)
	case probe:
		s.abandonProbe(c)
	default:
		c.close()
	}
}

// writeInline writes the queue without blocking, as long as the socket
// takes it all. It reports false when the socket is full: what is left of
// the last batch waits in s.pending, and a writer goroutine must finish.
// Only the writer (s.writing) calls it.
func (s *Session) writeInline(c *wsConn) bool {
	for {
		s.mu.Lock()
		if s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return true
		}
		batch := s.takeLocked()
		if len(batch) == 0 {
			s.writing = false
			closing, reason := s.state == stateClosing, s.closeReason
			s.mu.Unlock()
			if closing {
				s.close(reason, nil, true)
			}
			return true
		}
		s.mu.Unlock()
		bp := framePool.Get().(*[]byte)
		buf := appendFrames((*bp)[:0], batch)
		n, err := c.writeNow(buf)
		if n < len(buf) && err == nil {
			s.pending = append(s.pending[:0], buf[n:]...)
		}
		putFrameBuf(bp, buf)
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeNow(ReasonTransportError, err)
			return true
		}
		s.srv.stats.out(len(batch), n)
		s.recycle(batch)
		if len(s.pending) > 0 {
			return false
		}
	}
}

// writeLoop drains the queue onto c, then exits: no goroutine waits while a
// session has nothing to send.
func (s *Session) writeLoop(c *wsConn) {
	defer s.srv.wg.Done()
	if len(s.pending) > 0 { // the rest of a batch the socket would not take at once
		_ = c.raw.SetWriteDeadline(time.Now().Add(s.srv.opts.WriteTimeout))
		_, err := c.raw.Write(s.pending)
		s.pending = s.pending[:0]
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeNow(ReasonTransportError, err)
			return
		}
	}
	for {
		s.mu.Lock()
		if s.state == stateClosed {
			s.writing = false
			s.mu.Unlock()
			return
		}
		batch := s.takeLocked()
		if len(batch) == 0 {
			s.writing = false
			closing, reason := s.state == stateClosing, s.closeReason
			s.mu.Unlock()
			if closing {
				s.close(reason, nil, true)
			}
			return
		}
		s.mu.Unlock()
		n, err := c.write(batch)
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeNow(ReasonTransportError, err)
			return
		}
		s.srv.stats.out(len(batch), n)
		s.recycle(batch)
	}
}

// onPacket handles a packet that arrived on the session's current
// transport; burst when a polled read brought it.
func (s *Session) onPacket(p parser.Packet, burst bool) {
	switch p.Type {
	case parser.Message:
		s.deliver(p.Data, p.Binary, burst)
	case parser.Pong:
		s.onPong()
	case parser.Close:
		s.closeNow(ReasonTransportClose, nil)
	}
	// A v4 client sends no ping; upgrade and noop mean nothing here.
}
