package engineio

import "time"

// The heartbeat is one runtime timer per session, not a goroutine: it fires
// after PingInterval to send a ping, then after PingTimeout to close the
// session unless a pong came back and set it to PingInterval again.

func (s *Session) startHeartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The session may already be closed (its first write failed, or the
	// server is closing); closeNow reads the timer under s.mu.
	if s.state != stateClosed {
		s.heartbeat = time.AfterFunc(s.srv.opts.PingInterval, s.onHeartbeat)
	}
}

func (s *Session) onHeartbeat() {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	if s.waitingPong {
		s.mu.Unlock()
		s.closeNow(ReasonPingTimeout, nil)
		return
	}
	s.waitingPong = true
	s.heartbeat.Reset(s.srv.opts.PingTimeout)
	if s.state == stateOpen {
		s.enqueueLocked(pingMessage)
	}
	s.mu.Unlock()
}

func (s *Session) onPong() {
	s.mu.Lock()
	if s.waitingPong && s.state != stateClosed {
		s.waitingPong = false
		s.heartbeat.Reset(s.srv.opts.PingInterval)
	}
	s.mu.Unlock()
}
