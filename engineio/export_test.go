package engineio

// Hooks for the tests in package engineio_test: they let a test wait for a
// state instead of sleeping.

// PollWaiting reports whether a long-polling GET is waiting on s.
func PollWaiting(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.poll != nil
}

// Posting reports whether a polling POST is being read for s.
func Posting(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posting
}

// Probing reports whether s has a WebSocket offered for upgrade, and
// whether that probe has been answered.
func Probing(s *Session) (probe, probed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probe != nil, s.probed
}

// Writing reports whether s has a writer goroutine.
func Writing(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writing
}
