#!/usr/bin/env node
// The Node reference bench server: npm socket.io 4.8 with default options
// and the same handlers as `sori-bench serve`.
//
//   node bench/node-server.mjs [--port N] [--host 127.0.0.1]
//
// Prints "listening on HOST:PORT" once ready; exits on SIGTERM/SIGINT.
import http from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};

const httpServer = http.createServer();
const io = new Server(httpServer);

io.on("connection", (socket) => {
  socket.on("enter_room", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack();
  });
  socket.on("new_message", (msg, room, ack) => {
    socket.to(room).emit("new_message", msg);
    if (typeof ack === "function") ack();
  });
});

const host = opt("host", "127.0.0.1");
httpServer.listen(Number(opt("port", 3000)), host, () => {
  console.log(`listening on ${host}:${httpServer.address().port}`);
});
const stop = () => {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
