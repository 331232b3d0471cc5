package sori

import "sync"

// ParentNamespace gives its middleware and connection handlers to every
// namespace that OfFunc or OfRegexp makes for it.
type ParentNamespace struct {
	srv *Server
	p   *parentNamespace
}

type parentNamespace struct {
	*ParentNamespace
	match func(name string, auth []byte) bool

	mu           sync.RWMutex
	middlewares  []func(*Socket) error
	onConnection []func(*Socket)
}

// Use adds middleware run on every socket connecting to a child.
func (p *ParentNamespace) Use(fn func(*Socket) error) {
	p.p.mu.Lock()
	p.p.middlewares = append(p.p.middlewares, fn)
	p.p.mu.Unlock()
}

// OnConnection adds a handler run for every socket connected to a child.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.p.mu.Lock()
	p.p.onConnection = append(p.p.onConnection, fn)
	p.p.mu.Unlock()
}

// Emit sends an event to every socket of every child namespace.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	for _, nsp := range p.children() {
		if err := nsp.Emit(event, args...); err != nil {
			return err
		}
	}
	return nil
}

// Children lists the namespaces made for this parent.
func (p *ParentNamespace) Children() []*Namespace { return p.children() }

func (p *ParentNamespace) children() []*Namespace {
	p.srv.mu.RLock()
	defer p.srv.mu.RUnlock()
	var out []*Namespace
	for _, nsp := range p.srv.namespaces {
		if nsp.parent == p.p {
			out = append(out, nsp)
		}
	}
	return out
}
