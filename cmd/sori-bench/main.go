// Command sori-bench measures Sori against the Node reference server
// (npm socket.io 4.8) on the same machine, with the same handlers.
//
//	sori-bench serve -addr 127.0.0.1:3000 [-debug-addr 127.0.0.1:6060]
//	sori-bench run [-out docs/bench] [-repeat 3] [-max-conns 19000] [-duration 3s]
//
// serve runs Sori alone with the bench handlers (default options,
// in-memory adapter):
//
//	enter_room(room, ack)        joins room, then acks
//	new_message(msg, room, ack)  sends new_message(msg) to the rest of
//	                             room, then acks
//
// and, with -debug-addr, expvar (/debug/vars: goroutines, sessions,
// memstats) and pprof (/debug/pprof/). bench/node-server.mjs is the same
// server on socket.io 4.8.
//
// run starts both servers as child processes, one after the other, and
// load generator processes ("sori-bench worker", raw Engine.IO/Socket.IO
// over WebSocket, one goroutine per connection), and measures the
// scenarios of docs/BENCHMARKS.md on each: idle connections, broadcast
// fan-out, acknowledgement round trips, churn. Each scenario is repeated
// (-repeat, or REPEAT); the table gives medians with min and max, and the
// Sori/Node ratio. With -out, a markdown report and SVG plots are written
// there. Everything runs on loopback, with bounded durations.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(args)
	case "run":
		err = run(args)
	case "worker":
		err = worker(os.Stdin, os.Stdout)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sori-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `usage:
  sori-bench serve -addr host:port [-debug-addr host:port]
  sori-bench run [-out dir] [-repeat n] [-max-conns n] [-duration d] [-scenarios idle,fanout,ack,churn]
`)
	os.Exit(2)
}
