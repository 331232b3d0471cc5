package sori

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/sori-dev/sori/engineio"
	"github.com/sori-dev/sori/socketio/parser"
)

// conn is one Engine.IO session seen from Socket.IO (the reference's
// Client): it decodes packets and routes them to the session's sockets,
// one per namespace.
type conn struct {
	srv *Server
	es  *engineio.Session
	dec parser.Decoder // used only by OnMessage, which never overlaps

	mu           sync.Mutex
	sockets      []*Socket // one per namespace: a slice, as there are few
	connectTimer *time.Timer
	closed       bool
	reason       string    // set by closeWith
	idle         []*Socket // executors to drain at the end of a burst of reads
}

func (srv *Server) newConn(es *engineio.Session) engineio.Receiver {
	c := &conn{srv: srv, es: es}
	c.dec.MaxAttachments = srv.opts.MaxAttachments
	c.connectTimer = time.AfterFunc(srv.connectTimeout(), func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0
		c.mu.Unlock()
		if idle {
			es.Close()
		}
	})
	return c
}

// OnMessage decodes one Engine.IO message. A packet that does not decode
// closes the connection, as in the reference.
func (c *conn) OnMessage(data []byte, binary bool) {
	pkt, err := c.dec.Add(data, binary)
	if err != nil {
		c.srv.log.Debug("socket.io: bad packet", "sid", c.es.ID(), "err", err)
		c.closeWith(reasonParseError)
		return
	}
	if pkt == nil {
		return // waiting for attachments
	}
	switch pkt.Type {
	case parser.Connect:
		raw, _ := pkt.Data.(json.RawMessage)
		c.connect(pkt.Namespace, raw)
	case parser.Event, parser.BinaryEvent:
		if s := c.socket(pkt.Namespace); s != nil && c.throttle(s) {
			s.onEvent(pkt)
		}
	case parser.Ack, parser.BinaryAck:
		if s := c.socket(pkt.Namespace); s != nil {
			s.onAck(pkt)
		}
	case parser.Disconnect:
		if s := c.socket(pkt.Namespace); s != nil {
			s.onClose(reasonClientDisconnect)
		}
	default: // CONNECT_ERROR comes only from servers
		c.closeWith(reasonParseError)
	}
}

// OnClose ends every socket of the connection with the engine's reason.
func (c *conn) OnClose(reason engineio.Reason, _ error) {
	c.mu.Lock()
	c.closed = true
	c.stopConnectTimerLocked()
	sockets := slices.Clone(c.sockets)
	why := string(reason)
	if c.reason != "" {
		why = c.reason
	}
	c.mu.Unlock()
	for _, s := range sockets {
		s.onClose(why)
	}
}

// ready has s's executor drained at the end of the current burst of
// reads.
func (c *conn) ready(s *Socket) {
	c.mu.Lock()
	c.idle = append(c.idle, s)
	c.mu.Unlock()
}

// OnReadIdle implements engineio.ReadIdler: the engine's reading goroutine,
// its burst over, runs the handlers it queued.
func (c *conn) OnReadIdle() {
	c.mu.Lock()
	ready := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, s := range ready {
		s.drain()
	}
}

func (c *conn) socket(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketLocked(nsp)
}

func (c *conn) socketLocked(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

func (c *conn) remove(s *Socket) {
	c.mu.Lock()
	if i := slices.Index(c.sockets, s); i >= 0 {
		c.sockets = slices.Delete(c.sockets, i, i+1)
	}
	c.mu.Unlock()
}

// connect joins the client to a namespace, or answers CONNECT_ERROR.
func (c *conn) connect(name string, auth json.RawMessage) {
	nsp := c.srv.lookup(name, auth)
	if nsp == nil {
		c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: name,
			Data: map[string]string{"message": "Invalid namespace"}}, false)
		return
	}
	c.mu.Lock()
	if c.closed || c.socketLocked(name) != nil {
		c.mu.Unlock()
		return
	}
	s := newSocket(nsp, c, auth)
	c.sockets = append(c.sockets, s)
	c.mu.Unlock()
	s.exec(func() { nsp.admit(s) })
}

// connected is told when a socket joined its namespace.
func (c *conn) connected() {
	c.mu.Lock()
	c.stopConnectTimerLocked()
	c.mu.Unlock()
}

// stopConnectTimerLocked stops and drops the timer: an idle connection
// keeps no timer it no longer needs.
func (c *conn) stopConnectTimerLocked() {
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
}

// writePacket encodes and sends one packet to this connection only.
func (c *conn) writePacket(p *parser.Packet, volatile bool) error {
	msgs, err := encode(p)
	if err != nil {
		return err
	}
	return c.write(msgs, volatile)
}

// queue sends broadcast packets: like write, but a writer goroutine does
// the writing (see engineio.Session.Queue).
func (c *conn) queue(msgs []*engineio.Message, volatile bool) error {
	if c.busy(volatile) {
		return nil
	}
	return c.es.Queue(msgs...)
}

// write sends encoded packets, at once when the connection takes them.
func (c *conn) write(msgs []*engineio.Message, volatile bool) error {
	if c.busy(volatile) {
		return nil
	}
	return c.es.SendBatch(msgs)
}

// busy reports whether a volatile packet is dropped: the connection has
// something else to write.
func (c *conn) busy(volatile bool) bool { return volatile && c.es.Buffered() > 0 }

// closeWith closes the connection; its sockets disconnect with reason
// rather than the engine's "forced close".
func (c *conn) closeWith(reason string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = reason
	}
	c.mu.Unlock()
	c.es.Close()
}

// encode turns a packet into Engine.IO messages: its text, then each
// binary attachment.
func encode(p *parser.Packet) ([]*engineio.Message, error) {
	text, atts, err := parser.Encode(p)
	if err != nil {
		return nil, err
	}
	msgs := make([]*engineio.Message, 1, 1+len(atts))
	msgs[0] = engineio.NewMessage(text, false)
	for _, a := range atts {
		msgs = append(msgs, engineio.NewMessage(a, true))
	}
	return msgs, nil
}
