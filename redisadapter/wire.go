package redisadapter

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/sori-dev/sori/adapter"
	"github.com/sori-dev/sori/socketio/parser"
)

// The wire format of @socket.io/redis-adapter 8.x, classic mode.
//
// Broadcasts go to "<key>#<nsp>#" (or "<key>#<nsp>#<room>#" when they have
// exactly one room) as msgpack [uid, packet, opts], binary values as
// msgpack bin. Requests go to "<key>-request#<nsp>#" and answers to
// "<key>-response#<nsp>#" (or "<key>-response#<nsp>#<uid>#"), as JSON, but
// for BROADCAST requests and BROADCAST_ACK answers, which are msgpack since
// they carry a packet. A reader tells them apart by the first byte: '{' is
// JSON.
//
// Here every msgpack document is converted to JSON text, its bin values
// becoming Socket.IO binary placeholders ({"_placeholder":true,"num":N}) with
// the bytes set aside, and back: so packets travel between Redis and the
// sockets in the form the Socket.IO parser already handles, and key order
// is kept both ways.

// Request types, numbered as in the reference.
const (
	typeSockets              = 0
	typeAllRooms             = 1
	typeRemoteJoin           = 2
	typeRemoteLeave          = 3
	typeRemoteDisconnect     = 4
	typeRemoteFetch          = 5
	typeServerSideEmit       = 6
	typeBroadcast            = 7
	typeBroadcastClientCount = 8
	typeBroadcastAck         = 9
)

// maxDepth bounds the nesting of the documents converted here.
const maxDepth = 1000

var errDepth = errors.New("redisadapter: document nested too deep")

// roomList is a list of rooms that also takes numbers (a Node server may
// have rooms named by numbers), as their decimal text.
type roomList []string

func (r *roomList) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]string, 0, len(raw))
	for _, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			return fmt.Errorf("room is neither a string nor a number: %s", v)
		}
		out = append(out, n.String())
	}
	*r = out
	return nil
}

// wireFlags are the flags of a broadcast, as the reference's BroadcastFlags.
type wireFlags struct {
	Volatile bool     `json:"volatile,omitempty"`
	Compress *bool    `json:"compress,omitempty"`
	Local    bool     `json:"local,omitempty"`
	Timeout  *float64 `json:"timeout,omitempty"` // milliseconds
}

// wireOpts are the reference's broadcast options, the sets as arrays.
type wireOpts struct {
	Rooms  roomList   `json:"rooms"`
	Except roomList   `json:"except"`
	Flags  *wireFlags `json:"flags,omitempty"`
}

func toWireOpts(o adapter.BroadcastOptions, withFlags bool) *wireOpts {
	w := &wireOpts{Rooms: roomList(o.Rooms), Except: dedupe(o.Except)}
	if w.Rooms == nil {
		w.Rooms = roomList{}
	}
	if withFlags {
		f := &wireFlags{Volatile: o.Flags.Volatile, Local: o.Flags.Local}
		if o.Flags.NoCompress {
			no := false
			f.Compress = &no
		}
		if o.Flags.Timeout > 0 {
			ms := float64(o.Flags.Timeout.Milliseconds())
			f.Timeout = &ms
		}
		w.Flags = f
	}
	return w
}

func dedupe(rooms []string) roomList {
	out := make(roomList, 0, len(rooms))
	seen := make(map[string]bool, len(rooms))
	for _, r := range rooms {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

func (w *wireOpts) options() adapter.BroadcastOptions {
	if w == nil {
		return adapter.BroadcastOptions{}
	}
	o := adapter.BroadcastOptions{Rooms: w.Rooms, Except: w.Except}
	if f := w.Flags; f != nil {
		o.Flags.Volatile = f.Volatile
		o.Flags.NoCompress = f.Compress != nil && !*f.Compress
		if f.Timeout != nil && *f.Timeout > 0 {
			o.Flags.Timeout = time.Duration(*f.Timeout * float64(time.Millisecond))
		}
	}
	return o
}

// wirePacket is a Socket.IO packet as the reference's adapters exchange it.
type wirePacket struct {
	Type int             `json:"type"`
	Data json.RawMessage `json:"data,omitempty"`
	Nsp  *string         `json:"nsp,omitempty"`
}

// packetJSON returns the payload of an event packet as JSON with binary
// placeholders, and its attachments.
func packetJSON(pkt *parser.Packet) (json.RawMessage, [][]byte, error) {
	cp := *pkt
	cp.Namespace = "/"
	cp.ID, cp.HasID = 0, false
	text, atts, err := parser.Encode(&cp)
	if err != nil {
		return nil, nil, err
	}
	if len(text) == 0 {
		return nil, nil, errors.New("redisadapter: empty packet")
	}
	i := 1
	if t := parser.Type(text[0] - '0'); t == parser.BinaryEvent || t == parser.BinaryAck {
		i = bytes.IndexByte(text, '-') + 1
	}
	js := text[i:]
	if len(js) == 0 {
		js = []byte("null")
	}
	return js, atts, nil
}

// wireRequest is a request from a server, JSON or converted from msgpack.
type wireRequest struct {
	UID       string          `json:"uid"`
	RequestID string          `json:"requestId"`
	Type      int             `json:"type"`
	Rooms     roomList        `json:"rooms"`
	Opts      *wireOpts       `json:"opts"`
	Close     bool            `json:"close"`
	Sid       string          `json:"sid"`
	Room      json.RawMessage `json:"room"`
	Data      json.RawMessage `json:"data"`
	Packet    *wirePacket     `json:"packet"`
}

// outRequest is a request this server sends.
type outRequest struct {
	UID       string          `json:"uid"`
	RequestID string          `json:"requestId,omitempty"`
	Type      int             `json:"type"`
	Packet    *wirePacket     `json:"packet,omitempty"`
	Opts      *wireOpts       `json:"opts,omitempty"`
	Rooms     []string        `json:"rooms,omitempty"`
	Close     *bool           `json:"close,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// wireResponse is an answer from a server, JSON or converted from msgpack.
type wireResponse struct {
	Type        *int            `json:"type"`
	RequestID   string          `json:"requestId"`
	Sockets     json.RawMessage `json:"sockets"`
	Rooms       roomList        `json:"rooms"`
	ClientCount int             `json:"clientCount"`
	Data        json.RawMessage `json:"data"`
	Packet      json.RawMessage `json:"packet"`
}

// decodeDocument reads a request or a response: JSON when it starts with
// '{', else msgpack, converted to JSON.
func decodeDocument(payload []byte, v any) (atts [][]byte, err error) {
	js := payload
	if len(payload) == 0 || payload[0] != '{' {
		js, atts, err = msgpackToJSON(payload)
		if err != nil {
			return nil, err
		}
	}
	return atts, json.Unmarshal(js, v)
}

// argsOf makes ack arguments of one optional JSON value.
func argsOf(raw json.RawMessage, atts [][]byte) adapter.Args {
	if len(raw) == 0 {
		return adapter.Args{Values: []json.RawMessage{}}
	}
	return adapter.Args{Values: []json.RawMessage{raw}, Attachments: atts}
}

// ---------------------------------------------------------------------------
// msgpack -> JSON

// msgpackToJSON converts one msgpack document to JSON: bin values become
// binary placeholders numbered in order, their bytes returned apart;
// timestamps become ISO 8601 text, as JSON.stringify writes a Date; other
// extensions, NaN and infinities become null.
func msgpackToJSON(b []byte) (json.RawMessage, [][]byte, error) {
	c := m2j{d: msgpack.NewDecoder(bytes.NewReader(b))}
	if err := c.value(0); err != nil {
		return nil, nil, fmt.Errorf("redisadapter: bad msgpack: %w", err)
	}
	return c.out.Bytes(), c.atts, nil
}

type m2j struct {
	d    *msgpack.Decoder
	out  bytes.Buffer
	atts [][]byte
}

func (c *m2j) value(depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	code, err := c.d.PeekCode()
	if err != nil {
		return err
	}
	switch {
	case code == msgpcode.Nil:
		c.out.WriteString("null")
		return c.d.DecodeNil()
	case code == msgpcode.False || code == msgpcode.True:
		v, err := c.d.DecodeBool()
		c.out.WriteString(strconv.FormatBool(v))
		return err
	case msgpcode.IsFixedNum(code) || code == msgpcode.Int8 || code == msgpcode.Int16 ||
		code == msgpcode.Int32 || code == msgpcode.Int64:
		v, err := c.d.DecodeInt64()
		c.out.WriteString(strconv.FormatInt(v, 10))
		return err
	case code == msgpcode.Uint8 || code == msgpcode.Uint16 || code == msgpcode.Uint32 || code == msgpcode.Uint64:
		v, err := c.d.DecodeUint64()
		c.out.WriteString(strconv.FormatUint(v, 10))
		return err
	case code == msgpcode.Float || code == msgpcode.Double:
		v, err := c.d.DecodeFloat64()
		if err != nil {
			return err
		}
		c.number(v)
		return nil
	case msgpcode.IsString(code):
		s, err := c.d.DecodeString()
		if err != nil {
			return err
		}
		c.str(s)
		return nil
	case msgpcode.IsBin(code):
		b, err := c.d.DecodeBytes()
		if err != nil {
			return err
		}
		fmt.Fprintf(&c.out, `{"_placeholder":true,"num":%d}`, len(c.atts))
		c.atts = append(c.atts, b)
		return nil
	case msgpcode.IsFixedArray(code) || code == msgpcode.Array16 || code == msgpcode.Array32:
		n, err := c.d.DecodeArrayLen()
		if err != nil {
			return err
		}
		c.out.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				c.out.WriteByte(',')
			}
			if err := c.value(depth + 1); err != nil {
				return err
			}
		}
		c.out.WriteByte(']')
		return nil
	case msgpcode.IsFixedMap(code) || code == msgpcode.Map16 || code == msgpcode.Map32:
		n, err := c.d.DecodeMapLen()
		if err != nil {
			return err
		}
		c.out.WriteByte('{')
		for i := 0; i < n; i++ {
			if i > 0 {
				c.out.WriteByte(',')
			}
			if err := c.key(); err != nil {
				return err
			}
			c.out.WriteByte(':')
			if err := c.value(depth + 1); err != nil {
				return err
			}
		}
		c.out.WriteByte('}')
		return nil
	case msgpcode.IsExt(code):
		id, n, err := c.d.DecodeExtHeader()
		if err != nil {
			return err
		}
		if n < 0 || n > 1<<20 {
			return fmt.Errorf("extension of %d bytes", n)
		}
		data := make([]byte, n)
		if err := c.d.ReadFull(data); err != nil {
			return err
		}
		if t, ok := timestamp(id, data); ok {
			c.str(t.UTC().Format("2006-01-02T15:04:05.000Z"))
		} else {
			c.out.WriteString("null")
		}
		return nil
	}
	return fmt.Errorf("unknown code 0x%02x", code)
}

// key writes a map key: strings as they are, anything else as JSON text
// inside a string, as JavaScript turns keys into strings.
func (c *m2j) key() error {
	code, err := c.d.PeekCode()
	if err != nil {
		return err
	}
	if msgpcode.IsString(code) {
		s, err := c.d.DecodeString()
		if err != nil {
			return err
		}
		c.str(s)
		return nil
	}
	sub := m2j{d: c.d}
	if err := sub.value(maxDepth - 1); err != nil {
		return err
	}
	c.str(sub.out.String())
	return nil
}

func (c *m2j) str(s string) {
	b, _ := json.Marshal(s) // a string always marshals
	c.out.Write(b)
}

func (c *m2j) number(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		c.out.WriteString("null") // as JSON.stringify
		return
	}
	b, _ := json.Marshal(f) // the shortest form, as JavaScript writes numbers
	c.out.Write(b)
}

// timestamp decodes the msgpack timestamp extension (-1).
func timestamp(id int8, b []byte) (time.Time, bool) {
	if id != -1 {
		return time.Time{}, false
	}
	switch len(b) {
	case 4:
		return time.Unix(int64(binary.BigEndian.Uint32(b)), 0), true
	case 8:
		v := binary.BigEndian.Uint64(b)
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)), true
	case 12:
		ns := binary.BigEndian.Uint32(b)
		sec := int64(binary.BigEndian.Uint64(b[4:]))
		return time.Unix(sec, int64(ns)), true
	}
	return time.Time{}, false
}

// ---------------------------------------------------------------------------
// JSON -> msgpack

// jsonToMsgpack converts JSON text to msgpack, keeping the order of object
// keys; with attachments, binary placeholders become bin values. Integers
// are written in the smallest msgpack integer type, other numbers as
// float64, as notepack does.
func jsonToMsgpack(js []byte, atts [][]byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(js))
	d.UseNumber()
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	root, err := parseNode(d, tok, 0)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("redisadapter: trailing data after JSON value")
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	if err := encodeNode(e, &root, atts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// jnode is a parsed JSON value, objects with their keys in order.
type jnode struct {
	kind byte // 'n'ull, 'b'ool, '#' number, 's'tring, '[' array, '{' object
	b    bool
	num  json.Number
	s    string
	keys []string
	vals []jnode
}

func parseNode(d *json.Decoder, tok json.Token, depth int) (jnode, error) {
	if depth > maxDepth {
		return jnode{}, errDepth
	}
	switch t := tok.(type) {
	case nil:
		return jnode{kind: 'n'}, nil
	case bool:
		return jnode{kind: 'b', b: t}, nil
	case json.Number:
		return jnode{kind: '#', num: t}, nil
	case string:
		return jnode{kind: 's', s: t}, nil
	case json.Delim:
		n := jnode{kind: byte(t)}
		for d.More() {
			if t == '{' {
				k, err := d.Token()
				if err != nil {
					return n, err
				}
				ks, _ := k.(string)
				n.keys = append(n.keys, ks)
			}
			v, err := d.Token()
			if err != nil {
				return n, err
			}
			child, err := parseNode(d, v, depth+1)
			if err != nil {
				return n, err
			}
			n.vals = append(n.vals, child)
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return n, err
		}
		return n, nil
	}
	return jnode{}, fmt.Errorf("redisadapter: unexpected JSON token %v", tok)
}

// placeholder reports the attachment a {"_placeholder":true,"num":N}
// object points to.
func (n *jnode) placeholder(atts [][]byte) (int, bool) {
	if n.kind != '{' || len(atts) == 0 || len(n.keys) != 2 {
		return 0, false
	}
	isPh, num := false, -1
	for i, k := range n.keys {
		v := &n.vals[i]
		switch {
		case k == "_placeholder" && v.kind == 'b' && v.b:
			isPh = true
		case k == "num" && v.kind == '#':
			if x, err := v.num.Int64(); err == nil && x >= 0 && x < int64(len(atts)) {
				num = int(x)
			}
		}
	}
	return num, isPh && num >= 0
}

func encodeNode(e *msgpack.Encoder, n *jnode, atts [][]byte) error {
	switch n.kind {
	case 'n':
		return e.EncodeNil()
	case 'b':
		return e.EncodeBool(n.b)
	case 's':
		return e.EncodeString(n.s)
	case '#':
		if i, err := n.num.Int64(); err == nil {
			return e.EncodeInt(i)
		}
		if u, err := strconv.ParseUint(string(n.num), 10, 64); err == nil {
			return e.EncodeUint(u)
		}
		f, err := n.num.Float64()
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return err
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return e.EncodeInt(int64(f)) // 1.0 is 1, as in JavaScript
		}
		return e.EncodeFloat64(f)
	case '[':
		if err := e.EncodeArrayLen(len(n.vals)); err != nil {
			return err
		}
		for i := range n.vals {
			if err := encodeNode(e, &n.vals[i], atts); err != nil {
				return err
			}
		}
		return nil
	case '{':
		if num, ok := n.placeholder(atts); ok {
			return e.EncodeBytes(atts[num])
		}
		if err := e.EncodeMapLen(len(n.vals)); err != nil {
			return err
		}
		for i := range n.vals {
			if err := e.EncodeString(n.keys[i]); err != nil {
				return err
			}
			if err := encodeNode(e, &n.vals[i], atts); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("redisadapter: bad node %q", n.kind)
}
