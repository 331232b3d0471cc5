#!/usr/bin/env node
// Reference server for the Go client's tests: npm socket.io 4.8 with the
// handlers client/node_test.go exercises.
//
//   node client/testdata/node-server.mjs [--port N] [--ping-interval MS] [--ping-timeout MS]
//
// Prints "listening on PORT" once ready; exits on SIGTERM/SIGINT or when
// stdin closes (so a killed test leaves nothing behind).
import http from "node:http";
import { Server } from "socket.io";

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: opt("ping-interval", 25000),
  pingTimeout: opt("ping-timeout", 20000),
});

function handlers(socket) {
  // echo(...args, ack): answers with the same arguments.
  socket.on("echo", (...a) => {
    const ack = typeof a[a.length - 1] === "function" ? a.pop() : null;
    if (ack) ack(...a);
    else socket.emit("echo", ...a);
  });
  // types(): sends a string, a number, an object and binary.
  socket.on("types", () => {
    socket.emit("types", "text", 42, { x: 1, y: [2, 3] }, Buffer.from([1, 2, 3]));
  });
  // ask(n): asks the client for an ack, then reports what it said.
  socket.on("ask", async (n) => {
    try {
      const answer = await socket.timeout(5000).emitWithAck("question", n);
      socket.emit("answer", answer);
    } catch (e) {
      socket.emit("answer", "error: " + e.message);
    }
  });
  // kick(): the server disconnects the socket.
  socket.on("kick", () => socket.disconnect());
  // whoami(ack): answers the auth payload and the transport.
  socket.on("whoami", (ack) => ack(socket.handshake.auth, socket.conn.transport.name));
}

io.on("connection", handlers);
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("unauthorized");
  err.data = { code: 42 };
  next(err);
});
admin.on("connection", handlers);

httpServer.listen(opt("port", 0), "127.0.0.1", () => {
  console.log(`listening on ${httpServer.address().port}`);
});
const stop = () => {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
