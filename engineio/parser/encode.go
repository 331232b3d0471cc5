package parser

import "encoding/base64"

// AppendText appends the text form of a packet (type digit then data), as
// sent in a WebSocket text frame or inside a polling payload. Binary
// messages must go through AppendPayloadPacket or a binary frame instead.
func AppendText(dst []byte, t Type, data []byte) []byte {
	dst = append(dst, '0'+byte(t))
	return append(dst, data...)
}

// AppendPayloadPacket appends one packet as it appears in a polling payload:
// the text form, or "b" and base64 for a binary message. It does not add the
// separator.
func AppendPayloadPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	return AppendText(dst, p.Type, p.Data)
}

// PayloadPacketLen is the number of bytes AppendPayloadPacket writes for p.
func PayloadPacketLen(p Packet) int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// EncodePayload joins packets into one polling payload.
func EncodePayload(packets []Packet) []byte {
	n := 0
	for _, p := range packets {
		n += PayloadPacketLen(p) + 1
	}
	out := make([]byte, 0, n)
	for i, p := range packets {
		if i > 0 {
			out = append(out, Separator)
		}
		out = AppendPayloadPacket(out, p)
	}
	return out
}
