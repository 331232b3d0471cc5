// Command nethttp mounts Sori on net/http's ServeMux next to a page of its
// own: the page loads the client from /socket.io/socket.io.js, served by
// Sori itself, and echoes what you type.
//
//	go run ./examples/nethttp -addr 127.0.0.1:8080
//
// then open http://127.0.0.1:8080/. (The client bundle is embedded by
// `make build`; without it, load the client from a CDN instead.)
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/sori-dev/sori"
)

const page = `<!doctype html>
<meta charset="utf-8">
<title>Sori echo</title>
<form id="f"><input id="m" autocomplete="off" autofocus><button>Send</button></form>
<ul id="log"></ul>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io();
  const add = (text) => {
    const li = document.createElement("li");
    li.textContent = text;
    document.getElementById("log").append(li);
  };
  socket.on("connect", () => add("connected as " + socket.id));
  socket.on("disconnect", (reason) => add("disconnected: " + reason));
  socket.on("echo", (text, at) => add("echo: " + text + " (" + at + ")"));
  document.getElementById("f").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("m");
    socket.emit("shout", input.value, (upper) => add("ack: " + upper));
    input.value = "";
  });
</script>
`

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	io := sori.NewServer(nil)
	io.OnConnection(func(s *sori.Socket) {
		log.Printf("%s connected over %s", s.ID(), s.Transport())
		// The acknowledgement answers the client's callback; the event goes
		// to every socket.
		_ = s.On("shout", func(text string, ack func(string)) {
			ack(strings.ToUpper(text))
			_ = io.Emit("echo", text, time.Now().Format(time.TimeOnly))
		})
		_ = s.On("disconnect", func(reason string) { log.Printf("%s left: %s", s.ID(), reason) })
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io) // the path must match the server's, /socket.io/ by default
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})

	hs := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Close(shutdown) // sockets first: the clients see the server go and reconnect later
		_ = hs.Shutdown(shutdown)
	}()
	log.Printf("listening on http://%s/", *addr)
	if err := hs.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
