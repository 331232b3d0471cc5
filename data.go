package sori

import (
	"encoding/json"
	"sync"
)

// Data is a socket's own key-value store, safe for concurrent use. The
// chat keeps a socket's nickname there. FetchSockets carries it across a
// cluster as JSON, so keep values JSON-able.
type Data struct {
	mu sync.RWMutex
	m  map[string]any
}

// Get returns the value of key.
func (d *Data) Get(key string) (any, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v, ok := d.m[key]
	return v, ok
}

// String returns the value of key if it is a string, else def.
func (d *Data) String(key, def string) string {
	if v, ok := d.Get(key); ok {
		if s, ok := v.(string); ok {
			return s
		}
	}
	return def
}

// Set sets the value of key.
func (d *Data) Set(key string, value any) {
	d.mu.Lock()
	if d.m == nil {
		d.m = make(map[string]any)
	}
	d.m[key] = value
	d.mu.Unlock()
}

// Delete removes key.
func (d *Data) Delete(key string) {
	d.mu.Lock()
	delete(d.m, key)
	d.mu.Unlock()
}

// Range calls fn for each key and value until it returns false. fn must
// not change d.
func (d *Data) Range(fn func(key string, value any) bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for k, v := range d.m {
		if !fn(k, v) {
			return
		}
	}
}

// MarshalJSON writes the store as a JSON object.
func (d *Data) MarshalJSON() ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(d.m)
}

// UnmarshalJSON replaces the store with a JSON object's keys.
func (d *Data) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	d.mu.Lock()
	d.m = m
	d.mu.Unlock()
	return nil
}
