// Package chat is the room chat of the seed course chapter, on Sori.
//
// People pick a nickname, enter rooms, see the open rooms with how many are
// in each, and are told when someone arrives or leaves. The events, as the
// seed's Node server defines them (a front end written for it works
// unchanged):
//
//	client → server
//	  nickname(name, done?)          "Anon" until set
//	  enter_room(room, done?)        done(), then welcome to the room, room_change to all
//	  new_message(msg, room, done?)  new_message "nick: msg" to the others in the room, then done()
//	  leave_room(room, done?)        done(), then bye to the room, room_change to all
//	server → client
//	  welcome(nick, count)   bye(nick, count)   new_message(text)
//	  room_change([names])   rooms([{name, count}])   (each room_change is followed by rooms)
//
// A refused value (not a string, empty once trimmed, too long) is answered
// done({error}) and nothing is broadcast. A newcomer gets room_change at
// once. Counts and the room list span the cluster when the namespace's
// adapter does (package redisadapter).
package chat
