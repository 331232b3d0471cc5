package engineio

import (
	"encoding/binary"
	"errors"
)

// WebSocket opcodes read from clients (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

var (
	errWSProtocol = errors.New("engine.io: websocket protocol error")
	errWSTooBig   = errors.New("engine.io: websocket message over maxHttpBufferSize")
)

// frameReader decodes the frames a client sends, from reads that may end
// anywhere: a frame cut by a read waits in partial for the rest. Between
// messages it holds no buffer at all, so an idle connection costs nothing
// here.
type frameReader struct {
	max     int    // the largest message payload
	partial []byte // the start of an incomplete frame
	msg     []byte // the fragments of a message in progress
	msgOp   byte   // the opcode of that message, 0 when none
}

// frameHandler receives each message (opText or opBinary, the payload is
// the handler's) and each control frame (opClose, opPing, opPong, the
// payload only valid during the call).
type frameHandler func(op byte, payload []byte) error

// feed parses data, which it may modify (unmasking in place), calling h for
// what it completes.
func (r *frameReader) feed(data []byte, h frameHandler) error {
	if len(r.partial) > 0 {
		data = append(r.partial, data...)
		r.partial = nil
	}
	for len(data) > 0 {
		n, err := r.frame(data, h)
		if err != nil {
			return err
		}
		if n == 0 { // incomplete: keep it, in a buffer of its own
			r.partial = append(make([]byte, 0, len(data)), data...)
			return nil
		}
		data = data[n:]
	}
	return nil
}

// frame handles the frame at the start of b and returns its length, or 0
// when b does not hold all of it yet.
func (r *frameReader) frame(b []byte, h frameHandler) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, b[0]&0x0f
	masked, n7 := b[1]&0x80 != 0, int(b[1]&0x7f)
	if rsv != 0 || !masked {
		return 0, errWSProtocol // no extension negotiated here; clients must mask
	}
	head := 2
	var size uint64
	switch n7 {
	case 126:
		head += 2
		if len(b) < head {
			return 0, nil
		}
		size = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		head += 8
		if len(b) < head {
			return 0, nil
		}
		size = binary.BigEndian.Uint64(b[2:])
	default:
		size = uint64(n7)
	}
	control := op >= opClose
	switch {
	case control && (size > 125 || !fin):
		return 0, errWSProtocol
	case !control && size > uint64(r.max-len(r.msg)):
		return 0, errWSTooBig // refused from its header, before it arrives
	}
	head += 4
	if uint64(len(b)-head) < size || len(b) < head {
		return 0, nil
	}
	payload := b[head : head+int(size)]
	unmask(payload, b[head-4:head])
	total := head + int(size)

	switch op {
	case opText, opBinary:
		if r.msgOp != 0 {
			return 0, errWSProtocol // a new message inside a fragmented one
		}
		if fin {
			return total, h(op, append([]byte(nil), payload...))
		}
		r.msgOp, r.msg = op, append([]byte(nil), payload...)
	case opContinuation:
		if r.msgOp == 0 {
			return 0, errWSProtocol
		}
		r.msg = append(r.msg, payload...)
		if fin {
			op, msg := r.msgOp, r.msg
			r.msgOp, r.msg = 0, nil
			return total, h(op, msg)
		}
	case opClose, opPing, opPong:
		return total, h(op, payload)
	default:
		return 0, errWSProtocol
	}
	return total, nil
}

// unmask XORs b with the 4-byte key, eight bytes at a time.
func unmask(b, key []byte) {
	k := uint64(binary.LittleEndian.Uint32(key))
	k |= k << 32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}
