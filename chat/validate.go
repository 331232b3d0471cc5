package chat

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what people type, in Unicode code points.
const (
	MaxNickname = 32
	MaxRoom     = 64
	MaxMessage  = 2000
)

// The refusals, word for word as the reference server sends them.
const (
	ErrNickname  = "nickname must be 1-32 characters"
	ErrRoom      = "room name must be 1-64 characters"
	ErrMessage   = "message must be 1-2000 characters"
	ErrNotInRoom = "not in room"
	// ErrTooManyRooms: the socket is in as many rooms as the server allows.
	ErrTooManyRooms = "too many rooms"
)

// clean trims v as JavaScript's String.prototype.trim does and checks its
// length; ok is false for a value that is not a string, is empty, or is
// longer than max.
func clean(v any, max int) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	s = strings.TrimFunc(s, isJSSpace)
	n := utf8.RuneCountInString(s)
	return s, n >= 1 && n <= max
}

// isJSSpace is ECMAScript's WhiteSpace and LineTerminator: what trim()
// removes in the browser, so both servers agree on what is empty.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', 0xFEFF, 0x2028, 0x2029:
		return true
	}
	return unicode.Is(unicode.Zs, r)
}
