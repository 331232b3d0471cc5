// SIGTERM on one chat server of a Redis cluster: it exits within its
// deadline, its clients see their transport close (not a server
// disconnect, which would stop them from reconnecting), reconnect through
// the load balancer to the other server, and carry on chatting with the
// people who were there all along.
//
//   make build && node --test test/chat-failover.test.mjs
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { io } from "socket.io-client";
import { ChatClient, uniq } from "./fixtures/chat-harness.mjs";
import { startRedis } from "./helpers/redis.mjs";
import { startServer, ROOT } from "./helpers/process.mjs";
import { once } from "./helpers/wait.mjs";

const SORI_CHAT = path.join(ROOT, "bin", "sori-chat");
const TIMEOUT = 15000;

/** A TCP load balancer: each connection goes to the first backend that accepts it. */
function balancer(backends) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    const attempt = (i) => {
      if (i >= backends.length) return client.destroy();
      const up = net.connect(backends[i]);
      up.once("connect", () => {
        sockets.add(up);
        up.on("close", () => sockets.delete(up));
        client.pipe(up).pipe(client);
        up.on("error", () => client.destroy());
        client.on("error", () => up.destroy());
      });
      up.once("error", () => attempt(i + 1));
    };
    attempt(0);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

function until(promise, what) {
  let t;
  return Promise.race([
    promise,
    new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT))),
  ]).finally(() => clearTimeout(t));
}

describe("SIGTERM in a Redis cluster", { skip: !fs.existsSync(SORI_CHAT) && "bin/sori-chat not built" }, () => {
  let redis, a, b, lb;
  before(async () => {
    redis = await startRedis();
    const start = () =>
      startServer(SORI_CHAT, ["-addr", "{addr}", "-redis", redis.url, "-shutdown-timeout", "5s"], {
        readyPattern: /listening/,
        waitForPort: true,
      });
    [a, b] = await Promise.all([start(), start()]);
    lb = await balancer([{ host: a.host, port: a.port }, { host: b.host, port: b.port }]);
  });
  after(async () => {
    lb?.close();
    await Promise.allSettled([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  it("moves the clients of the stopped server to the other one", async () => {
    const room = uniq("failover");
    // Carol is on server b the whole time.
    const carol = await ChatClient.connect(b.url, { label: "carol", transports: ["websocket"] });
    assert.deepEqual(await carol.ack("nickname", "carol"), []);
    assert.deepEqual(await carol.ack("enter_room", room), []);

    // Dave comes through the balancer (to server a) and, like the page,
    // enters his room again whenever he (re)connects.
    const dave = io(lb.url, {
      transports: ["websocket"],
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
      forceNew: true,
    });
    const joins = [];
    dave.on("connect", () => {
      joins.push(
        dave
          .emitWithAck("nickname", "dave")
          .then(() => dave.emitWithAck("enter_room", room))
          .then(() => dave.io.engine.transport.name),
      );
    });
    const heard = [];
    dave.on("new_message", (text) => heard.push(text));
    try {
      await until(once(dave, "connect"), "dave to connect");
      assert.deepEqual(await carol.waitFor("welcome", (nick) => nick === "dave"), ["dave", 2]);
      assert.equal(await dave.emitWithAck("new_message", "before", room), undefined);
      assert.deepEqual(await carol.next("new_message"), ["dave: before"]);

      // SIGTERM server a: it exits in time, and dave's transport closes.
      const disconnected = until(once(dave, "disconnect"), "dave's disconnect");
      const started = Date.now();
      a.proc.kill("SIGTERM");
      const exit = await until(a.exited, "server a to exit");
      assert.equal(exit.code, 0, `server a exited with ${JSON.stringify(exit)}:\n${a.output()}`);
      assert.ok(Date.now() - started < 10000, "server a exited within its deadline");
      const [reason] = await disconnected;
      assert.equal(reason, "transport close", "a server shutting down lets its clients reconnect");

      // Dave reconnects through the balancer, to b, and is back in the room.
      await until(once(dave, "connect"), "dave to reconnect");
      await until(joins[1], "dave to enter the room again");
      await carol.waitFor("welcome", (nick, count) => nick === "dave" && count === 2);

      await dave.emitWithAck("new_message", "after", room);
      assert.deepEqual(await carol.next("new_message"), ["dave: after"]);
      assert.deepEqual(await carol.ack("new_message", "welcome back", room), []);
      await until(
        (async () => {
          while (!heard.includes("carol: welcome back")) await new Promise((r) => setTimeout(r, 20));
        })(),
        "dave to hear carol",
      );
    } finally {
      dave.close();
      carol.close();
    }
  });
});
