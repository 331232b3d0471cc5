// A mixed cluster on one Redis: a Node server (socket.io 4.8 with
// @socket.io/redis-adapter 8.3, classic mode) beside a Sori server
// (bin/sori-cluster-node, the Redis adapter of package redisadapter), the
// official socket.io-client on each. Broadcasts, rooms, acknowledgements,
// fetchSockets and remote sockets, socketsJoin/Leave, disconnectSockets,
// serverSideEmit with and without acks and allRooms, in both directions.
//
//   go build -o bin/ ./internal/cmd/sori-cluster-node
//   node --test test/redis-cluster.test.mjs
import { describe, it, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { Server } from "socket.io";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { io as ioc } from "socket.io-client";
import { startRedis } from "./helpers/redis.mjs";
import { startServer, ROOT } from "./helpers/process.mjs";
import { waitFor } from "./helpers/wait.mjs";

const SORI_BIN = path.join(ROOT, "bin", "sori-cluster-node");
const TIMEOUT = 5000;

/** A Socket.IO client that queues the events it gets, by name. */
class Client {
  constructor(url, name, { rooms = [], nsp = "/" } = {}) {
    this.name = name;
    this.queue = []; // [event, ...args], in order
    this.waiter = null;
    const query = { name };
    if (rooms.length) query.rooms = rooms.join(",");
    this.socket = ioc(url + nsp, { query, transports: ["websocket"], forceNew: true, reconnection: false });
    this.socket.onAny((...ev) => this.push(ev));
    this.socket.on("disconnect", (reason) => this.push(["disconnect", reason]));
    // Acknowledgement requests are answered with "<name>:<arg>".
    this.socket.on("q", (arg, cb) => cb(`${name}:${arg}`));
  }

  push(ev) {
    this.queue.push(ev);
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w();
    }
  }

  async connected() {
    if (this.socket.connected) return this;
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name}: no connection`)), TIMEOUT);
      this.socket.once("connect", () => (clearTimeout(t), resolve()));
      this.socket.once("connect_error", (e) => (clearTimeout(t), reject(e)));
    });
    return this;
  }

  get id() {
    return this.socket.id;
  }

  /** The next event, whatever it is: [name, ...args]. */
  async next() {
    const deadline = Date.now() + TIMEOUT;
    while (!this.queue.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no event within ${TIMEOUT}ms`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => (clearTimeout(t), resolve());
      });
    }
    return this.queue.shift();
  }

  /** The next event, which must be named event; returns its args. */
  async expect(event) {
    const [name, ...args] = await this.next();
    assert.equal(name, event, `${this.name} got "${name}" ${JSON.stringify(args)}, wanted "${event}"`);
    return args;
  }

  close() {
    this.socket.close();
  }
}

async function startNodeServer(redisUrl) {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  pub.on("error", () => {});
  sub.on("error", () => {});
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
  io.on("connection", (socket) => {
    const { name, rooms } = socket.handshake.query;
    socket.data.name = name;
    if (rooms) socket.join(rooms.split(","));
    socket.on("join", (room, ack) => (socket.join(room), ack()));
    socket.on("leave", (room, ack) => (socket.leave(room), ack()));
  });
  const received = [];
  io.of("/").on("hello", (...args) => received.push(args));
  io.of("/").on("ping", (arg, cb) => cb(`pong from node: ${arg}`));
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  return {
    io,
    received,
    url: `http://127.0.0.1:${httpServer.address().port}`,
    async close() {
      io.close();
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}

describe("mixed cluster: Node and Sori on one Redis", { skip: !fs.existsSync(SORI_BIN) && "bin/sori-cluster-node not built" }, () => {
  let redis, node, sori, ctl;
  const clients = [];

  async function client(server, name, rooms) {
    const c = new Client(server.url, name, { rooms });
    clients.push(c);
    return c.connected();
  }
  /** Runs an operation on the Sori server; resolves with its answer. */
  async function call(op, args = {}) {
    const res = await ctl.socket.timeout(10000).emitWithAck(op, args);
    assert.ok(res.ok, `sori ${op}: ${res.error}`);
    return res;
  }
  /** Every client listed gets "sentinel" next: nothing came before it. */
  async function sentinel(...cs) {
    node.io.emit("sentinel");
    for (const c of cs) assert.deepEqual(await c.next(), ["sentinel"], `${c.name}: something came before the sentinel`);
  }

  before(async () => {
    redis = await startRedis();
    node = await startNodeServer(redis.url);
    sori = await startServer(SORI_BIN, ["-addr", "{addr}", "-redis", redis.url, "-name", "sori"], {
      readyPattern: /listening/,
      waitForPort: true,
    });
    ctl = await new Client(sori.url, "control", { nsp: "/control" }).connected();
    await waitFor(async () => (await node.io.of("/").adapter.serverCount()) === 2 && (await call("serverCount")).count === 2, TIMEOUT, {
      message: "both servers to count two",
    });
  });
  after(async () => {
    ctl?.close();
    await sori?.stop();
    await node?.close();
    await redis?.stop();
  });
  afterEach(async () => {
    while (clients.length) clients.pop().close();
    // Both servers forget the closed sockets before the next test.
    await waitFor(async () => (await node.io.fetchSockets()).length === 0, TIMEOUT, { message: "no socket left" });
  });

  it("broadcasts both ways: everyone, rooms, except, local, binary", async () => {
    const n1 = await client(node, "n1", ["r1"]);
    const n2 = await client(node, "n2", ["r2"]);
    const s1 = await client(sori, "s1", ["r1"]);
    const s2 = await client(sori, "s2", ["r2"]);
    const all = [n1, n2, s1, s2];

    node.io.emit("all", "from node", { nested: [1, 2.5, null, "x"] });
    for (const c of all) assert.deepEqual(await c.expect("all"), ["from node", { nested: [1, 2.5, null, "x"] }]);
    await call("emit", { event: "all", args: ["from sori", { nested: [3] }] });
    for (const c of all) assert.deepEqual(await c.expect("all"), ["from sori", { nested: [3] }]);

    node.io.to("r1").emit("r1", 1);
    assert.deepEqual(await n1.expect("r1"), [1]);
    assert.deepEqual(await s1.expect("r1"), [1]);
    await sentinel(...all);
    await call("emit", { rooms: ["r1", "r2"], except: ["r1"], event: "r2 only" });
    await n2.expect("r2 only");
    await s2.expect("r2 only");
    await sentinel(...all);
    node.io.except("r2").emit("not r2");
    await n1.expect("not r2");
    await s1.expect("not r2");
    await sentinel(...all);

    node.io.local.emit("node local");
    await n1.expect("node local");
    await n2.expect("node local");
    await sentinel(...all);
    await call("emit", { local: true, event: "sori local" });
    await s1.expect("sori local");
    await s2.expect("sori local");
    await sentinel(...all);

    node.io.emit("bin", Buffer.from([1, 2, 3]), { b: Buffer.from([4]) });
    for (const c of all) {
      const [top, obj] = await c.expect("bin");
      assert.ok(Buffer.from(top).equals(Buffer.from([1, 2, 3])), `${c.name}: top-level binary`);
      assert.ok(Buffer.from(obj.b).equals(Buffer.from([4])), `${c.name}: nested binary`);
    }
    await call("emit", { rooms: ["r2"], event: "sbin", args: [Buffer.from([9, 8]), { deep: [Buffer.from([7])] }] });
    for (const c of [n2, s2]) {
      const [top, obj] = await c.expect("sbin");
      assert.ok(Buffer.from(top).equals(Buffer.from([9, 8])), `${c.name}: top-level binary`);
      assert.ok(Buffer.from(obj.deep[0]).equals(Buffer.from([7])), `${c.name}: nested binary`);
    }
    await sentinel(...all);
  });

  it("broadcasts with acknowledgements gather every client of both servers", async () => {
    await client(node, "n1", ["r1"]);
    await client(node, "n2", ["r2"]);
    await client(sori, "s1", ["r1"]);
    await client(sori, "s2", ["r2"]);

    const fromNode = await node.io.timeout(3000).emitWithAck("q", "x");
    assert.deepEqual(fromNode.sort(), ["n1:x", "n2:x", "s1:x", "s2:x"]);
    const inRoom = await node.io.to("r2").timeout(3000).emitWithAck("q", "r");
    assert.deepEqual(inRoom.sort(), ["n2:r", "s2:r"]);

    const fromSori = await call("emitWithAck", { timeoutMs: 3000, event: "q", args: ["y"] });
    assert.deepEqual(fromSori.responses.sort(), ["n1:y", "n2:y", "s1:y", "s2:y"]);
    const soriRoom = await call("emitWithAck", { rooms: ["r1"], timeoutMs: 3000, event: "q", args: ["z"] });
    assert.deepEqual(soriRoom.responses.sort(), ["n1:z", "s1:z"]);
  });

  it("fetchSockets from Node finds Sori's sockets, and acts on them", async () => {
    const n1 = await client(node, "n1", ["r1"]);
    const s1 = await client(sori, "s1", ["r1", "extra"]);
    const socks = await node.io.fetchSockets();
    assert.equal(socks.length, 2);
    const remote = socks.find((s) => s.id === s1.id);
    assert.ok(remote, "the Sori socket is listed");
    assert.equal(remote.data.name, "s1");
    assert.equal(remote.handshake.query.name, "s1");
    assert.equal(typeof remote.handshake.issued, "number");
    assert.ok(remote.handshake.headers, "headers");
    assert.deepEqual([...remote.rooms].sort(), [s1.id, "extra", "r1"].sort());
    assert.deepEqual((await node.io.in("extra").fetchSockets()).map((s) => s.id), [s1.id]);

    remote.emit("hi", "from node");
    assert.deepEqual(await s1.expect("hi"), ["from node"]);
    remote.join("nj");
    await waitFor(async () => (await call("fetchSockets", { rooms: ["nj"] })).sockets.length === 1, TIMEOUT, { message: "s1 in nj" });
    remote.leave("nj");
    await waitFor(async () => (await call("fetchSockets", { rooms: ["nj"] })).sockets.length === 0, TIMEOUT, { message: "s1 out of nj" });
    remote.disconnect();
    assert.deepEqual(await s1.expect("disconnect"), ["io server disconnect"]);
    assert.equal(n1.queue.length, 0);
  });

  it("fetchSockets from Sori finds Node's sockets, and acts on them", async () => {
    const n1 = await client(node, "n1", ["r1", "extra"]);
    await client(sori, "s1", ["r1"]);
    const { sockets } = await call("fetchSockets", {});
    assert.equal(sockets.length, 2);
    const remote = sockets.find((s) => s.id === n1.id);
    assert.ok(remote, "the Node socket is listed");
    assert.equal(remote.local, false);
    assert.deepEqual(remote.data, { name: "n1" });
    assert.equal(remote.handshake.query.name, "n1");
    assert.deepEqual([...remote.rooms].sort(), [n1.id, "extra", "r1"].sort());
    const local = sockets.find((s) => s.id !== n1.id);
    assert.equal(local.local, true);

    await call("remote", { id: n1.id, action: "emit", event: "hi", args: ["from sori", Buffer.from([5])] });
    const [text, bin] = await n1.expect("hi");
    assert.equal(text, "from sori");
    assert.ok(Buffer.from(bin).equals(Buffer.from([5])));
    await call("remote", { id: n1.id, action: "join", join: ["sj"] });
    await waitFor(() => node.io.of("/").adapter.rooms.get("sj")?.has(n1.id), TIMEOUT, { message: "n1 in sj" });
    await call("remote", { id: n1.id, action: "leave", join: ["sj"] });
    await waitFor(() => !node.io.of("/").adapter.rooms.has("sj"), TIMEOUT, { message: "n1 out of sj" });
    await call("remote", { id: n1.id, action: "disconnect" });
    assert.deepEqual(await n1.expect("disconnect"), ["io server disconnect"]);
  });

  it("socketsJoin, socketsLeave and disconnectSockets both ways", async () => {
    const n1 = await client(node, "n1", ["r1"]);
    const n2 = await client(node, "n2", ["r2"]);
    const s1 = await client(sori, "s1", ["r1"]);
    const s2 = await client(sori, "s2", ["r2"]);
    const inRoom = async (room) => (await node.io.in(room).fetchSockets()).map((s) => s.data.name).sort();

    node.io.in("r1").socketsJoin(["nj1", "nj2"]);
    await waitFor(async () => (await inRoom("nj2")).join() === "n1,s1", TIMEOUT, { message: "n1 and s1 in nj2" });
    node.io.in("nj1").socketsLeave("nj2");
    await waitFor(async () => (await inRoom("nj2")).length === 0, TIMEOUT, { message: "nj2 empty" });

    await call("socketsJoin", { rooms: ["r2"], join: ["sj"] });
    await waitFor(async () => (await inRoom("sj")).join() === "n2,s2", TIMEOUT, { message: "n2 and s2 in sj" });
    await call("socketsLeave", { rooms: ["sj"], except: ["r1"], join: ["sj"] });
    await waitFor(async () => (await inRoom("sj")).length === 0, TIMEOUT, { message: "sj empty" });

    node.io.in("r2").disconnectSockets();
    assert.deepEqual(await n2.expect("disconnect"), ["io server disconnect"]);
    assert.deepEqual(await s2.expect("disconnect"), ["io server disconnect"]);
    await call("disconnectSockets", { rooms: ["r1"], close: true });
    assert.equal((await n1.expect("disconnect"))[0], "io server disconnect");
    assert.equal((await s1.expect("disconnect"))[0], "io server disconnect");
  });

  it("serverSideEmit with and without acknowledgements, both ways", async () => {
    node.io.serverSideEmit("hello", "from node", 1);
    await waitFor(async () => (await call("received")).events.some((e) => JSON.stringify(e) === '["from node",1]'), TIMEOUT, {
      message: "Sori to get hello",
    });
    await call("serverSideEmit", { event: "hello", args: ["from sori", { n: 2 }] });
    await waitFor(() => node.received.some((e) => JSON.stringify(e) === '["from sori",{"n":2}]'), TIMEOUT, {
      message: "Node to get hello",
    });

    assert.deepEqual(await node.io.serverSideEmitWithAck("ping", "n"), ["pong from sori: n"]);
    assert.deepEqual((await call("serverSideEmitWithAck", { event: "ping", args: ["s"] })).responses, ["pong from node: s"]);
  });

  it("allRooms and serverCount span both servers", async () => {
    const n1 = await client(node, "n1", ["node-room"]);
    const s1 = await client(sori, "s1", ["sori-room"]);
    const fromNode = await node.io.of("/").adapter.allRooms();
    for (const r of ["node-room", "sori-room", n1.id, s1.id]) assert.ok(fromNode.has(r), `Node's allRooms lacks ${r}`);
    const { rooms } = await call("allRooms");
    for (const r of ["node-room", "sori-room", n1.id, s1.id]) assert.ok(rooms.includes(r), `Sori's allRooms lacks ${r}`);
    assert.equal(await node.io.of("/").adapter.serverCount(), 2);
    assert.equal((await call("serverCount")).count, 2);
  });
});
