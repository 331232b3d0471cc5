package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	eparser "github.com/sori-dev/sori/engineio/parser"
)

// Engine.IO close reasons, as the JS client names them.
const (
	reasonTransportClose = "transport close"
	reasonTransportError = "transport error"
	reasonPingTimeout    = "ping timeout"
	reasonParseError     = "parse error"
)

// engineConfig is what every engine of a Manager shares.
type engineConfig struct {
	base       *url.URL // http(s)://host
	path       string
	query      url.Values
	header     http.Header
	transports []string
	upgrade    bool
	timeout    time.Duration
	httpClient *http.Client
	dialer     *websocket.Dialer
}

// engineEvents receives what an engine reads. Calls for one engine never
// overlap.
type engineEvents interface {
	engineMessage(e *engine, data []byte, binary bool)
	engineClose(e *engine, reason string, err error)
}

// engine is one Engine.IO v4 session, on polling or WebSocket. Its
// goroutines: a reader (the poll loop, or the WebSocket reader), a writer
// that drains the queue, and during an upgrade the prober; all end with
// the session and are waited for by wait.
type engine struct {
	cfg *engineConfig
	ev  engineEvents

	sid          string
	upgrades     []string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int
	initial      []eparser.Packet // packets that came with the polling handshake

	ctx    context.Context // ends with the session: aborts polls and posts
	cancel context.CancelFunc
	wake   chan struct{} // the writer's doorbell
	reqs   atomic.Uint64 // cache-busting counter of polling requests

	mu         sync.Mutex
	cond       *sync.Cond // writing, polling or ended changed
	ended      bool
	transport  string
	ws         *websocket.Conn // the WebSocket transport
	probe      *websocket.Conn // a WebSocket being probed for the upgrade
	queue      []eparser.Packet
	writing    bool // the writer is writing a batch
	polling    bool // a poll is in flight
	paused     bool // upgrading: no new poll or write
	closing    bool // close() was called: end once the queue is written
	pingTimer  *time.Timer
	forceTimer *time.Timer

	wg sync.WaitGroup
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// openEngine performs the handshake on the first transport. The session's
// goroutines start with start, once the caller is ready for its events.
func openEngine(ctx context.Context, cfg *engineConfig, ev engineEvents) (*engine, error) {
	e := &engine{cfg: cfg, ev: ev, wake: make(chan struct{}, 1), transport: cfg.transports[0]}
	e.cond = sync.NewCond(&e.mu)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	var err error
	if e.transport == transportWebSocket {
		err = e.handshakeWebSocket(ctx)
	} else {
		err = e.handshakePolling(ctx)
	}
	if err != nil {
		e.cancel()
		return nil, err
	}
	return e, nil
}

func (e *engine) onOpen(data []byte) error {
	var o openPacket
	if err := json.Unmarshal(data, &o); err != nil || o.SID == "" {
		return fmt.Errorf("engine.io: bad open packet %q", data)
	}
	e.sid = o.SID
	e.upgrades = o.Upgrades
	e.pingInterval = time.Duration(o.PingInterval) * time.Millisecond
	e.pingTimeout = time.Duration(o.PingTimeout) * time.Millisecond
	e.maxPayload = o.MaxPayload
	return nil
}

func (e *engine) handshakeWebSocket(ctx context.Context) error {
	c, err := e.dialWebSocket(ctx)
	if err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
	}
	mt, data, err := c.ReadMessage()
	if err == nil && mt != websocket.TextMessage {
		err = errors.New("engine.io: binary handshake")
	}
	var p eparser.Packet
	if err == nil {
		p, err = eparser.DecodeText(data)
	}
	if err == nil && p.Type != eparser.Open {
		err = fmt.Errorf("engine.io: first packet is %s, not open", p.Type)
	}
	if err == nil {
		err = e.onOpen(p.Data)
	}
	if err != nil {
		_ = c.Close()
		return fmt.Errorf("websocket error: %w", err)
	}
	_ = c.SetReadDeadline(time.Time{})
	e.ws = c
	return nil
}

func (e *engine) handshakePolling(ctx context.Context) error {
	body, err := e.request(ctx, http.MethodGet, nil)
	if err != nil {
		return fmt.Errorf("xhr poll error: %w", err)
	}
	packets, err := eparser.DecodePayload(body, 0)
	if err == nil && packets[0].Type != eparser.Open {
		err = fmt.Errorf("engine.io: first packet is %s, not open", packets[0].Type)
	}
	if err == nil {
		err = e.onOpen(packets[0].Data)
	}
	if err != nil {
		return fmt.Errorf("xhr poll error: %w", err)
	}
	e.initial = packets[1:]
	return nil
}

// url is the request URL for transport.
func (e *engine) url(transport string) string {
	u := *e.cfg.base
	q := url.Values{}
	for k, v := range e.cfg.query {
		q[k] = slices.Clone(v)
	}
	q.Set("EIO", "4")
	q.Set("transport", transport)
	if e.sid != "" {
		q.Set("sid", e.sid)
	}
	if transport == transportPolling {
		q.Set("t", strconv.FormatUint(e.reqs.Add(1), 36))
	} else if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	u.Path = e.cfg.path
	u.RawQuery = q.Encode()
	return u.String()
}

func (e *engine) dialWebSocket(ctx context.Context) (*websocket.Conn, error) {
	c, resp, err := e.cfg.dialer.DialContext(ctx, e.url(transportWebSocket), e.cfg.header)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// request makes one polling request and returns the response body.
func (e *engine) request(ctx context.Context, method string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.url(transportPolling), rd)
	if err != nil {
		return nil, err
	}
	for k, v := range e.cfg.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := e.cfg.httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	limit := int64(e.maxPayload)
	if limit <= 0 {
		limit = 1e6
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4*limit+1024))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	return data, nil
}

// start runs the session's goroutines.
func (e *engine) start() {
	e.mu.Lock()
	e.pingTimer = time.AfterFunc(e.pingInterval+e.pingTimeout, e.onPingTimeout)
	e.mu.Unlock()
	e.wg.Add(2)
	go e.writeLoop()
	if e.transport == transportWebSocket {
		go e.readLoop(e.ws, true)
		return
	}
	go e.pollLoop()
	if e.cfg.upgrade && slices.Contains(e.upgrades, transportWebSocket) &&
		slices.Contains(e.cfg.transports, transportWebSocket) {
		e.wg.Add(1)
		go e.upgradeLoop()
	}
}

// guard runs fn as part of the session unless it has ended; for timer
// callbacks, so that wait covers them.
func (e *engine) guard(fn func()) {
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		return
	}
	e.wg.Add(1)
	e.mu.Unlock()
	defer e.wg.Done()
	fn()
}

func (e *engine) onPingTimeout() {
	e.guard(func() { e.fail(reasonPingTimeout, nil) })
}

// onPacket handles one packet read from the server.
func (e *engine) onPacket(p eparser.Packet) {
	switch p.Type {
	case eparser.Ping:
		e.mu.Lock()
		if !e.ended {
			e.pingTimer.Reset(e.pingInterval + e.pingTimeout)
		}
		e.mu.Unlock()
		e.send(eparser.Packet{Type: eparser.Pong})
	case eparser.Message:
		e.ev.engineMessage(e, p.Data, p.Binary)
	case eparser.Close:
		e.fail(reasonTransportClose, nil)
	}
}

// send queues packets for the server, in order; false once the session is
// closing.
func (e *engine) send(ps ...eparser.Packet) bool {
	e.mu.Lock()
	if e.ended || e.closing {
		e.mu.Unlock()
		return false
	}
	e.queue = append(e.queue, ps...)
	e.mu.Unlock()
	e.kick()
	return true
}

func (e *engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// writeLoop writes what is queued, batch after batch, on the current
// transport; when close was called, it ends the session once the queue is
// written.
func (e *engine) writeLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.wake:
		case <-e.ctx.Done():
			return
		}
		for {
			e.mu.Lock()
			if e.ended {
				e.writing = false
				e.cond.Broadcast()
				e.mu.Unlock()
				return
			}
			if e.paused || len(e.queue) == 0 {
				e.writing = false
				e.cond.Broadcast()
				done := e.closing && !e.paused && len(e.queue) == 0
				ws := e.ws
				e.mu.Unlock()
				if done {
					if ws != nil {
						_ = ws.WriteControl(websocket.CloseMessage,
							websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
					}
					e.end("", nil, false)
					return
				}
				break
			}
			batch := e.queue
			e.queue = nil
			e.writing = true
			transport, ws := e.transport, e.ws
			e.mu.Unlock()
			var err error
			if transport == transportWebSocket {
				err = e.writeWebSocket(ws, batch)
			} else {
				err = e.post(batch)
			}
			if err != nil {
				e.mu.Lock()
				e.writing = false
				e.cond.Broadcast()
				e.mu.Unlock()
				e.fail(reasonTransportError, err)
				return
			}
		}
	}
}

func (e *engine) writeWebSocket(c *websocket.Conn, batch []eparser.Packet) error {
	_ = c.SetWriteDeadline(time.Now().Add(e.cfg.timeout))
	for _, p := range batch {
		var err error
		if p.Binary {
			err = c.WriteMessage(websocket.BinaryMessage, p.Data)
		} else {
			w, werr := c.NextWriter(websocket.TextMessage)
			if werr != nil {
				return werr
			}
			_, _ = w.Write([]byte{'0' + byte(p.Type)})
			_, _ = w.Write(p.Data)
			err = w.Close()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// post sends a batch in as few polling requests as the server's
// maxPayload allows.
func (e *engine) post(batch []eparser.Packet) error {
	for len(batch) > 0 {
		n, size := 0, 0
		for n < len(batch) {
			l := eparser.PayloadPacketLen(batch[n]) + 1
			if n > 0 && e.maxPayload > 0 && size+l > e.maxPayload {
				break
			}
			size += l
			n++
		}
		body, err := e.request(e.ctx, http.MethodPost, eparser.EncodePayload(batch[:n]))
		if err != nil {
			return err
		}
		if string(body) != "ok" {
			return fmt.Errorf("engine.io: POST answered %q", body)
		}
		batch = batch[n:]
	}
	return nil
}

// readLoop reads the WebSocket transport until it fails.
func (e *engine) readLoop(c *websocket.Conn, done bool) {
	if done {
		defer e.wg.Done()
	}
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			reason := reasonTransportClose
			var ce *websocket.CloseError
			if !errors.As(err, &ce) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				reason = reasonTransportError
			}
			e.fail(reason, err)
			return
		}
		if mt == websocket.BinaryMessage {
			e.ev.engineMessage(e, data, true)
			continue
		}
		p, err := eparser.DecodeText(data)
		if err != nil {
			e.fail(reasonParseError, err)
			return
		}
		e.onPacket(p)
	}
}

// pollLoop polls until the session ends or moves to WebSocket.
func (e *engine) pollLoop() {
	defer e.wg.Done()
	for _, p := range e.initial {
		e.onPacket(p)
	}
	e.initial = nil
	for {
		e.mu.Lock()
		if e.ended || e.paused || e.transport != transportPolling {
			e.mu.Unlock()
			return
		}
		e.polling = true
		e.mu.Unlock()
		body, err := e.request(e.ctx, http.MethodGet, nil)
		var packets []eparser.Packet
		if err == nil {
			packets, err = eparser.DecodePayload(body, 0)
			if err != nil {
				e.setPolling(false)
				e.fail(reasonParseError, err)
				return
			}
		}
		if err != nil {
			e.setPolling(false)
			e.fail(reasonTransportError, fmt.Errorf("xhr poll error: %w", err))
			return
		}
		for _, p := range packets {
			e.onPacket(p)
		}
		e.setPolling(false)
	}
}

func (e *engine) setPolling(on bool) {
	e.mu.Lock()
	e.polling = on
	e.cond.Broadcast()
	e.mu.Unlock()
}

// upgradeLoop probes a WebSocket beside the polling transport and, when
// it answers, moves the session onto it: polls and writes are paused,
// the one in flight is waited for (the server answers a pending poll with
// a noop once probed), the upgrade packet goes out, and the queue is
// written on the WebSocket. A failed probe leaves the session on polling.
func (e *engine) upgradeLoop() {
	defer e.wg.Done()
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.timeout)
	defer cancel()
	c, err := e.dialWebSocket(ctx)
	if err != nil {
		return
	}
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		_ = c.Close()
		return
	}
	e.probe = c
	e.mu.Unlock()
	abandon := func() {
		e.mu.Lock()
		if e.probe == c {
			e.probe = nil
		}
		if e.paused {
			e.paused = false
			e.cond.Broadcast()
		}
		e.mu.Unlock()
		_ = c.Close()
		e.kick()
	}
	deadline := time.Now().Add(e.cfg.timeout)
	_ = c.SetWriteDeadline(deadline)
	_ = c.SetReadDeadline(deadline)
	if err := c.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		abandon()
		return
	}
	mt, data, err := c.ReadMessage()
	if err != nil || mt != websocket.TextMessage || string(data) != "3probe" {
		abandon()
		return
	}
	e.mu.Lock()
	e.paused = true
	for (e.writing || e.polling) && !e.ended {
		e.cond.Wait()
	}
	if e.ended {
		e.mu.Unlock()
		_ = c.Close()
		return
	}
	e.mu.Unlock()
	if err := c.WriteMessage(websocket.TextMessage, []byte("5")); err != nil {
		abandon()
		e.fail(reasonTransportError, err)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		_ = c.Close()
		return
	}
	e.probe = nil
	e.ws = c
	e.transport = transportWebSocket
	e.paused = false
	e.cond.Broadcast()
	e.mu.Unlock()
	e.kick()
	e.readLoop(c, false)
}

// Transport is the session's current transport.
func (e *engine) currentTransport() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.transport
}

// fail ends the session and tells the Manager why.
func (e *engine) fail(reason string, err error) { e.end(reason, err, true) }

// end ends the session at once: connections closed, requests aborted,
// timers stopped. notify tells the Manager.
func (e *engine) end(reason string, err error, notify bool) {
	e.mu.Lock()
	if e.ended {
		e.mu.Unlock()
		return
	}
	e.ended = true
	if e.pingTimer != nil {
		e.pingTimer.Stop()
	}
	if e.forceTimer != nil {
		e.forceTimer.Stop()
	}
	ws, probe := e.ws, e.probe
	e.queue = nil
	e.cond.Broadcast()
	e.mu.Unlock()
	e.cancel()
	if ws != nil {
		_ = ws.Close()
	}
	if probe != nil {
		_ = probe.Close()
	}
	if notify {
		e.ev.engineClose(e, reason, err)
	}
}

// close ends the session gracefully, without waiting: what is queued is
// written, then a close packet, then the transport closes. It is cut
// short after a second.
func (e *engine) close() {
	e.mu.Lock()
	if e.ended || e.closing {
		e.mu.Unlock()
		return
	}
	e.queue = append(e.queue, eparser.Packet{Type: eparser.Close})
	e.closing = true
	e.forceTimer = time.AfterFunc(time.Second, func() {
		e.guard(func() { e.end("", nil, false) })
	})
	e.mu.Unlock()
	e.kick()
}

// wait returns once every goroutine of the session has ended.
func (e *engine) wait() { e.wg.Wait() }
