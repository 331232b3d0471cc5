// Package adapter keeps track of which socket is in which room, and
// delivers broadcasts to the sockets they are meant for.
//
// A Socket.IO namespace owns one Adapter. The in-memory Memory adapter,
// the default, serves a single server. Another implementation (package
// redisadapter) embeds Memory and also carries every operation to the other
// servers of a cluster, so that rooms span servers; the Adapter interface
// is shaped for that: every operation that may cross servers takes a context
// and returns an error.
//
// The adapter knows nothing of Socket.IO's Server or Socket types, only of
// the packet codec beneath it: what it needs from a namespace is the
// Namespace interface, which the server implements.
//
// Every socket is in a room named after its own id, its private room.
package adapter
