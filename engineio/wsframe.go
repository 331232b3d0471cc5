package engineio

import "encoding/binary"

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opText   = 0x1
	opBinary = 0x2
)

// appendFrame appends one final, unmasked (server to client) data frame.
func appendFrame(dst []byte, opcode byte, payload []byte) []byte {
	dst = append(dst, 0x80|opcode)
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}
