package client

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
)

// executor runs the user's handlers one at a time, in order, on a goroutine
// that exists only while there is work. wait lets Close wait for it, except
// from a handler itself (Close called in a handler does not wait for that
// handler to return).
type executor struct {
	mu      sync.Mutex
	idle    *sync.Cond
	tasks   []func()
	running bool
	goid    uint64 // the running goroutine's id
}

func newExecutor() *executor {
	x := &executor{}
	x.idle = sync.NewCond(&x.mu)
	return x
}

func (x *executor) do(task func()) {
	x.mu.Lock()
	x.tasks = append(x.tasks, task)
	if x.running {
		x.mu.Unlock()
		return
	}
	x.running = true
	x.mu.Unlock()
	go x.run()
}

func (x *executor) run() {
	id := goid()
	x.mu.Lock()
	x.goid = id
	for len(x.tasks) > 0 {
		task := x.tasks[0]
		x.tasks[0] = nil
		x.tasks = x.tasks[1:]
		x.mu.Unlock()
		task()
		x.mu.Lock()
	}
	x.tasks = nil
	x.running = false
	x.goid = 0
	x.idle.Broadcast()
	x.mu.Unlock()
}

// wait returns once no task is queued or running, unless it is called from
// a task.
func (x *executor) wait() {
	id := goid()
	x.mu.Lock()
	for x.running && x.goid != id {
		x.idle.Wait()
	}
	x.mu.Unlock()
}

// goid is the current goroutine's id, from the first line of its stack
// ("goroutine 123 [running]:").
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}
