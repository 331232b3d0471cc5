// Package metrics serves a Sori server's counters in the Prometheus text
// format, at /metrics, with no dependency beyond the standard library.
//
//	mux.Handle("/metrics", metrics.Handler(io))
//
// Series (all prefixed sori_): connections by transport, sockets and rooms
// per namespace, events and Engine.IO messages and bytes in and out,
// disconnects and engine closes by reason, adapter errors and request
// latency (cluster adapters), and the Go runtime's goroutines and heap.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/sori-dev/sori"
	"github.com/sori-dev/sori/adapter"
)

// Handler serves the metrics of io.
func Handler(io *sori.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		bw := bufio.NewWriter(w)
		Write(bw, io)
		_ = bw.Flush()
	})
}

// Write writes the metrics of io to w.
func Write(w io.Writer, io *sori.Server) {
	st := io.Stats()
	e := st.Engine

	family(w, "sori_connections", "gauge", "Open Engine.IO connections by transport.")
	for _, t := range sortedKeys(e.Sessions) {
		sample(w, "sori_connections", labels("transport", t), float64(e.Sessions[t]))
	}
	family(w, "sori_sockets", "gauge", "Connected sockets by namespace.")
	for _, n := range sortedKeys(st.Namespaces) {
		sample(w, "sori_sockets", labels("namespace", n), float64(st.Namespaces[n].Sockets))
	}
	family(w, "sori_rooms", "gauge", "Rooms with local sockets by namespace, private rooms aside.")
	for _, n := range sortedKeys(st.Namespaces) {
		sample(w, "sori_rooms", labels("namespace", n), float64(st.Namespaces[n].Rooms))
	}
	counter(w, "sori_events_received_total", "Events received from clients.", float64(st.EventsIn))
	counter(w, "sori_events_sent_total", "Events queued for clients, once per receiver.", float64(st.EventsOut))
	counter(w, "sori_engine_messages_received_total", "Engine.IO messages received.", float64(e.MessagesIn))
	counter(w, "sori_engine_messages_sent_total", "Engine.IO packets written.", float64(e.MessagesOut))
	counter(w, "sori_engine_bytes_received_total", "Bytes of Engine.IO messages received.", float64(e.BytesIn))
	counter(w, "sori_engine_bytes_sent_total", "Bytes written to clients.", float64(e.BytesOut))

	family(w, "sori_disconnects_total", "counter", "Sockets disconnected, by reason.")
	for _, r := range sortedKeys(st.Disconnects) {
		sample(w, "sori_disconnects_total", labels("reason", r), float64(st.Disconnects[r]))
	}
	family(w, "sori_engine_closes_total", "counter", "Engine.IO connections closed, by reason.")
	for _, r := range sortedKeys(e.Closed) {
		sample(w, "sori_engine_closes_total", labels("reason", string(r)), float64(e.Closed[r]))
	}

	var as adapter.Stats
	if in, ok := io.Sockets().Adapter().(adapter.Instrumented); ok {
		as = in.Stats()
	}
	counter(w, "sori_adapter_errors_total", "Cluster adapter failures.", float64(as.Errors))
	family(w, "sori_adapter_request_duration_seconds", "summary", "Cluster requests and their duration.")
	sample(w, "sori_adapter_request_duration_seconds_count", "", float64(as.Requests))
	sample(w, "sori_adapter_request_duration_seconds_sum", "", as.RequestDuration.Seconds())

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gauge(w, "sori_goroutines", "Goroutines.", float64(runtime.NumGoroutine()))
	gauge(w, "sori_heap_inuse_bytes", "Heap in use.", float64(ms.HeapInuse))
}

func family(w io.Writer, name, kind, help string) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind)
}

func counter(w io.Writer, name, help string, v float64) {
	family(w, name, "counter", help)
	sample(w, name, "", v)
}

func gauge(w io.Writer, name, help string, v float64) {
	family(w, name, "gauge", help)
	sample(w, name, "", v)
}

func sample(w io.Writer, name, lbls string, v float64) {
	fmt.Fprintf(w, "%s%s %s\n", name, lbls, strconv.FormatFloat(v, 'g', -1, 64))
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func labels(k, v string) string { return "{" + k + `="` + escaper.Replace(v) + `"}` }

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
