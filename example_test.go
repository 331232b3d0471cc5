package sori_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"time"

	"github.com/sori-dev/sori"
)

// The examples run a real server on a local port and talk to it with a
// bare client (see exampleclient_test.go); a browser or Node would use the
// official socket.io-client instead.

func Example() {
	io := sori.NewServer(nil)
	io.OnConnection(func(s *sori.Socket) {
		// Parameters are decoded from the event's arguments; a last func
		// parameter answers the client's callback.
		_ = s.On("greet", func(name string, ack func(string)) {
			ack("hello, " + name)
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	defer io.Close(context.Background())

	c, err := dialClient(ts.URL, "/", nil)
	if err != nil {
		panic(err)
	}
	defer c.close()
	fmt.Println(c.call("greet", "Ann")...)
	// Output: hello, Ann
}

func ExampleSocket_To() {
	io := sori.NewServer(nil)
	io.OnConnection(func(s *sori.Socket) {
		_ = s.On("hello", func(name string, muted bool, done func()) {
			s.Data().Set("name", name)
			s.Join("lobby")
			if muted {
				s.Join("muted")
			}
			done()
		})
		_ = s.On("say", func(room, text string) {
			// Everyone in the room but the sender and the muted.
			_ = s.To(room).Except("muted").Emit("said", s.Data().String("name", "?"), text)
		})
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	var clients []*client
	for _, who := range []struct {
		name  string
		muted bool
	}{{"alice", false}, {"bob", false}, {"carol", true}} {
		c, err := dialClient(ts.URL, "/", nil)
		if err != nil {
			panic(err)
		}
		defer c.close()
		c.call("hello", who.name, who.muted)
		clients = append(clients, c)
	}
	alice, bob, carol := clients[0], clients[1], clients[2]

	alice.emit("say", "lobby", "hi")
	bob.on("bob")
	// The whole room, from the server.
	_ = io.To("lobby").Emit("closing", "in 5 minutes")
	alice.on("alice")
	bob.on("bob")
	carol.on("carol")
	// Output:
	// bob got said [alice hi]
	// alice got closing [in 5 minutes]
	// bob got closing [in 5 minutes]
	// carol got closing [in 5 minutes]
}

func ExampleSocket_EmitWithAck() {
	io := sori.NewServer(nil)
	answers := make(chan string, 1)
	io.OnConnection(func(s *sori.Socket) {
		// A handler may block: the acknowledgement does not wait behind it.
		_ = s.On("ready", func() {
			a, err := s.Timeout(5*time.Second).EmitWithAck(context.Background(), "question", "6 x 7?")
			if err != nil {
				answers <- err.Error()
				return
			}
			var n int
			_ = a.Decode(&n)
			answers <- fmt.Sprint("the client says ", n)
		})
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	c, err := dialClient(ts.URL, "/", nil)
	if err != nil {
		panic(err)
	}
	defer c.close()
	c.emit("ready")
	q := c.on("client")
	c.answer(q, 42)
	fmt.Println(<-answers)
	// Output:
	// client got question [6 x 7?]
	// the client says 42
}

func ExampleNamespace_Use() {
	io := sori.NewServer(nil)
	admin := io.Of("/admin")
	// Middleware runs before a socket joins; an error refuses it, and a
	// *ConnectError's Data reaches the client's connect_error.
	admin.Use(func(s *sori.Socket) error {
		var auth struct{ Token string }
		_ = json.Unmarshal(s.Handshake().Auth, &auth)
		if auth.Token != "s3cret" {
			return &sori.ConnectError{Message: "not authorized", Data: map[string]string{"hint": "log in first"}}
		}
		s.Data().Set("role", "admin")
		return nil
	})
	admin.OnConnection(func(s *sori.Socket) {
		_ = s.On("whoami", func(ack func(string)) { ack(s.Data().String("role", "")) })
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	if _, err := dialClient(ts.URL, "/admin", map[string]string{"token": "guess"}); err != nil {
		fmt.Println("refused:", err)
	}
	c, err := dialClient(ts.URL, "/admin", map[string]string{"token": "s3cret"})
	if err != nil {
		panic(err)
	}
	defer c.close()
	fmt.Println("connected as", c.call("whoami")[0])
	// Output:
	// refused: not authorized (data: map[hint:log in first])
	// connected as admin
}

func ExampleServer_OfRegexp() {
	io := sori.NewServer(nil)
	// Namespaces /team-1, /team-2, ... are made when a client first asks.
	teams := io.OfRegexp(regexp.MustCompile(`^/team-\d+$`))
	teams.OnConnection(func(s *sori.Socket) {
		_ = s.On("where", func(ack func(string)) { ack(s.Namespace().Name()) })
	})
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	c, err := dialClient(ts.URL, "/team-7", nil)
	if err != nil {
		panic(err)
	}
	defer c.close()
	fmt.Println(c.call("where")...)
	if _, err := dialClient(ts.URL, "/team-x", nil); err != nil {
		fmt.Println(err)
	}
	for _, nsp := range teams.Children() {
		fmt.Println("child:", nsp.Name())
	}
	// Output:
	// /team-7
	// Invalid namespace (data: <nil>)
	// child: /team-7
}

func ExampleBroadcastOperator_EmitWithAck() {
	io := sori.NewServer(nil)
	ts := httptest.NewServer(io)
	defer ts.Close()
	defer io.Close(context.Background())

	var clients []*client
	for range 3 {
		c, err := dialClient(ts.URL, "/", nil)
		if err != nil {
			panic(err)
		}
		defer c.close()
		clients = append(clients, c)
	}
	type result struct {
		answers []sori.Args
		err     error
	}
	done := make(chan result, 1)
	go func() {
		// Every socket is asked; the answers come as they arrive.
		answers, err := io.Sockets().Timeout(time.Second).EmitWithAck(context.Background(), "vote")
		done <- result{answers, err}
	}()
	for i, c := range clients {
		in, _ := c.next()
		if i < 2 { // the third never answers
			c.answer(in, fmt.Sprint("yes from ", i))
		}
	}
	r := <-done
	var votes []string
	for _, a := range r.answers {
		var v string
		_ = a.Decode(&v)
		votes = append(votes, v)
	}
	slices.Sort(votes)
	fmt.Println(votes, errors.Is(r.err, sori.ErrAckTimeout))
	// Output: [yes from 0 yes from 1] true
}
