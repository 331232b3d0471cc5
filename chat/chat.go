package chat

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/sori-dev/sori"
)

// DefaultNickname is everyone's name until they pick one.
const DefaultNickname = "Anon"

// opTimeout bounds the cluster requests behind counts and room lists.
const opTimeout = 5 * time.Second

// refusal is the acknowledgement of a refused request: {error: "..."}.
type refusal struct {
	Error string `json:"error"`
}

// Register installs the chat on the main namespace of io.
func Register(io *sori.Server, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	c := &chat{nsp: io.Sockets(), log: log}
	io.OnConnection(c.connect)
}

type chat struct {
	nsp *sori.Namespace
	log *slog.Logger

	// listMu keeps each room_change and its rooms together: handlers of
	// different sockets run at once, and two lists sent at once must not
	// interleave in anyone's stream.
	listMu sync.Mutex
}

func nickname(s *sori.Socket) string { return s.Data().String("nickname", DefaultNickname) }

func (c *chat) connect(s *sori.Socket) {
	s.Data().Set("nickname", DefaultNickname)
	c.log.Info("connected", "socket", s.ID(), "addr", s.Handshake().Address, "transport", s.Transport())
	c.sendRooms(s.Emit)

	s.On("nickname", func(name any, done func(...any)) {
		nick, ok := clean(name, MaxNickname)
		if !ok {
			done(refusal{ErrNickname})
			return
		}
		s.Data().Set("nickname", nick)
		done()
	})

	s.On("enter_room", func(roomName any, done func(...any)) {
		room, ok := clean(roomName, MaxRoom)
		if !ok {
			done(refusal{ErrRoom})
			return
		}
		if inRoom(s, room) {
			done()
			return
		}
		if err := s.Join(room); err != nil {
			done(refusal{ErrTooManyRooms})
			return
		}
		done()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		c.log.Info("joined", "socket", s.ID(), "room", room)
		_ = s.To(room).Emit("welcome", nickname(s), roomSize(ctx, c.nsp, room))
		c.sendRooms(c.nsp.Emit)
	})

	s.On("new_message", func(msg, roomName any, done func(...any)) {
		room, ok := clean(roomName, MaxRoom)
		if !ok {
			done(refusal{ErrRoom})
			return
		}
		text, ok := clean(msg, MaxMessage)
		if !ok {
			done(refusal{ErrMessage})
			return
		}
		if room == s.ID() || !inRoom(s, room) {
			done(refusal{ErrNotInRoom})
			return
		}
		_ = s.To(room).Emit("new_message", nickname(s)+": "+text)
		done()
	})

	s.On("leave_room", func(roomName any, done func(...any)) {
		room, ok := clean(roomName, MaxRoom)
		if !ok {
			done(refusal{ErrRoom})
			return
		}
		if room == s.ID() || !inRoom(s, room) {
			done(refusal{ErrNotInRoom})
			return
		}
		s.Leave(room)
		done()
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		c.log.Info("left", "socket", s.ID(), "room", room)
		_ = s.To(room).Emit("bye", nickname(s), roomSize(ctx, c.nsp, room))
		c.sendRooms(c.nsp.Emit)
	})

	s.On("disconnecting", func(reason string) {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		for _, room := range s.Rooms() {
			if room != s.ID() {
				_ = s.To(room).Emit("bye", nickname(s), roomSize(ctx, c.nsp, room)-1)
			}
		}
	})

	s.On("disconnect", func(reason string) {
		c.log.Info("disconnected", "socket", s.ID(), "reason", reason)
		c.sendRooms(c.nsp.Emit)
	})

	s.OnError(func(err error) { c.log.Warn("socket error", "socket", s.ID(), "err", err) })
}

func inRoom(s *sori.Socket, room string) bool {
	for _, r := range s.Rooms() {
		if r == room {
			return true
		}
	}
	return false
}

// sendRooms emits room_change, then rooms, through emit: one socket's or
// the whole namespace's.
func (c *chat) sendRooms(emit func(event string, args ...any) error) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	c.listMu.Lock()
	defer c.listMu.Unlock()
	rooms, err := openRooms(ctx, c.nsp)
	if err != nil {
		c.log.Warn("listing rooms", "err", err)
		return
	}
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.Name
	}
	if rooms == nil {
		rooms = []Room{}
	}
	_ = emit("room_change", names)
	_ = emit("rooms", rooms)
}
