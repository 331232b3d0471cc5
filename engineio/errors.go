package engineio

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// ErrorCode is the code in the JSON body of a refused HTTP request, as the
// reference server numbers them.
type ErrorCode int

// The reference server's error codes.
const (
	CodeUnknownTransport ErrorCode = iota
	CodeUnknownSID
	CodeBadHandshakeMethod
	CodeBadRequest
	CodeForbidden
	CodeUnsupportedProtocolVersion
)

var codeMessages = [...]string{
	"Transport unknown",
	"Session ID unknown",
	"Bad handshake method",
	"Bad request",
	"Forbidden",
	"Unsupported protocol version",
}

// Message returns the reference server's text for the code.
func (c ErrorCode) Message() string {
	if c >= 0 && int(c) < len(codeMessages) {
		return codeMessages[c]
	}
	return "Error " + strconv.Itoa(int(c))
}

// RequestError refuses a request. Returned by Options.AllowRequest, its
// Message replaces the default text of CodeForbidden.
type RequestError struct {
	Code    ErrorCode
	Message string
}

func (e *RequestError) Error() string {
	if e.Message != "" {
		return "engine.io: " + e.Message
	}
	return "engine.io: " + e.Code.Message()
}

// ErrSessionClosed is returned when sending on a closed session.
var ErrSessionClosed = errors.New("engine.io: session closed")

// writeError answers a refused request: status 403 for CodeForbidden, else
// 400, with the body {"code":N,"message":"..."}.
func writeError(w http.ResponseWriter, code ErrorCode, message string) {
	status := http.StatusBadRequest
	if code == CodeForbidden {
		status = http.StatusForbidden
	}
	writeErrorStatus(w, status, code, message)
}

func writeErrorStatus(w http.ResponseWriter, status int, code ErrorCode, message string) {
	if message == "" {
		message = code.Message()
	}
	body, _ := json.Marshal(struct {
		Code    ErrorCode `json:"code"`
		Message string    `json:"message"`
	}{code, message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
