// Package redisadapter runs Sori servers as one cluster over Redis
// pub/sub, wire-compatible with the Node servers of @socket.io/redis-adapter
// 8.x in its classic mode: Sori and Node servers can share a cluster.
//
// Use it through sori.Options.Adapter, one factory per server:
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	newAdapter, err := redisadapter.New(client, nil) // PINGs Redis first
//	if err != nil {
//		log.Fatal(err) // Redis unreachable
//	}
//	io := sori.NewServer(&sori.Options{Adapter: newAdapter})
//
// Broadcasts (rooms, except, volatile and compress flags; Local stays on
// this server), broadcasts with acknowledgements, FetchSockets and what
// the RemoteSockets do, SocketsJoin, SocketsLeave, DisconnectSockets,
// ServerSideEmit with and without acknowledgements, AllRooms and
// ServerCount span the cluster; this server answers every request of the
// others, Node or Sori.
//
// Wire: for a namespace N and the key K ("socket.io"), broadcasts go to
// "K#N#" or "K#N#room#" (one room) as msgpack [uid, packet, opts], binary
// data as msgpack bin; requests go to "K-request#N#" and answers to
// "K-response#N#" (or "K-response#N#uid#"), as JSON, but BROADCAST
// requests and BROADCAST_ACK answers, which are msgpack. The number of
// servers is PUBSUB NUMSUB of the request channel. Every request waits at
// most RequestsTimeout (5s) and fails with a *TimeoutError (errors.Is
// ErrTimeout). Answers to server-side events carry one value, as in the
// reference; a Node server gets no binary through them.
//
// Faults: New fails when Redis does not answer a PING within StartTimeout.
// When Redis goes away later, local delivery goes on; the loss is logged
// once, go-redis reconnects with a backoff and the adapter subscribes
// again; meanwhile broadcasts reach only this server (Broadcast returns an
// error matching ErrUnavailable) and requests fail at once with a
// *TimeoutError. Messages published while a server is cut off are lost for
// it, as with any Redis pub/sub adapter. Close releases every goroutine;
// the Redis client is the caller's to close.
//
// Sharded pub/sub (Redis 7 SPUBLISH) and Redis Cluster are not supported.
package redisadapter
