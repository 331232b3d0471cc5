// Package testredis starts a private redis-server for a test: a free
// loopback port, no persistence, its own directory. It never touches a Redis
// that is already running (on 6379 or elsewhere).
//
//	r := testredis.Start(t)
//	client := redis.NewClient(&redis.Options{Addr: r.Addr})
//	r.Stop()    // the server goes away, the port stays reserved for...
//	r.Restart() // ...the same port, empty data
//
// Without a redis-server on PATH (or at $REDIS_SERVER) the test is skipped
// with a message, unless the environment variable CI is set: then it fails.
package testredis

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is a redis-server started for a test. It is stopped when the test
// ends.
type Server struct {
	// Addr is host:port, URL is redis://host:port.
	Addr string
	URL  string
	Port int

	t    testing.TB
	bin  string
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	logw *lockedWriter
	done chan struct{}
}

// Binary finds redis-server: $REDIS_SERVER, else on PATH.
func Binary() (string, error) {
	name := os.Getenv("REDIS_SERVER")
	if name == "" {
		name = "redis-server"
	}
	return exec.LookPath(name)
}

// Start starts redis-server on a free port and waits until it answers PING.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("testredis: redis-server not found (%v); CI is set, so this fails instead of skipping", err)
		}
		t.Skipf("testredis: redis-server not found (%v); install redis-server (apt-get install redis-server) to run this test", err)
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	s.Port = freePort(t)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
	s.URL = "redis://" + s.Addr
	s.launch()
	t.Cleanup(s.Stop)
	return s
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testredis: no free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) launch() {
	s.t.Helper()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		logw := &lockedWriter{w: &bytes.Buffer{}}
		cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", s.dir, "--logfile", "")
		cmd.Dir = s.dir
		cmd.Stdout = logw
		cmd.Stderr = logw
		if err := cmd.Start(); err != nil {
			s.t.Fatalf("testredis: start %s: %v", s.bin, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		s.mu.Lock()
		s.cmd, s.logw, s.done = cmd, logw, done
		s.mu.Unlock()
		if lastErr = waitPing(s.Addr, done, 10*time.Second); lastErr == nil {
			return
		}
		s.Stop()
		time.Sleep(200 * time.Millisecond) // the port may still be in use after a restart
	}
	s.t.Fatalf("testredis: redis-server on %s not ready: %v\noutput:\n%s", s.Addr, lastErr, s.Output())
}

// Output is what redis-server printed.
func (s *Server) Output() string {
	s.mu.Lock()
	w := s.logw
	s.mu.Unlock()
	if w == nil {
		return ""
	}
	return w.String()
}

// Stop kills redis-server and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.t.Errorf("testredis: redis-server %d did not exit", cmd.Process.Pid)
	}
}

// Restart stops redis-server and starts a fresh one on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.launch()
}

// waitPing polls addr with PING until +PONG, the process exits, or limit.
func waitPing(addr string, exited <-chan struct{}, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited")
		default:
		}
		if err = Ping(addr); err == nil {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return err
}

// Ping sends PING to addr over RESP and expects +PONG.
func Ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("unexpected answer %q", line)
	}
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}
