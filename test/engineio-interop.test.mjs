// Interop: the official engine.io-client (Node) against Sori's bare
// Engine.IO server (internal/cmd/sori-eio-testserver), over WebSocket only,
// long-polling only, and polling then upgrade to WebSocket.
//
//   go build -o bin/ ./cmd/... ./internal/cmd/...
//   node --test test/engineio-interop.test.mjs
//
// The test server echoes every message and understands a few commands
// (__close__, __burst__ N, __binary__ N, __transport__); it prints one
// line per session event (event=open / event=close sid=... reason="...")
// that the tests wait on. Every wait is bounded (helpers/wait.mjs); the
// server processes are stopped when the file ends (helpers/process.mjs).
import { describe, it, before, afterEach } from "node:test";
import assert from "node:assert/strict";
import { Socket } from "engine.io-client";
import { startServer } from "./helpers/process.mjs";
import { once, collect, waitFor } from "./helpers/wait.mjs";

const BIN = "bin/sori-eio-testserver";
const START = { readyPattern: /sori-eio-testserver listening/, waitForPort: true };
const PING_INTERVAL = 300;
const PING_TIMEOUT = 200;

const MODES = [
  { name: "websocket only", opts: { transports: ["websocket"] }, final: "websocket" },
  { name: "polling only", opts: { transports: ["polling"] }, final: "polling" },
  { name: "polling then upgrade", opts: { transports: ["polling", "websocket"] }, final: "websocket" },
];

function start(extra = []) {
  return startServer(
    BIN,
    ["-addr", "{addr}", "-ping-interval", `${PING_INTERVAL}ms`, "-ping-timeout", `${PING_TIMEOUT}ms`, ...extra],
    START,
  );
}

const open = new Set();
afterEach(() => {
  for (const s of open) s.close();
  open.clear();
});

/** Opens a client socket and waits for "open" (and "upgrade" when asked). */
async function connect(srv, opts, { upgraded = false } = {}) {
  const socket = new Socket(srv.url, { ...opts, upgrade: opts.transports.length > 1 });
  open.add(socket);
  const upgrade = upgraded ? once(socket, "upgrade", 5000) : null;
  await once(socket, "open", 5000);
  if (upgrade) await upgrade;
  return socket;
}

/** Waits for the server to log the close of session sid; returns its reason. */
async function serverClose(srv, sid) {
  const re = new RegExp(`event=close sid=${sid.replace(/[-]/g, "\\-")} reason="([^"]*)"`);
  const m = await waitFor(() => re.exec(srv.output()), 5000, { message: `the server to close ${sid}` });
  return m[1];
}

function bytes(data) {
  if (typeof data === "string") return null;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

async function echo(socket, data) {
  const got = once(socket, "message", 5000);
  socket.send(data);
  // The client's parser gives an empty message as undefined (so it does
  // against the reference server).
  return (await got)[0] ?? "";
}

describe("engine.io-client against Sori", () => {
  let srv;
  before(async () => {
    srv = await start();
  });

  for (const mode of MODES) {
    describe(mode.name, () => {
      it("opens on the expected transport", async () => {
        const socket = await connect(srv, mode.opts, { upgraded: mode.name.includes("upgrade") });
        assert.equal(socket.transport.name, mode.final);
        assert.equal(await echo(socket, "__transport__"), `transport ${mode.final}`);
        assert.match(srv.output(), new RegExp(`event=open sid=${socket.id} transport=${mode.opts.transports[0]}`));
      });

      it("echoes text both ways, unicode included", async () => {
        const socket = await connect(srv, mode.opts);
        for (const text of ["hello", "", "€ 안녕 🚀", "x".repeat(5000)]) {
          assert.equal(await echo(socket, text), text);
        }
      });

      it("echoes binary both ways", async () => {
        const socket = await connect(srv, mode.opts);
        const buf = Buffer.from([0, 1, 2, 254, 255]);
        assert.deepEqual(bytes(await echo(socket, buf)), buf);
        const big = Buffer.alloc(70000, 0xab);
        assert.deepEqual(bytes(await echo(socket, big)), big);
        const got = once(socket, "message", 5000);
        socket.send("__binary__ 300");
        const [data] = await got;
        const b = bytes(data);
        assert.ok(b, "a binary message");
        assert.equal(b.length, 300);
        for (let i = 0; i < 300; i++) assert.equal(b[i], i % 256);
      });

      it("keeps many messages in order both ways", async () => {
        const socket = await connect(srv, mode.opts);
        const got = collect(socket, "message", 200, 10000);
        for (let i = 0; i < 100; i++) socket.send(`m${i}`);
        socket.send("__burst__ 100");
        const msgs = (await got).map(([d]) => d);
        assert.deepEqual(msgs.slice(0, 100), Array.from({ length: 100 }, (_, i) => `m${i}`));
        assert.deepEqual(msgs.slice(100), Array.from({ length: 100 }, (_, i) => `burst ${i}`));
      });

      it("stays open over several heartbeats", async () => {
        const socket = await connect(srv, mode.opts);
        let closed = false;
        socket.on("close", () => (closed = true));
        // About 5 intervals; each ping answered by the client's pong.
        await collect(socket, "ping", 5, (PING_INTERVAL + PING_TIMEOUT) * 5 + 3000);
        assert.equal(closed, false);
        assert.equal(socket.readyState, "open");
        assert.equal(await echo(socket, "still there"), "still there");
      });

      it("closes from the client side", async () => {
        const socket = await connect(srv, mode.opts);
        const sid = socket.id;
        const closed = once(socket, "close", 5000);
        socket.close();
        const [reason] = await closed;
        assert.equal(reason, "forced close");
        assert.equal(await serverClose(srv, sid), "transport close");
      });

      it("closes from the server side", async () => {
        const socket = await connect(srv, mode.opts, { upgraded: mode.name.includes("upgrade") });
        const sid = socket.id;
        const closed = once(socket, "close", 5000);
        const msg = once(socket, "message", 5000);
        socket.send("last");
        assert.equal((await msg)[0], "last");
        socket.send("__close__");
        const [reason] = await closed;
        assert.equal(reason, "transport close");
        assert.equal(await serverClose(srv, sid), "forced close");
      });
    });
  }

  it("upgrades while messages flow, losing none", async () => {
    const socket = new Socket(srv.url, { transports: ["polling", "websocket"] });
    open.add(socket);
    const got = collect(socket, "message", 60, 10000);
    const upgraded = once(socket, "upgrade", 5000);
    await once(socket, "open", 5000);
    for (let i = 0; i < 30; i++) socket.send(`a${i}`);
    await upgraded;
    for (let i = 0; i < 30; i++) socket.send(`b${i}`);
    const msgs = (await got).map(([d]) => d);
    const want = [...Array.from({ length: 30 }, (_, i) => `a${i}`), ...Array.from({ length: 30 }, (_, i) => `b${i}`)];
    assert.deepEqual(msgs, want);
    assert.equal(socket.transport.name, "websocket");
  });

  it("a client that stops answering pings is closed with ping timeout", async () => {
    const socket = await connect(srv, { transports: ["websocket"] });
    const sid = socket.id;
    // Swallow the pong: the client's packets stop reaching the server.
    socket.transport.write = () => {};
    assert.equal(await serverClose(srv, sid), "ping timeout");
  });
});

describe("maxHttpBufferSize", () => {
  let srv;
  before(async () => {
    srv = await start(["-max-http-buffer-size", "1000"]);
  });

  for (const mode of MODES.slice(0, 2)) {
    it(`a message over it closes the session (${mode.name})`, async () => {
      const socket = await connect(srv, mode.opts);
      const sid = socket.id;
      assert.equal(await echo(socket, "y".repeat(900)), "y".repeat(900));
      const closed = once(socket, "close", 5000);
      socket.send("z".repeat(2000));
      // WebSocket: a 1009 close frame; polling: a 413 answer, or the
      // close packet on the pending GET, whichever the client sees first.
      const [reason] = await closed;
      assert.ok(["transport close", "transport error"].includes(reason), reason);
      assert.equal(await serverClose(srv, sid), "transport error");
    });
  }

  it("the handshake advertises it", async () => {
    const socket = new Socket(srv.url, { transports: ["polling"] });
    open.add(socket);
    const [hs] = await once(socket, "handshake", 5000);
    assert.equal(hs.maxPayload, 1000);
    assert.equal(hs.pingInterval, PING_INTERVAL);
    assert.equal(hs.pingTimeout, PING_TIMEOUT);
    assert.deepEqual(hs.upgrades, ["websocket"]);
  });
});

describe("CORS", () => {
  it("answers preflights for any origin", async () => {
    const srv = await start(["-cors-origin", "*"]);
    const res = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: {
        Origin: "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    assert.match(res.headers.get("access-control-allow-methods"), /POST/);
    assert.equal(res.headers.get("access-control-allow-headers"), "content-type");
    const hs = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`, { headers: { Origin: "https://app.example" } });
    assert.equal(hs.status, 200);
    assert.equal(hs.headers.get("access-control-allow-origin"), "*");
    assert.match(await hs.text(), /^0\{"sid":/);
  });

  it("answers preflights for a listed origin, with credentials", async () => {
    const srv = await start(["-cors-origin", "https://app.example", "-credentials"]);
    const res = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    const other = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`, {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });
});

describe("allowRequest", () => {
  let srv;
  before(async () => {
    srv = await start(["-allow-request-token", "s3cret"]);
  });

  it("lets a client with the token in", async () => {
    for (const mode of MODES.slice(0, 2)) {
      const socket = await connect(srv, { ...mode.opts, query: { token: "s3cret" } });
      assert.equal(await echo(socket, "in"), "in");
    }
  });

  it("refuses a client without it with 403 and code 4", async () => {
    const res = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling&token=wrong`);
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { code: 4, message: "bad token" });
    for (const mode of MODES.slice(0, 2)) {
      const socket = new Socket(srv.url, { ...mode.opts, query: { token: "wrong" } });
      open.add(socket);
      const [err] = await once(socket, "error", 5000);
      assert.ok(err, `an error on ${mode.name}`);
      assert.equal(socket.readyState, "closed");
    }
  });
});

describe("transports option", () => {
  it("a websocket-only server refuses polling", async () => {
    const srv = await start(["-transports", "websocket"]);
    const res = await fetch(`${srv.url}/engine.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 0, message: "Transport unknown" });
    const socket = await connect(srv, { transports: ["websocket"] });
    assert.equal(await echo(socket, "ws"), "ws");
  });

  it("a server without upgrades keeps the client on polling", async () => {
    const srv = await start(["-no-upgrades"]);
    const socket = await connect(srv, { transports: ["polling", "websocket"] });
    assert.equal(await echo(socket, "__transport__"), "transport polling");
    // Past several heartbeats there is still no upgrade.
    await collect(socket, "ping", 2, 5000);
    assert.equal(socket.transport.name, "polling");
  });
});
