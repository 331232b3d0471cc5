package engineio

import (
	"net/http"
	"time"

	"github.com/sori-dev/sori/engineio/parser"
)

// serveUpgrade takes a WebSocket offered by a polling session. The client
// probes it (2probe, answered 3probe), the server releases the pending poll
// with a noop, and the client's upgrade packet (5) moves the session onto
// the WebSocket. A probe that goes quiet for UpgradeTimeout is closed and
// the session stays on polling.
func (srv *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	busy := s.kind != kindPolling || s.probe != nil || s.state != stateOpen
	s.mu.Unlock()
	if busy {
		// Already upgraded, upgrading or closing: as the reference, accept
		// the WebSocket and close it at once.
		if c, err := srv.acceptWebSocket(w, r); err == nil {
			c.closeGracefully()
		}
		return
	}
	c, err := srv.acceptWebSocket(w, r)
	if err != nil {
		return
	}
	s.mu.Lock()
	if s.kind != kindPolling || s.probe != nil || s.state != stateOpen {
		s.mu.Unlock()
		c.closeGracefully()
		return
	}
	s.probe = c
	s.upgradeTimer = time.AfterFunc(srv.opts.UpgradeTimeout, func() { s.abandonProbe(c) })
	s.mu.Unlock()
	c.startReading(s)
}

// onProbePacket handles a packet that came on the probe: 2probe, then 5.
// Anything else abandons the upgrade.
func (s *Session) onProbePacket(c *wsConn, p parser.Packet) {
	switch {
	case p.Type == parser.Ping && string(p.Data) == "probe":
		if _, err := c.write([]*Message{probeMessage}); err != nil {
			s.abandonProbe(c)
			return
		}
		s.mu.Lock()
		s.probed = true
		if s.poll != nil && len(s.queue) == 0 && !s.pollDuringProbe {
			s.enqueueLocked(noopMessage)
		}
		s.mu.Unlock()
	case p.Type == parser.Upgrade:
		if !s.completeUpgrade(c) {
			c.close()
		}
	default:
		s.abandonProbe(c)
	}
}

// completeUpgrade makes c the session's transport.
func (s *Session) completeUpgrade(c *wsConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != c || s.state == stateClosed {
		return false
	}
	s.stopUpgradeTimerLocked()
	s.probe = nil
	s.probed = false
	s.kind = kindWebSocket
	s.ws = c
	if s.poll != nil {
		// The pending GET answers with a noop and nothing else (see servePoll).
		select {
		case s.poll <- struct{}{}:
		default:
		}
	}
	if s.closeTimer != nil && s.state == stateClosing {
		s.closeTimer.Stop() // the writer closes, once the queue is out
	}
	if len(s.queue) > 0 || s.state == stateClosing {
		s.writing = true
		s.srv.wg.Add(1)
		go s.writeLoop(c)
	}
	return true
}

func (s *Session) abandonProbe(c *wsConn) {
	s.mu.Lock()
	if s.probe == c {
		s.probe = nil
		s.probed = false
		s.stopUpgradeTimerLocked()
	} else if s.ws == c {
		// The upgrade completed as the timer fired: c is the transport now.
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c.close()
}

func (s *Session) stopUpgradeTimerLocked() {
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
		s.upgradeTimer = nil
	}
}
