package engineio

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sori-dev/sori/engineio/parser"
)

// probedPollWait bounds how long a GET waits while an upgrade is probed.
const probedPollWait = 100 * time.Millisecond

var (
	errPollOverlap    = errors.New("engine.io: overlapping poll from client")
	errPostOverlap    = errors.New("engine.io: overlapping data request from client")
	errPollClosed     = errors.New("engine.io: poll connection closed prematurely")
	errPayloadTooBig  = errors.New("engine.io: payload over maxHttpBufferSize")
	errBinaryPostBody = errors.New("engine.io: binary body on a v4 polling request")
)

// servePoll answers a long-polling GET: at once with what is queued, or
// when something is, or with a noop when the session moves to WebSocket.
// One GET at a time: a second closes the session, as in the reference.
//
// A GET that comes while a WebSocket probe has been answered gets a noop
// after probedPollWait at most (the reference's upgrade check runs every
// 100ms); when the upgrade completes meanwhile, it is refused like any
// polling request to an upgraded session. A client sends "5" before such a
// GET only in a race the single-threaded reference never loses.
func (srv *Server) servePoll(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.kind != kindPolling {
		s.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	if s.poll != nil {
		s.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		s.closeNow(ReasonTransportError, errPollOverlap)
		return
	}
	if len(s.queue) == 0 && s.state == stateOpen {
		wake := make(chan struct{}, 1)
		s.poll = wake
		// A GET that comes while a WebSocket is offered for the upgrade
		// waits a little, and is refused if the upgrade completes: requests
		// the client sent after its upgrade packet may be served before it,
		// over their own connections. A GET from before the offer is let go
		// with a noop at 2probe, as the client waits for it to pause.
		offered := s.probe != nil
		s.pollDuringProbe = offered
		s.mu.Unlock()
		var expire <-chan time.Time
		if offered {
			t := time.NewTimer(probedPollWait)
			defer t.Stop()
			expire = t.C
		}
		select {
		case <-wake:
		case <-expire:
		case <-r.Context().Done():
			s.mu.Lock()
			s.poll = nil
			s.mu.Unlock()
			s.closeNow(ReasonTransportError, errPollClosed)
			return
		}
		s.mu.Lock()
		s.poll = nil
		if offered && s.kind != kindPolling {
			s.mu.Unlock()
			writeError(w, CodeBadRequest, "")
			return
		}
	}
	var batch []*Message
	switch {
	case s.state == stateClosed && s.closeReason == ReasonTransportClose:
		// The client sent close itself: its pending GET is released with a
		// noop, as the reference does.
		batch = []*Message{noopMessage}
	case s.state == stateClosed:
		batch = []*Message{closeMessage}
	case s.state == stateClosing && s.kind == kindPolling && len(s.queue) == 0:
		batch = []*Message{closeMessage}
	case s.kind != kindPolling || len(s.queue) == 0:
		batch = []*Message{noopMessage}
	default:
		batch = s.takeLocked()
	}
	closing, reason := s.state == stateClosing && batch[len(batch)-1] == closeMessage, s.closeReason
	s.mu.Unlock()

	srv.writePayload(w, r, batch)
	if closing {
		s.closeNow(reason, nil)
	}
}

func (srv *Server) writePayload(w http.ResponseWriter, r *http.Request, batch []*Message) {
	n := 0
	for _, m := range batch {
		n += parser.PayloadPacketLen(m.packet()) + 1
	}
	body := make([]byte, 0, n)
	for i, m := range batch {
		if i > 0 {
			body = append(body, parser.Separator)
		}
		if m.binary {
			body = parser.AppendPayloadPacket(body, m.packet())
		} else {
			body = append(body, m.text...)
		}
	}
	srv.stats.out(len(batch), len(body))
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	if !srv.opts.DisableHTTPCompression && len(body) >= srv.opts.CompressionThreshold {
		if writeCompressed(w, r, body) {
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// servePost reads a polling POST: a payload of packets from the client.
func (srv *Server) servePost(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.kind != kindPolling {
		s.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		return
	}
	if s.posting {
		s.mu.Unlock()
		writeError(w, CodeBadRequest, "")
		s.closeNow(ReasonTransportError, errPostOverlap)
		return
	}
	s.posting = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.mu.Unlock()
	}()

	if r.Header.Get("Content-Type") == "application/octet-stream" {
		writeError(w, CodeBadRequest, "")
		s.closeNow(ReasonTransportError, errBinaryPostBody)
		return
	}
	max := srv.opts.MaxHTTPBufferSize
	if r.ContentLength > int64(max) {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		s.closeNow(ReasonTransportError, errPayloadTooBig)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(max)+1))
	if err != nil {
		s.closeNow(ReasonTransportError, err)
		return
	}
	if len(body) > max {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		s.closeNow(ReasonTransportError, errPayloadTooBig)
		return
	}
	packets, err := parser.DecodePayload(body, 0)
	if err != nil {
		writeError(w, CodeBadRequest, "")
		s.closeNow(ReasonParseError, err)
		return
	}
	for _, p := range packets {
		if p.Type == parser.Close {
			s.closeNow(ReasonTransportClose, nil)
			break
		}
		s.onPacket(p, false)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}
