package engineio

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sori-dev/sori/engineio/parser"
)

// wsConn is one WebSocket connection. gorilla/websocket does the handshake,
// reads (fragments, control frames, permessage-deflate) and the few
// control frames it answers itself; Sori writes data frames itself so that a
// whole queue goes out in one system call.
type wsConn struct {
	conn     *websocket.Conn
	raw      net.Conn
	deflate  bool // permessage-deflate negotiated: writes go through gorilla
	timeout  time.Duration
	minDefl  int
	closeOne sync.Once
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// write sends a batch of packets and returns the bytes of their payloads
// (frames and compression aside).
func (c *wsConn) write(batch []*Message) (int, error) {
	deadline := time.Now().Add(c.timeout)
	if c.deflate {
		n := 0
		for _, m := range batch {
			c.conn.EnableWriteCompression(len(m.data) >= c.minDefl)
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
	buf := (*bp)[:0]
	for _, m := range batch {
		if m.binary {
			buf = appendFrame(buf, opBinary, m.data)
		} else {
			buf = appendFrame(buf, opText, m.text)
		}
	}
	_ = c.raw.SetWriteDeadline(deadline)
	n, err := c.raw.Write(buf)
	if cap(buf) <= 64<<10 { // keep the pool's buffers small
		*bp = buf[:0]
		framePool.Put(bp)
	}
	return n, err
}

// closeGracefully sends a normal close frame, then closes.
func (c *wsConn) closeGracefully() { c.closeWith(websocket.CloseNormalClosure, "") }

// closeWith sends a close frame with code and text, then closes.
func (c *wsConn) closeWith(code int, text string) {
	_ = c.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	c.close()
}

func (c *wsConn) close() {
	c.closeOne.Do(func() { _ = c.conn.Close() })
}

// read returns the next packet.
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

// readReason maps a read error to the reason the session closes with.
func readReason(err error) Reason {
	switch {
	case errors.Is(err, parser.ErrInvalid):
		return ReasonParseError
	case errors.Is(err, websocket.ErrReadLimit):
		return ReasonTransportError
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
	c := &wsConn{
		conn:    conn,
		raw:     conn.NetConn(),
		timeout: srv.opts.WriteTimeout,
		minDefl: srv.opts.CompressionThreshold,
	}
	// gorilla accepts permessage-deflate whenever it is enabled and offered.
	c.deflate = srv.opts.PerMessageDeflate && offersDeflate(r)
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

// serveWebSocket runs a session that starts on WebSocket, reading on the
// request's goroutine until the connection ends.
func (srv *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, q url.Values) {
	c, err := srv.acceptWebSocket(w, r)
	if err != nil {
		return
	}
	s, err := srv.newSession(r, q, kindWebSocket)
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
	s.readLoop(c)
}

// readLoop reads the session's WebSocket until it fails.
func (s *Session) readLoop(c *wsConn) {
	for {
		p, err := c.read()
		if err != nil {
			s.closeNow(readReason(err), err)
			return
		}
		s.onPacket(p)
	}
}

// writeLoop drains the queue onto c, then exits: no goroutine waits while a
// session has nothing to send.
func (s *Session) writeLoop(c *wsConn) {
	defer s.srv.wg.Done()
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
// transport.
func (s *Session) onPacket(p parser.Packet) {
	switch p.Type {
	case parser.Message:
		s.deliver(p.Data, p.Binary)
	case parser.Pong:
		s.onPong()
	case parser.Close:
		s.closeNow(ReasonTransportClose, nil)
	}
	// A v4 client sends no ping; upgrade and noop mean nothing here.
}
