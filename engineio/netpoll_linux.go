//go:build linux

package engineio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller watches idle WebSocket connections with one epoll instance, so
// that an idle connection needs no goroutine of its own: when a connection
// has bytes to read, a goroutine is started to read them all and goes away.
// Each connection is armed one-shot, so at most one goroutine reads it at a
// time and its messages stay in order.
//
// The Go runtime's own poller watches the same descriptors (for writes);
// epoll allows that, and reads go through syscall.RawConn so that the
// runtime's locking of the descriptor still holds.
type poller struct {
	epfd int
	file *os.File        // epfd, watched by the runtime's poller
	rc   syscall.RawConn // to wait on epfd without blocking a thread
	wake int             // eventfd that ends wait

	mu    sync.Mutex
	conns map[int32]*wsConn
	done  chan struct{}

	work     chan *wsConn  // to an idle reader
	quit     chan struct{} // closed when the server closes
	quitOnce sync.Once
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	// The epoll descriptor itself is watched by the Go runtime's poller: the
	// waiting goroutine parks like any other instead of blocking a thread
	// in epoll_wait, and the readers it readies run on its own P at once.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, err
	}
	f := os.NewFile(uintptr(epfd), "epoll")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		unix.Close(wake)
		return nil, err
	}
	p := &poller{epfd: epfd, wake: wake, file: f, rc: rc, conns: make(map[int32]*wsConn), done: make(chan struct{}),
		work: make(chan *wsConn), quit: make(chan struct{})}
	go p.wait()
	return p, nil
}

// rawFD returns the descriptor of a plain TCP connection; false for any
// other (TLS, a wrapped listener's conn), which then gets a reading
// goroutine instead.
func rawFD(c net.Conn) (syscall.RawConn, int32, bool) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil, 0, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil, 0, false
	}
	var fd int32 = -1
	if rc.Control(func(f uintptr) { fd = int32(f) }) != nil || fd < 0 {
		return nil, 0, false
	}
	return rc, fd, true
}

var errConnClosed = errors.New("engine.io: connection closed")

// add watches c for its first bytes. Under p.mu, c cannot close meanwhile
// (close removes c, under p.mu, before it closes the descriptor), so the
// descriptor is still c's.
func (p *poller) add(c *wsConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.closed.Load() {
		return errConnClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: c.fd}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, int(c.fd), &ev); err != nil {
		return err
	}
	p.conns[c.fd] = c
	return nil
}

// rearm watches c again after a read found it drained.
func (p *poller) rearm(c *wsConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[c.fd] != c {
		return errConnClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: c.fd}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, int(c.fd), &ev)
}

// remove stops watching c; call it before closing c's descriptor.
func (p *poller) remove(c *wsConn) {
	p.mu.Lock()
	if p.conns[c.fd] == c {
		delete(p.conns, c.fd)
		_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, int(c.fd), nil)
	}
	p.mu.Unlock()
}

func (p *poller) wait() {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	for {
		var n int
		var werr error
		err := p.rc.Read(func(fd uintptr) bool {
			n, werr = unix.EpollWait(int(fd), events, 0)
			if werr == unix.EINTR {
				n, werr = 0, nil
			}
			return n > 0 || werr != nil // none ready: park until the epoll descriptor is
		})
		if err != nil || werr != nil {
			return
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == p.wake {
				return
			}
			p.mu.Lock()
			c := p.conns[ev.Fd]
			p.mu.Unlock()
			if c != nil {
				c.readable()
			}
		}
	}
}

// close stops the poller's goroutine and releases its descriptors. The
// connections must have been removed.
func (p *poller) close() {
	var one = [8]byte{1}
	_, _ = unix.Write(p.wake, one[:])
	<-p.done
	p.file.Close() // the epoll descriptor
	unix.Close(p.wake)
}

// readRaw reads what is there without ever parking the goroutine: it
// returns unix.EAGAIN when c is drained.
func readRaw(rc syscall.RawConn, buf []byte) (int, error) {
	var n int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		for {
			n, rerr = unix.Read(int(fd), buf)
			if rerr != unix.EINTR {
				return true
			}
		}
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}

// pollerOf returns the server's poller, started on first use; nil when
// epoll is not available or the server is closing.
func (srv *Server) pollerOf() *poller {
	srv.pollMu.Lock()
	defer srv.pollMu.Unlock()
	if srv.poll == nil && !srv.pollStopped && !srv.opts.DisableNetpoll {
		p, err := newPoller()
		if err != nil {
			srv.opts.Logger.Warn("engine.io: epoll unavailable, one goroutine per connection", "err", err)
			srv.opts.DisableNetpoll = true
			return nil
		}
		srv.poll = p
	}
	return srv.poll
}

// stopReaders ends the poller's idle reader goroutines.
func (srv *Server) stopReaders() {
	srv.pollMu.Lock()
	defer srv.pollMu.Unlock()
	if srv.poll != nil {
		srv.poll.stopReaders()
	}
}

// stopPoller ends the poller's goroutine, once every connection is gone.
func (srv *Server) stopPoller() {
	srv.pollMu.Lock()
	defer srv.pollMu.Unlock()
	srv.pollStopped = true
	if srv.poll != nil {
		srv.poll.close()
		srv.poll = nil
	}
}

// preparePolling decides, before c is shared, whether the poller will
// watch it: not with deflate (gorilla inflates), TLS or no epoll.
func (c *wsConn) preparePolling() {
	if c.deflate {
		return
	}
	rc, fd, ok := rawFD(c.raw)
	if !ok {
		return
	}
	if p := c.srv.pollerOf(); p != nil {
		c.rc, c.fd, c.polled, c.poller = rc, fd, true, p
		c.conn = nil // gorilla's reader and its buffer are not needed any more
	}
}

// startPolling has the poller watch c; false when c is not polled.
func (c *wsConn) startPolling() bool {
	if !c.polled {
		return false
	}
	if err := c.poller.add(c); err != nil {
		c.close()
		c.events.wsClosed(c, err)
	}
	return true
}

var readPool = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// readable is called by the poller when c has bytes: a reader goroutine
// reads them all, then c is watched again. An idle reader takes it if
// there is one, else a new one starts; a reader waits a while for more work
// before it ends, and keeps the stack it grew meanwhile (decoding and
// handlers need more than a new goroutine's).
func (c *wsConn) readable() {
	p := c.poller
	select {
	case p.work <- c:
	default:
		if !c.srv.enterQuiet() {
			return // the server is closing every connection
		}
		go p.reader(c.srv, c)
	}
}

// readerIdle is how long a reader waits for work before it ends.
const readerIdle = 100 * time.Millisecond

func (p *poller) reader(srv *Server, c *wsConn) {
	defer srv.wg.Done()
	c.drain()
	idle := time.NewTimer(readerIdle)
	defer idle.Stop()
	for {
		select {
		case c := <-p.work:
			c.drain()
			idle.Reset(readerIdle)
		case <-idle.C:
			return
		case <-p.quit:
			return
		}
	}
}

// stopReaders ends the idle readers: the server is closing.
func (p *poller) stopReaders() { p.quitOnce.Do(func() { close(p.quit) }) }

func (c *wsConn) drain() {
	// Last, once c is watched again (or is done): the receiver's queued
	// work runs here.
	defer c.events.wsReadIdle(c)
	bp := readPool.Get().(*[]byte)
	defer readPool.Put(bp)
	for {
		n, err := readRaw(c.rc, *bp)
		if n > 0 {
			if err := c.fr.feed((*bp)[:n], c.onFrame); err != nil {
				c.readFailed(err)
				return
			}
			if n < len(*bp) {
				// Most likely drained: re-arming reports at once what came
				// meanwhile, which saves the read that would say EAGAIN.
				err = unix.EAGAIN
			} else {
				continue
			}
		}
		switch {
		case err == unix.EAGAIN:
			if err := c.poller.rearm(c); err != nil {
				c.readFailed(err)
			}
			return
		case err == nil: // end of stream
			c.readFailed(io.EOF)
		default:
			c.readFailed(err)
		}
		return
	}
}

// inline reports whether writes may be tried without blocking, on the
// caller's goroutine.
func (c *wsConn) inline() bool { return c.polled && !c.deflate }

// writeNow writes what the socket takes at once and never waits: it
// returns how much it wrote, nil for a full socket.
func (c *wsConn) writeNow(b []byte) (int, error) {
	n, err := c.writeNowOnce(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A blocking write before this one left its deadline behind: a
		// write that never waits needs none.
		_ = c.raw.SetWriteDeadline(time.Time{})
		n, err = c.writeNowOnce(b)
	}
	return n, err
}

func (c *wsConn) writeNowOnce(b []byte) (int, error) {
	var n int
	var werr error
	err := c.rc.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			m, e := unix.Write(int(fd), b)
			if e == unix.EINTR {
				continue
			}
			if m > 0 {
				n += m
				b = b[m:]
			}
			if e != nil {
				if e != unix.EAGAIN {
					werr = e
				}
				break
			}
		}
		return true
	})
	if err != nil {
		return n, err
	}
	return n, werr
}
