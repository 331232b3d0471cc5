//go:build !linux

package engineio

// poller exists on Linux only; elsewhere each WebSocket has a reading
// goroutine.
type poller struct{}

func (*poller) remove(*wsConn) {}

func (c *wsConn) preparePolling() {}

func (c *wsConn) startPolling() bool { return false }

func (srv *Server) stopPoller() {}
