package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// config is what a run measures.
type config struct {
	out        string
	repeat     int
	maxConns   int
	duration   time.Duration
	scenarios  []string
	servers    []string
	nodeScript string
	profileDir string
	perWorker  int
	src        []string

	idleSizes []int
	fanRooms  []int
	fanLoad   float64 // deliveries a second in the fixed-rate fan-out phase
	ackConns  int
	ackRates  []float64
	churnRate float64
	churnDur  time.Duration
	churnHold time.Duration
	msgSize   int
}

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	c := config{}
	repeat := 3
	if v, err := strconv.Atoi(os.Getenv("REPEAT")); err == nil && v > 0 {
		repeat = v
	}
	fs.StringVar(&c.out, "out", "", "write results.md and SVG plots into this directory")
	fs.IntVar(&c.repeat, "repeat", repeat, "repetitions of each scenario (REPEAT)")
	fs.IntVar(&c.maxConns, "max-conns", 19000, "largest idle connection count (the server's open-file limit bounds it)")
	fs.DurationVar(&c.duration, "duration", 3*time.Second, "length of each measured phase")
	scen := fs.String("scenarios", "idle,fanout,ack,churn", "scenarios to run")
	servers := fs.String("servers", "sori,node", "servers to measure")
	fs.StringVar(&c.nodeScript, "node-server", "bench/node-server.mjs", "the Node reference server script")
	fs.StringVar(&c.profileDir, "profile", "", "save Sori pprof profiles (idle heap, fan-out CPU) into this directory")
	fs.IntVar(&c.perWorker, "per-worker", 9500, "connections per load generator process")
	fs.Float64Var(&c.fanLoad, "fanout-load", 20000, "deliveries a second in the fixed-rate fan-out phase")
	fs.Float64Var(&c.churnRate, "churn-rate", 200, "connections a second in the churn scenario")
	fs.DurationVar(&c.churnDur, "churn-duration", 6*time.Second, "length of the churn")
	fs.DurationVar(&c.churnHold, "churn-hold", 500*time.Millisecond, "how long each churning client stays")
	_ = fs.Parse(args)

	c.scenarios = strings.Split(*scen, ",")
	c.servers = strings.Split(*servers, ",")
	c.msgSize = 80
	c.ackConns = 1000
	c.ackRates = []float64{1000, 5000, 20000}
	c.fanRooms = []int{1000, 10000}
	for i := 2; i < 10; i++ {
		c.src = append(c.src, fmt.Sprintf("127.0.0.%d", i))
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
		if maxFit := int(lim.Max) - 200; c.maxConns > maxFit {
			fmt.Fprintf(os.Stderr, "sori-bench: -max-conns %d lowered to %d: the server is one process with an open-file limit of %d\n",
				c.maxConns, maxFit, lim.Max)
			c.maxConns = maxFit
		}
	}
	for _, n := range []int{1000, 10000, c.maxConns} {
		if n <= c.maxConns && !slices.Contains(c.idleSizes, n) {
			c.idleSizes = append(c.idleSizes, n)
		}
	}
	// A fan-out room and its sender are in one load generator process.
	c.fanRooms = slices.DeleteFunc(c.fanRooms, func(n int) bool { return n+1 > c.maxConns })

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, c)
	if err != nil {
		return err
	}
	defer b.close()
	start := time.Now()
	for _, s := range c.scenarios {
		var err error
		switch s {
		case "idle":
			err = b.idle()
		case "fanout":
			err = b.fanout()
		case "ack":
			err = b.ackRTT()
		case "churn":
			err = b.churn()
		default:
			err = fmt.Errorf("unknown scenario %q", s)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	b.res.elapsed = time.Since(start)
	fmt.Println()
	fmt.Print(b.res.table(c.servers))
	if c.out != "" {
		if err := b.res.write(c, c.out); err != nil {
			return err
		}
		fmt.Printf("\nwrote %s\n", filepath.Join(c.out, "results.md"))
	}
	return nil
}

// bench holds the load generators and the results.
type bench struct {
	ctx     context.Context
	c       config
	self    string
	workers []*workerProc
	res     *results
}

func newBench(ctx context.Context, c config) (*bench, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b := &bench{ctx: ctx, c: c, self: self, res: newResults()}
	n := 1
	for _, s := range c.scenarios {
		if s == "idle" {
			n = max(n, (c.maxConns+c.perWorker-1)/c.perWorker)
		}
	}
	for range n {
		w, err := startWorker(ctx, self)
		if err != nil {
			b.close()
			return nil, err
		}
		b.workers = append(b.workers, w)
	}
	return b, nil
}

func (b *bench) close() {
	for _, w := range b.workers {
		w.stop()
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// Child processes.

func command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive us
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

type workerProc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	dec *json.Decoder
	mu  sync.Mutex
}

func startWorker(ctx context.Context, self string) (*workerProc, error) {
	cmd := command(ctx, self, "worker")
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &workerProc{cmd: cmd, in: in, dec: json.NewDecoder(bufio.NewReader(out))}, nil
}

func (w *workerProc) call(req request) (response, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	b, _ := json.Marshal(req)
	if _, err := w.in.Write(append(b, '\n')); err != nil {
		return response{}, err
	}
	var resp response
	if err := w.dec.Decode(&resp); err != nil {
		return response{}, fmt.Errorf("worker: %w", err)
	}
	if resp.Err != "" {
		return resp, errors.New(resp.Err)
	}
	return resp, nil
}

func (w *workerProc) stop() {
	_, _ = w.call(request{Op: "exit"})
	_ = w.in.Close()
	done := make(chan struct{})
	go func() { _ = w.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = w.cmd.Process.Kill()
		<-done
	}
}

// callAll runs one request per worker at once.
func callAll(ws []*workerProc, reqs []request) ([]response, error) {
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = ws[i].call(reqs[i])
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// serverProc is a server under test.
type serverProc struct {
	kind      string
	cmd       *exec.Cmd
	addr      string
	debugAddr string
	done      chan struct{}
}

func (b *bench) startServer(kind string) (*serverProc, error) {
	var cmd *exec.Cmd
	switch kind {
	case "sori":
		cmd = command(b.ctx, b.self, "serve", "-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0")
	case "node":
		cmd = command(b.ctx, "node", b.c.nodeScript, "--port", "0")
	default:
		return nil, fmt.Errorf("unknown server %q", kind)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &serverProc{kind: kind, cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
	}()
	go func() { _ = cmd.Wait(); close(s.done) }()
	timeout := time.After(20 * time.Second)
	for s.addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				return nil, fmt.Errorf("%s server exited before listening", kind)
			}
			if a, ok := strings.CutPrefix(l, "debug listening on "); ok {
				s.debugAddr = a
			} else if a, ok := strings.CutPrefix(l, "listening on "); ok {
				s.addr = a
			}
		case <-timeout:
			s.stop()
			return nil, fmt.Errorf("%s server did not start", kind)
		}
	}
	time.Sleep(300 * time.Millisecond) // let it settle before the baseline
	return s, nil
}

func (s *serverProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func (s *serverProc) stats() procStats {
	ps, err := readProc(s.cmd.Process.Pid)
	if err != nil {
		logf("reading /proc of the %s server: %v", s.kind, err)
	}
	return ps
}

// vars reads Sori's expvars: goroutines and memstats.
type vars struct {
	Goroutines int `json:"goroutines"`
	Sessions   int `json:"sessions"`
	Memstats   struct {
		HeapInuse  uint64 `json:"HeapInuse"`
		StackInuse uint64 `json:"StackInuse"`
		Sys        uint64 `json:"Sys"`
	} `json:"memstats"`
}

func (s *serverProc) vars(gc bool) (vars, bool) {
	var v vars
	if s.debugAddr == "" {
		return v, false
	}
	if gc {
		if resp, err := http.Get("http://" + s.debugAddr + "/debug/gc"); err == nil {
			_ = resp.Body.Close()
		}
	}
	resp, err := http.Get("http://" + s.debugAddr + "/debug/vars")
	if err != nil {
		return v, false
	}
	defer resp.Body.Close()
	return v, json.NewDecoder(resp.Body).Decode(&v) == nil
}

// profile saves a pprof profile of Sori into the profile directory.
func (b *bench) profile(s *serverProc, path, name string) {
	if b.c.profileDir == "" || s.debugAddr == "" {
		return
	}
	if err := os.MkdirAll(b.c.profileDir, 0o755); err != nil {
		logf("profile: %v", err)
		return
	}
	resp, err := http.Get("http://" + s.debugAddr + path)
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(b.c.profileDir, name))
	if err != nil {
		logf("profile: %v", err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

// connectAll spreads n connections over the workers and opens them.
func (b *bench) connectAll(s *serverProc, n int) (ok int64, wall time.Duration, h snapshot, err error) {
	k := min(len(b.workers), (n+b.c.perWorker-1)/b.c.perWorker)
	reqs := make([]request, k)
	for i := range reqs {
		share := n / k
		if i < n%k {
			share++
		}
		reqs[i] = request{Op: "connect", Addr: s.addr, N: share, Conc: 100 / k, Src: b.c.src}
	}
	start := time.Now()
	resps, err := callAll(b.workers[:k], reqs)
	wall = time.Since(start)
	var hs []snapshot
	for _, r := range resps {
		ok += r.OK
		hs = append(hs, r.Hist)
		if r.Failed > 0 {
			logf("%s: %d connections failed: %s", s.kind, r.Failed, r.FirstErr)
		}
	}
	return ok, wall, merged(hs...), err
}

func (b *bench) closeAll() {
	reqs := make([]request, len(b.workers))
	for i := range reqs {
		reqs[i] = request{Op: "close"}
	}
	if _, err := callAll(b.workers, reqs); err != nil {
		logf("close: %v", err)
	}
}

func label(n int) string {
	if n%1000 == 0 {
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// Scenario 1: idle connections.
func (b *bench) idle() error {
	for _, n := range b.c.idleSizes {
		scen := "idle " + label(n)
		for _, kind := range b.c.servers {
			for rep := range b.c.repeat {
				s, err := b.startServer(kind)
				if err != nil {
					return err
				}
				// The baseline after a collection (Sori): conservative for
				// Sori's RSS per connection.
				v0, hasVars := s.vars(true)
				before := s.stats()
				ok, wall, h, err := b.connectAll(s, n)
				if err != nil {
					s.stop()
					return err
				}
				time.Sleep(2 * time.Second)
				after := s.stats()
				logf("%s %s #%d: %d/%d connected in %v (%.0f/s), RSS %.1f MB -> %.1f MB",
					scen, kind, rep+1, ok, n, wall.Round(time.Millisecond), float64(ok)/wall.Seconds(),
					float64(before.rss)/(1<<20), float64(after.rss)/(1<<20))
				r := b.res
				r.add(scen, "connected", "conns", higher, kind, float64(ok))
				r.add(scen, "connect rate", "conn/s", higher, kind, float64(ok)/wall.Seconds())
				r.add(scen, "handshake p50", "ms", lower, kind, ms(h.quantile(0.50)))
				r.add(scen, "handshake p99", "ms", lower, kind, ms(h.quantile(0.99)))
				if ok > 0 {
					r.add(scen, "server RSS per conn", "KB", lower, kind, float64(after.rss-before.rss)/float64(ok)/1024)
				}
				r.addPoint("rss", kind, float64(n), float64(after.rss)/(1<<20))
				if rep == 0 {
					r.addPoint("rss", kind, 0, float64(before.rss)/(1<<20))
				}
				if hasVars && ok > 0 {
					v1, _ := s.vars(false)
					r.add(scen, "goroutines per conn", "", lower, kind, float64(v1.Goroutines-v0.Goroutines)/float64(ok))
					if rep == 0 && n == 10000 {
						b.profile(s, "/debug/pprof/heap?gc=1", "heap-idle-10k.pb.gz")
						b.profile(s, "/debug/pprof/goroutine", "goroutine-idle-10k.pb.gz")
					}
					v2, _ := s.vars(true)
					r.add(scen, "Go heap+stacks per conn after GC", "KB", lower, kind,
						float64(v2.Memstats.HeapInuse+v2.Memstats.StackInuse-v0.Memstats.HeapInuse-v0.Memstats.StackInuse)/float64(ok)/1024)
				}
				b.closeAll()
				s.stop()
			}
		}
	}
	return nil
}

// Scenario 2: broadcast fan-out.
func (b *bench) fanout() error {
	w := b.workers[0]
	biggest := slices.Max(b.c.fanRooms)
	for _, kind := range b.c.servers {
		s, err := b.startServer(kind)
		if err != nil {
			return err
		}
		resp, err := w.call(request{Op: "connect", Addr: s.addr, N: biggest + 1, Conc: 100, Src: b.c.src})
		if err != nil || resp.OK != int64(biggest+1) {
			s.stop()
			return fmt.Errorf("%s: connected %d of %d: %v %s", kind, resp.OK, biggest+1, err, resp.FirstErr)
		}
		for _, room := range b.c.fanRooms {
			if _, err := w.call(request{Op: "join", Room: "r" + label(room), From: 0, To: room}); err != nil {
				s.stop()
				return err
			}
		}
		for _, room := range b.c.fanRooms {
			scen := "fan-out " + label(room)
			phase := func(window int, rate float64) (response, procStats, error) {
				before := s.stats()
				resp, err := w.call(request{Op: "fanout", Sender: biggest, Room: "r" + label(room), Members: room,
					Window: window, Rate: rate, Duration: b.c.duration, MsgSize: b.c.msgSize})
				d := s.stats().sub(before)
				if err == nil && resp.FirstErr != "" {
					err = errors.New(resp.FirstErr)
				}
				return resp, d, err
			}
			// Warm up, and profile Sori at saturation once, apart from
			// the measured runs.
			if kind == "sori" && b.c.profileDir != "" {
				done := make(chan struct{})
				go func() {
					defer close(done)
					secs := max(1, int(b.c.duration.Seconds()))
					b.profile(s, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), "cpu-fanout-"+label(room)+".pb.gz")
				}()
				if _, _, err := phase(max(2, 20000/room), 0); err != nil {
					logf("%s %s profile run: %v", scen, kind, err)
				}
				<-done
			} else if _, _, err := phase(max(2, 20000/room), 0); err != nil {
				logf("%s %s warm-up: %v", scen, kind, err)
			}
			for rep := range b.c.repeat {
				r := b.res
				resp, d, err := phase(max(2, 20000/room), 0)
				if err != nil {
					logf("%s %s saturation #%d: %v", scen, kind, rep+1, err)
				}
				rate := float64(resp.Count) / resp.Elapsed.Seconds()
				logf("%s %s saturation #%d: %d deliveries in %v: %.0f/s, p99 %.2f ms, CPU %v, %d writes",
					scen, kind, rep+1, resp.Count, resp.Elapsed.Round(time.Millisecond), rate, ms(resp.Hist.quantile(0.99)), d.cpu, d.syscw)
				r.add(scen, "max deliveries/s", "msg/s", higher, kind, rate)
				r.add(scen, "p99 at saturation", "ms", lower, kind, ms(resp.Hist.quantile(0.99)))
				if resp.Count > 0 {
					r.add(scen, "CPU per delivery at saturation", "µs", lower, kind, float64(d.cpu.Microseconds())/float64(resp.Count))
				}

				msgRate := b.c.fanLoad / float64(room)
				resp, d, err = phase(0, msgRate)
				if err != nil {
					logf("%s %s fixed rate #%d: %v", scen, kind, rep+1, err)
				}
				h := resp.Hist
				logf("%s %s at %.0f deliveries/s #%d: %d of %d delivered, p50 %.2f p99 %.2f p99.9 %.2f ms, CPU %v, %d writes",
					scen, kind, b.c.fanLoad, rep+1, resp.Count, resp.Sent*int64(room),
					ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), d.cpu, d.syscw)
				load := fmt.Sprintf(" @%s/s", label(int(b.c.fanLoad)))
				r.add(scen, "delivery p50"+load, "ms", lower, kind, ms(h.quantile(0.5)))
				r.add(scen, "delivery p99"+load, "ms", lower, kind, ms(h.quantile(0.99)))
				r.add(scen, "delivery p99.9"+load, "ms", lower, kind, ms(h.quantile(0.999)))
				if resp.Count > 0 {
					r.add(scen, "CPU per delivery"+load, "µs", lower, kind, float64(d.cpu.Microseconds())/float64(resp.Count))
					r.add(scen, "write syscalls per delivery"+load, "", lower, kind, float64(d.syscw)/float64(resp.Count))
				}
				r.addPoint("fanout-p99-"+label(room), kind, b.c.fanLoad, ms(h.quantile(0.99)))
			}
		}
		b.closeAll()
		s.stop()
	}
	return nil
}

// Scenario 3: acknowledgement round trips.
func (b *bench) ackRTT() error {
	w := b.workers[0]
	for _, kind := range b.c.servers {
		s, err := b.startServer(kind)
		if err != nil {
			return err
		}
		resp, err := w.call(request{Op: "connect", Addr: s.addr, N: b.c.ackConns, Conc: 100, Src: b.c.src})
		if err != nil || resp.OK != int64(b.c.ackConns) {
			s.stop()
			return fmt.Errorf("%s: connected %d of %d: %v", kind, resp.OK, b.c.ackConns, err)
		}
		// Warm-up.
		if _, err := w.call(request{Op: "ack", From: 0, To: b.c.ackConns, Rate: 2000, Duration: time.Second, MsgSize: b.c.msgSize}); err != nil {
			logf("ack warm-up: %v", err)
		}
		for _, rate := range b.c.ackRates {
			scen := "ack " + label(int(rate)) + "/s"
			for rep := range b.c.repeat {
				before := s.stats()
				var prof sync.WaitGroup
				if kind == "sori" && rep == 0 && b.c.profileDir != "" {
					// Sori's CPU profile of the measured phase, once per rate.
					secs := max(1, int(b.c.duration.Seconds()))
					prof.Go(func() {
						b.profile(s, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), "cpu-ack-"+label(int(rate))+".pb.gz")
					})
				}
				resp, err := w.call(request{Op: "ack", From: 0, To: b.c.ackConns, Rate: rate,
					Duration: b.c.duration, Warmup: 500 * time.Millisecond, MsgSize: b.c.msgSize})
				prof.Wait()
				d := s.stats().sub(before)
				if err != nil {
					s.stop()
					return err
				}
				h := resp.Hist
				logf("%s %s #%d: %d/%d acked, p50 %.3f p99 %.3f p99.9 %.3f ms, CPU %v",
					scen, kind, rep+1, resp.Count, resp.Sent, ms(h.quantile(0.5)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), d.cpu)
				r := b.res
				r.add(scen, "ack p50", "ms", lower, kind, ms(h.quantile(0.5)))
				r.add(scen, "ack p99", "ms", lower, kind, ms(h.quantile(0.99)))
				r.add(scen, "ack p99.9", "ms", lower, kind, ms(h.quantile(0.999)))
				if resp.Count > 0 {
					r.add(scen, "CPU per message", "µs", lower, kind, float64(d.cpu.Microseconds())/float64(resp.Count))
				}
				r.add(scen, "acks missing", "", lower, kind, float64(resp.Sent-resp.Count))
				r.addPoint("ack-p50", kind, rate, ms(h.quantile(0.5)))
				r.addPoint("ack-p99", kind, rate, ms(h.quantile(0.99)))
			}
		}
		b.closeAll()
		s.stop()
	}
	return nil
}

// Scenario 4: churn.
func (b *bench) churn() error {
	w := b.workers[0]
	scen := fmt.Sprintf("churn %s/s", label(int(b.c.churnRate)))
	for _, kind := range b.c.servers {
		for rep := range b.c.repeat {
			s, err := b.startServer(kind)
			if err != nil {
				return err
			}
			req := request{Op: "churn", Addr: s.addr, Rate: b.c.churnRate, Duration: time.Second, Hold: b.c.churnHold, Src: b.c.src}
			if _, err := w.call(req); err != nil { // warm-up
				s.stop()
				return err
			}
			time.Sleep(b.c.churnHold + 1500*time.Millisecond)
			v0, hasVars := s.vars(true)
			before := s.stats()
			req.Duration = b.c.churnDur
			resp, err := w.call(req)
			if err != nil {
				s.stop()
				return err
			}
			time.Sleep(b.c.churnHold + 2500*time.Millisecond)
			after := s.stats()
			r := b.res
			r.add(scen, "connections churned", "conns", higher, kind, float64(resp.OK))
			r.add(scen, "failed", "conns", lower, kind, float64(resp.Failed))
			r.add(scen, "RSS after - before", "MB", lower, kind, float64(after.rss-before.rss)/(1<<20))
			msg := ""
			if hasVars {
				v1, _ := s.vars(false)
				r.add(scen, "goroutines after - before", "", lower, kind, float64(v1.Goroutines-v0.Goroutines))
				r.add(scen, "sessions left", "", lower, kind, float64(v1.Sessions))
				g1, _ := s.vars(true)
				r.add(scen, "Go heap after GC - before", "KB", lower, kind, (float64(g1.Memstats.HeapInuse)-float64(v0.Memstats.HeapInuse))/1024)
				msg = fmt.Sprintf(", goroutines %d -> %d, sessions left %d", v0.Goroutines, v1.Goroutines, v1.Sessions)
			}
			logf("%s %s #%d: %d churned (%d failed), RSS %.1f -> %.1f MB%s", scen, kind, rep+1, resp.OK, resp.Failed,
				float64(before.rss)/(1<<20), float64(after.rss)/(1<<20), msg)
			s.stop()
		}
	}
	return nil
}

// median, min and max of values.
func stats(v []float64) (med, lo, hi float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	med = s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return med, s[0], s[n-1]
}
