package parser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// encBuf pairs a buffer with a json.Encoder writing into it, so that the
// encoder (and its settings) is reused along with the buffer.
type encBuf struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encPool = sync.Pool{New: func() any {
	e := &encBuf{}
	e.enc = json.NewEncoder(&e.buf)
	// JSON.stringify does not escape <, > and &; neither do we.
	e.enc.SetEscapeHTML(false)
	return e
}}

// maxPooledBuf keeps one huge packet from pinning a huge buffer in the pool.
const maxPooledBuf = 64 << 10

// Encode returns the text part of p and its binary attachments; each
// attachment is to be sent as its own Engine.IO binary message, after the
// text. The returned text is freshly allocated and never modified again, so
// it can be shared by every receiver of a broadcast; attachments alias the
// []byte values found in p.Data.
//
// Data without []byte takes a fast path: a cheap HasBinary check, then one
// pass of encoding/json into a pooled buffer. Encode returns an error for a
// packet that cannot be encoded (unknown type, namespace not starting with
// "/" or containing ",", data encoding/json rejects) and never panics.
func Encode(p *Packet) (text []byte, attachments [][]byte, err error) {
	if p == nil {
		return nil, nil, encodeErr(ErrEncode, "nil packet", nil)
	}
	t := p.Type
	if !t.valid() {
		return nil, nil, encodeErr(ErrUnknownType, t.String(), nil)
	}
	nsp := p.Namespace
	if nsp == "/" {
		nsp = ""
	}
	if nsp != "" {
		if nsp[0] != '/' {
			return nil, nil, encodeErr(ErrNamespace, strconv.Quote(nsp)+" must start with \"/\"", nil)
		}
		// The decoder ends the namespace at the first comma.
		if strings.IndexByte(nsp, ',') >= 0 {
			return nil, nil, encodeErr(ErrNamespace, strconv.Quote(nsp)+" must not contain a comma", nil)
		}
	}

	// User MarshalJSON methods may panic; report that as an error rather
	// than taking the caller (often a broadcast loop) down.
	defer func() {
		if r := recover(); r != nil {
			text, attachments = nil, nil
			err = encodeErr(ErrEncode, fmt.Sprint("panic: ", r), nil)
		}
	}()

	data := p.Data
	var x extractor
	ackOrEvent := t == Event || t == Ack || t.binary()
	if ackOrEvent {
		// Only events and acks carry attachments, as in the reference.
		if len(p.Attachments) > 0 {
			attachments = p.Attachments
		} else if HasBinary(data) {
			nv, changed, err := x.copy(reflect.ValueOf(data), false, 0)
			if err != nil {
				return nil, nil, err
			}
			if changed {
				data = nv.Interface()
			}
		}
	}

	e := encPool.Get().(*encBuf)
	e.buf.Reset()
	if data != nil {
		if err := e.enc.Encode(data); err != nil {
			encPool.Put(e)
			return nil, nil, encodeErr(ErrEncode, "", err)
		}
	}
	js := e.buf.Bytes()
	if len(js) > 0 {
		js = js[:len(js)-1] // Encoder appends a newline
	}
	if string(js) == "null" {
		// JSON.stringify output is dropped for null data: a typed nil
		// behaves as no payload.
		js = nil
	}

	var phs []placeholder
	if len(x.bufs) > 0 {
		phs, attachments = findMarkers(js, x.bufs)
	}
	if ackOrEvent {
		switch {
		case len(attachments) > 0 && t == Event:
			t = BinaryEvent
		case len(attachments) > 0 && t == Ack:
			t = BinaryAck
		case len(attachments) == 0 && t == BinaryEvent:
			t = Event // "50-" would be rejected by every decoder
		case len(attachments) == 0 && t == BinaryAck:
			t = Ack
		}
	}

	size := 1 + len(nsp) + 1 + 20 + len(js) + 4 + len(phs)*32
	text = make([]byte, 0, size)
	text = append(text, '0'+byte(t))
	if t.binary() {
		text = strconv.AppendInt(text, int64(len(attachments)), 10)
		text = append(text, '-')
	}
	if nsp != "" {
		text = append(text, nsp...)
		text = append(text, ',')
	}
	if p.HasID {
		text = strconv.AppendUint(text, p.ID, 10)
	}
	if len(phs) == 0 {
		text = append(text, js...)
	} else {
		text = append(text, replacePlaceholders(js, phs, appendPlaceholder)...)
	}

	if e.buf.Cap() <= maxPooledBuf {
		encPool.Put(e)
	}
	return text, attachments, nil
}

func encodeErr(sentinel error, detail string, cause error) *Error {
	return &Error{Op: "encode", Err: sentinel, Detail: detail, Cause: cause}
}

// appendPlaceholder writes the placeholder object for p.num.
func appendPlaceholder(dst []byte, p placeholder) []byte {
	dst = append(dst, `{"_placeholder":true,"num":`...)
	dst = strconv.AppendInt(dst, int64(p.num), 10)
	return append(dst, '}')
}

// findMarkers locates the encode markers in js (written by encoding/json as
// quoted base64 strings) and numbers the attachments in text order, which
// is also the order a receiver expects them in. A []byte that encoding/json
// did not output (e.g. a field hidden by another of the same name) is not
// sent.
func findMarkers(js []byte, bufs [][]byte) ([]placeholder, [][]byte) {
	var phs []placeholder
	var atts [][]byte
	num := make(map[int]int, len(bufs)) // marker index -> attachment number
	prefix := encodeMarkers.prefix
	for i := 0; ; {
		j := bytes.Index(js[i:], prefix)
		if j < 0 {
			break
		}
		start := i + j
		end := start + 1 + markerB64Len + 1
		if end > len(js) || js[end-1] != '"' {
			i = start + 1
			continue
		}
		idx, ok := encodeMarkers.parse(string(js[start+1 : end-1]))
		if !ok || idx >= len(bufs) {
			i = start + 1
			continue
		}
		n, seen := num[idx]
		if !seen {
			n = len(atts)
			num[idx] = n
			atts = append(atts, bufs[idx])
		}
		phs = append(phs, placeholder{start: start, end: end, num: n})
		i = end
	}
	return phs, atts
}
