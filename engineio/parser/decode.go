package parser

import (
	"bytes"
	"encoding/base64"
)

// DecodeText decodes the text form of one packet, as carried by a WebSocket
// text frame. Data aliases b.
func DecodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, invalid("empty packet")
	}
	t := Type(b[0] - '0')
	if b[0] < '0' || !t.Valid() {
		return Packet{}, invalid("unknown packet type %q", b[0])
	}
	return Packet{Type: t, Data: b[1:]}, nil
}

// DecodePayload splits a polling payload into its packets. Text packets
// alias body; binary ones are decoded from base64 into new slices. max, when
// positive, bounds the decoded size of one message: a larger one yields
// ErrTooLarge.
func DecodePayload(body []byte, max int) ([]Packet, error) {
	if len(body) == 0 {
		return nil, invalid("empty payload")
	}
	packets := make([]Packet, 0, bytes.Count(body, []byte{Separator})+1)
	for rest := body; ; {
		part, tail, more := bytes.Cut(rest, []byte{Separator})
		p, err := decodePayloadPacket(part)
		if err != nil {
			return nil, err
		}
		if max > 0 && len(p.Data) > max {
			return nil, ErrTooLarge
		}
		packets = append(packets, p)
		if !more {
			return packets, nil
		}
		rest = tail
	}
}

func decodePayloadPacket(b []byte) (Packet, error) {
	if len(b) > 0 && b[0] == 'b' {
		data := make([]byte, base64.StdEncoding.DecodedLen(len(b)-1))
		n, err := base64.StdEncoding.Decode(data, b[1:])
		if err != nil {
			return Packet{}, invalid("bad base64: %v", err)
		}
		return Packet{Type: Message, Data: data[:n], Binary: true}, nil
	}
	return DecodeText(b)
}
