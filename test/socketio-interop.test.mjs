// Interop: the official socket.io-client (Node) against Sori's test server
// (internal/cmd/sori-testserver), over WebSocket only, long-polling only,
// and the default (polling, then upgrade to WebSocket).
//
//   go build -o bin/ ./cmd/... ./internal/cmd/...
//   node --test test/socketio-interop.test.mjs
//
// Every wait is bounded (helpers/wait.mjs); the server processes are
// stopped when the file ends (helpers/process.mjs).
import { describe, it, before, afterEach } from "node:test";
import assert from "node:assert/strict";
import { io } from "socket.io-client";
import { startServer } from "./helpers/process.mjs";
import { once, waitFor, sleep } from "./helpers/wait.mjs";

const BIN = "bin/sori-testserver";
const ARGS = ["-addr", "{addr}", "-ping-interval", "300ms", "-ping-timeout", "1s"];
const START = { readyPattern: /sori-testserver listening/, waitForPort: true };
const TIMEOUT_MESSAGE = "sori: operation has timed out";

const TRANSPORTS = [
  { name: "websocket", opts: { transports: ["websocket"] } },
  { name: "polling", opts: { transports: ["polling"] } },
  { name: "default (upgrade)", opts: {} },
];

/** Buffers, ArrayBuffers and typed arrays as plain Buffers, deeply. */
function norm(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

/**
 * Records every event `socket` gets from now on, and resolves with them
 * (as [event, ...args]) once `event` arrives: the server writes one
 * connection's packets in order, so what was sent before the fence is in.
 */
function until(socket, event, timeoutMs = 5000) {
  const got = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.offAny(listener);
      reject(new Error(`no "${event}" within ${timeoutMs}ms; got ${JSON.stringify(got)}`));
    }, timeoutMs);
    const listener = (ev, ...args) => {
      if (ev === event) {
        clearTimeout(timer);
        socket.offAny(listener);
        resolve(got);
        return;
      }
      got.push([ev, ...args]);
    };
    socket.onAny(listener);
  });
}

let server;

before(async () => {
  server = await startServer(BIN, ARGS, START);
});

for (const transport of TRANSPORTS) {
  describe(`socket.io-client over ${transport.name}`, () => {
    const open = new Set();

    /** A new client (its own connection) to namespace nsp, not yet connected. */
    function client(nsp = "/", opts = {}, url = server.url) {
      const s = io(url + nsp, { forceNew: true, reconnection: false, ...transport.opts, ...opts });
      open.add(s);
      return s;
    }

    async function connected(nsp = "/", opts = {}) {
      const s = client(nsp, opts);
      await once(s, "connect");
      return s;
    }

    afterEach(() => {
      for (const s of open) s.disconnect();
      open.clear();
    });

    it("echoes events with any arguments, binary included, and acknowledges them", async () => {
      const s = await connected();
      const args = [
        "text",
        42,
        1.5,
        true,
        null,
        { a: [1, { b: "c" }], u: "é😀" },
        [1, "two", [3]],
        Buffer.from([1, 2, 3]),
        { nested: Buffer.from("xyz"), list: [Buffer.from([0]), 7] },
        Buffer.alloc(0),
      ];
      const echoed = once(s, "echo");
      const acked = await s.timeout(5000).emitWithAck("echo", ...args);
      assert.deepEqual(norm(acked), norm(args[0]));
      assert.deepEqual(norm(await echoed), norm(args));
      assert.deepEqual(norm(await s.timeout(5000).emitWithAck("ack-echo", Buffer.from("bin"), "x")), Buffer.from("bin"));
    });

    it("receives binary from the server", async () => {
      const s = await connected();
      const got = once(s, "binary");
      s.emit("binary");
      const [buf, obj] = norm(await got);
      assert.deepEqual(buf, Buffer.from([1, 2, 3]));
      assert.deepEqual(obj, { nested: Buffer.from("deep"), n: 1 });
    });

    it("acknowledges with several values, and times out on a handler that never acks", async () => {
      const s = await connected();
      // emitWithAck resolves with the first argument; a callback sees all.
      const all = await new Promise((resolve) => s.emit("ack-echo", 1, "two", [3], resolve.bind(null)));
      assert.equal(all, 1);
      const many = await new Promise((resolve) => s.emit("ack-echo", 1, "two", (...a) => resolve(a)));
      assert.deepEqual(many, [1, "two"]);
      await assert.rejects(s.timeout(200).emitWithAck("no-ack"), /operation has timed out/);
      assert.deepEqual(await s.timeout(5000).emitWithAck("ack-echo", "still here"), "still here");
    });

    it("answers the server's questions, and the server times out when it does not", async () => {
      const s = await connected();
      s.on("question", (x, cb) => cb(x * 2));
      s.on("question-bin", (buf, cb) => cb(Buffer.concat([norm(buf), Buffer.from([9])])));
      s.on("silent", () => {});
      let r = await s.timeout(5000).emitWithAck("ask", { event: "question", payload: 21, timeout: 2000 });
      assert.deepEqual(r, { answer: [42], error: null });
      r = await s.timeout(5000).emitWithAck("ask", { event: "question-bin", payload: Buffer.from([1]), timeout: 2000 });
      assert.deepEqual(norm(r), { answer: [Buffer.from([1, 9])], error: null });
      r = await s.timeout(5000).emitWithAck("ask", { event: "silent", payload: 1, timeout: 200 });
      assert.deepEqual(r, { answer: [], error: TIMEOUT_MESSAGE });

      // The same through an Emit callback with an error parameter.
      let result = once(s, "ask-result");
      await s.timeout(5000).emitWithAck("ask-callback", { event: "question", payload: 5, timeout: 2000 });
      assert.deepEqual((await result)[0], { answer: 10, error: null });
      result = once(s, "ask-result");
      await s.timeout(5000).emitWithAck("ask-callback", { event: "silent", payload: 5, timeout: 200 });
      assert.deepEqual((await result)[0], { answer: null, error: TIMEOUT_MESSAGE });
    });

    it("joins and leaves rooms; broadcasts reach the rooms less the excepted and the sender", async () => {
      const [a, b, c, d] = await Promise.all([connected(), connected(), connected(), connected()]);
      // a: r1   b: r1 r3   c: r2   d: -
      assert.deepEqual(new Set(await a.timeout(5000).emitWithAck("join", ["r1"])), new Set([a.id, "r1"]));
      await b.timeout(5000).emitWithAck("join", ["r1", "r3", "tmp"]);
      assert.deepEqual(new Set(await b.timeout(5000).emitWithAck("leave", "tmp")), new Set([b.id, "r1", "r3"]));
      await c.timeout(5000).emitWithAck("join", ["r2"]);

      const fence = () => a.timeout(5000).emitWithAck("io-to", { event: "fence", args: [] });
      const who = async (send) => {
        const got = [a, b, c, d].map((s) => until(s, "fence"));
        await send();
        await fence();
        const names = [];
        (await Promise.all(got)).forEach((events, i) => {
          const news = events.filter(([ev]) => ev === "news");
          assert.ok(news.length <= 1, `client ${i} got the broadcast ${news.length} times`);
          if (news.length) {
            assert.deepEqual(norm(news[0].slice(1)), ["x", Buffer.from([7])]);
            names.push("abcd"[i]);
          }
        });
        return names.join("");
      };
      const args = ["x", Buffer.from([7])];
      assert.equal(await who(() => a.timeout(5000).emitWithAck("to", { rooms: ["r1", "r2"], except: ["r3"], event: "news", args })), "c");
      assert.equal(await who(() => a.timeout(5000).emitWithAck("io-to", { rooms: ["r1", "r2"], except: ["r3"], event: "news", args })), "ac");
      assert.equal(await who(() => a.timeout(5000).emitWithAck("io-to", { rooms: ["r1"], event: "news", args })), "ab");
      assert.equal(await who(() => a.timeout(5000).emitWithAck("io-to", { except: ["r1", "r2"], event: "news", args })), "d");
      assert.equal(await who(() => d.timeout(5000).emitWithAck("to", { rooms: [a.id, c.id], event: "news", args })), "ac");
      assert.equal(await who(() => b.timeout(5000).emitWithAck("io-to", { event: "news", args })), "abcd");
    });

    it("delivers volatile events to an idle client and never reorders a burst", async () => {
      const s = await connected();
      const one = once(s, "vol");
      s.emit("volatile-one");
      assert.deepEqual(await one, [0]);
      const got = until(s, "vol-done");
      s.emit("volatile-burst", 500);
      const vols = (await got).filter(([ev]) => ev === "vol").map(([, i]) => i);
      assert.ok(vols.length <= 500);
      for (let i = 1; i < vols.length; i++) assert.ok(vols[i] > vols[i - 1], `out of order at ${i}: ${vols}`);
    });

    it("gathers the acknowledgements of a broadcast, with a timeout", async () => {
      const clients = await Promise.all([connected(), connected(), connected()]);
      await Promise.all(clients.map((s) => s.timeout(5000).emitWithAck("join", ["pollers"])));
      clients[0].on("poll", (room, cb) => cb("zero:" + room));
      clients[1].on("poll", (room, cb) => cb("one:" + room));
      clients[2].on("poll", () => {}); // never answers
      const asker = await connected();
      let r = await asker.timeout(5000).emitWithAck("poll-room", { room: "pollers", timeout: 300 });
      assert.equal(r.error, TIMEOUT_MESSAGE);
      assert.deepEqual(r.answers.sort(), ["one:pollers", "zero:pollers"]);
      clients[2].off("poll");
      clients[2].on("poll", (room, cb) => cb("two:" + room));
      r = await asker.timeout(5000).emitWithAck("poll-room", { room: "pollers", timeout: 3000 });
      assert.equal(r.error, null);
      assert.deepEqual(r.answers.sort(), ["one:pollers", "two:pollers", "zero:pollers"]);
      // Asking from inside the room: the asker answers too.
      r = await clients[0].timeout(5000).emitWithAck("poll-room", { room: "pollers", timeout: 3000 });
      assert.equal(r.answers.length, 3);
    });

    it("connects to dynamic namespaces and is refused an unknown one", async () => {
      const s = await connected("/dyn-12");
      assert.equal(await s.timeout(5000).emitWithAck("where"), "/dyn-12");
      const t = await connected("/dyn-3");
      assert.equal(await t.timeout(5000).emitWithAck("where"), "/dyn-3");
      const bad = client("/dyn-x");
      const [err] = await once(bad, "connect_error");
      assert.equal(err.message, "Invalid namespace");
      assert.equal(bad.connected, false);
    });

    it("refuses a connection in middleware with the ConnectError's message and data", async () => {
      const bad = client("/private", { auth: { token: "wrong" } });
      const [err] = await once(bad, "connect_error");
      assert.equal(err.message, "not authorized");
      assert.deepEqual(err.data, { code: 4001 });
      assert.equal(bad.active, false); // a middleware refusal is final
      const good = await connected("/private", { auth: { token: "let-me-in" } });
      assert.equal(await good.timeout(5000).emitWithAck("where"), "/private");
    });

    it("uses several namespaces over one connection", async () => {
      const main = client("/", { forceNew: true });
      await once(main, "connect");
      const other = main.io.socket("/other");
      open.add(other);
      other.connect();
      await once(other, "connect");
      assert.equal(await other.timeout(5000).emitWithAck("where"), "/other");
      assert.equal(await main.timeout(5000).emitWithAck("where"), "/");
      // The server disconnecting one namespace leaves the other.
      const gone = once(other, "disconnect");
      other.emit("disconnect-me", false);
      assert.deepEqual((await gone)[0], "io server disconnect");
      assert.equal(await main.timeout(5000).emitWithAck("where"), "/");
    });

    for (const close of [false, true]) {
      // The close packet of a graceful close goes on a later poll than the
      // DISCONNECT queued before it, as the reference sends it: the client
      // handles the DISCONNECT first ("io server disconnect"), then the
      // close, and does not reconnect.
      it(`sees a server-side disconnect (close ${close}) and does not reconnect`, async () => {
        const s = await connected("/", { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 50 });
        let reconnects = 0;
        s.on("connect", () => reconnects++);
        s.io.on("reconnect_attempt", () => reconnects++);
        const gone = once(s, "disconnect");
        s.emit("disconnect-me", close);
        assert.equal((await gone)[0], "io server disconnect");
        assert.equal(s.active, false);
        // Bounded negative check: several reconnection delays go by.
        await sleep(400);
        assert.equal(reconnects, 0);
        assert.equal(s.connected, false);
        // The application may connect again itself.
        s.connect();
        await once(s, "connect");
        assert.equal(await s.timeout(5000).emitWithAck("ack-echo", "back"), "back");
      });
    }

    it("FetchSockets, SocketsJoin, SocketsLeave and DisconnectSockets, from events", async () => {
      const [a, b] = await Promise.all([connected(), connected()]);
      await a.timeout(5000).emitWithAck("set-data", "name", "alice");
      await a.timeout(5000).emitWithAck("join", ["club"]);
      let found = await b.timeout(5000).emitWithAck("fetch", "club");
      assert.equal(found.length, 1);
      assert.equal(found[0].id, a.id);
      assert.deepEqual(new Set(found[0].rooms), new Set([a.id, "club"]));
      assert.deepEqual(found[0].data, { name: "alice" });
      found = await b.timeout(5000).emitWithAck("fetch", "");
      assert.deepEqual(new Set(found.map((x) => x.id)), new Set([a.id, b.id]));

      assert.equal(await b.timeout(5000).emitWithAck("sockets-join", { room: "club", rooms: ["vip", "gold"] }), null);
      found = await b.timeout(5000).emitWithAck("fetch", "vip");
      assert.deepEqual(found.map((x) => x.id), [a.id]);
      assert.equal(await b.timeout(5000).emitWithAck("sockets-leave", { room: "vip", rooms: ["vip"] }), null);
      assert.deepEqual(await b.timeout(5000).emitWithAck("fetch", "vip"), []);
      assert.equal((await b.timeout(5000).emitWithAck("fetch", "gold")).length, 1);

      const gone = once(a, "disconnect");
      assert.equal(await b.timeout(5000).emitWithAck("disconnect-sockets", { room: "club", close: false }), null);
      assert.equal((await gone)[0], "io server disconnect");
      assert.equal(b.connected, true);
      assert.deepEqual(await b.timeout(5000).emitWithAck("fetch", "club"), []);
    });

    it("reports incoming and outgoing events through OnAny and OnAnyOutgoing", async () => {
      const s = await connected();
      await s.timeout(5000).emitWithAck("report-any", true);
      const seen = [];
      s.onAny((ev, ...args) => seen.push([ev, ...args]));
      s.emit("echo", 1, 2);
      await waitFor(() => seen.length >= 3, 5000, { message: `any-in, any-out and echo (seen ${JSON.stringify(seen)})` });
      assert.deepEqual(seen, [["any-in", "echo", 2], ["any-out", "echo"], ["echo", 1, 2]]);
    });

    it("refuses an event in per-packet middleware, reported to the client", async () => {
      const s = await connected();
      const report = once(s, "error-report");
      let acked = false;
      s.emit("forbidden", () => (acked = true));
      assert.match((await report)[0], /forbidden event refused/);
      assert.equal(await s.timeout(5000).emitWithAck("ack-echo", "after"), "after");
      assert.equal(acked, false);
    });

    it("reports a payload of the wrong types, and the socket stays usable", async () => {
      const s = await connected();
      assert.equal(await s.timeout(5000).emitWithAck("typed", 4, "n"), "n4");
      const report = once(s, "error-report");
      let acked = false;
      s.emit("typed", "not a number", 1, () => (acked = true));
      assert.match((await report)[0], /"typed".*argument 0/);
      assert.equal(await s.timeout(5000).emitWithAck("typed", 5, "m"), "m5");
      assert.equal(acked, false);
    });

    it("survives a panicking handler", async () => {
      const s = await connected();
      s.emit("panic");
      assert.equal(await s.timeout(5000).emitWithAck("ack-echo", "alive"), "alive");
      assert.equal(s.connected, true);
    });

    it("reconnects by itself after the server restarts on the same port", async () => {
      const own = await startServer(BIN, ARGS, START);
      try {
        const s = client("/", { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 200 }, own.url);
        await once(s, "connect");
        const first = s.id;
        const gone = once(s, "disconnect");
        await own.stop();
        const [reason] = await gone;
        assert.match(reason, /^transport (close|error)$/);
        assert.equal(s.active, true);
        const back = once(s, "connect", 10000);
        await own.restart();
        await back;
        assert.notEqual(s.id, first);
        assert.equal(await s.timeout(5000).emitWithAck("ack-echo", "again"), "again");
      } finally {
        await own.stop();
      }
    });
  });
}
