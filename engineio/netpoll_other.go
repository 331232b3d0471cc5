//go:build !linux

package engineio

// poller exists on Linux only; elsewhere each WebSocket has a reading
// goroutine.
type poller struct{}

func (*poller) remove(*wsConn) {}

func (c *wsConn) preparePolling() {}

func (c *wsConn) startPolling() bool { return false }

func (srv *Server) stopPoller() {}

func (srv *Server) stopReaders() {}

func (c *wsConn) inline() bool { return false }

func (c *wsConn) writeNow(b []byte) (int, error) { return 0, nil }
