// The chat on two servers sharing one Redis (bin/sori-chat -redis URL):
// people on different servers in one room see each other's messages,
// arrivals and departures with the counts of the whole cluster, and every
// room list spans both servers.
//
//   go build -o bin/ ./cmd/sori-chat
//   node --test test/chat-cluster.test.mjs
import { describe, it, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ChatClient, uniq } from "./fixtures/chat-harness.mjs";
import { startRedis } from "./helpers/redis.mjs";
import { startServer, ROOT } from "./helpers/process.mjs";

const SORI_CHAT = path.join(ROOT, "bin", "sori-chat");

const countOf = (list, room) => list.find((r) => r.name === room)?.count;

describe("chat across two servers on one Redis", { skip: !fs.existsSync(SORI_CHAT) && "bin/sori-chat not built" }, () => {
  let redis, one, two;
  const clients = [];

  async function connect(srv, label, transports = ["websocket"]) {
    const c = await ChatClient.connect(srv.url, { label, transports });
    clients.push(c);
    await c.next("room_change");
    await c.next("rooms");
    return c;
  }
  async function ok(c, ...args) {
    assert.deepEqual(await c.ack(...args), [], `${c.label} ${args[0]}`);
  }
  /** Waits until c gets a rooms list where pred holds; returns it. */
  async function roomsWhere(c, pred) {
    const [list] = await c.waitFor("rooms", (list) => pred(list));
    return list;
  }

  before(async () => {
    redis = await startRedis();
    const start = () =>
      startServer(SORI_CHAT, ["-addr", "{addr}", "-redis", redis.url], { readyPattern: /listening/, waitForPort: true });
    [one, two] = await Promise.all([start(), start()]);
  });
  after(async () => {
    await Promise.allSettled([one?.stop(), two?.stop()]);
    await redis?.stop();
  });
  afterEach(() => {
    while (clients.length) clients.pop().close();
  });

  it("shares rooms, messages, arrivals and departures", async () => {
    const room = uniq("lobby");
    const alice = await connect(one, "alice");
    const bob = await connect(two, "bob", ["polling"]);
    await ok(alice, "nickname", "alice");
    await ok(bob, "nickname", "bob");

    // Alice opens the room on server one: bob, on two, sees it listed.
    await ok(alice, "enter_room", room);
    let list = await roomsWhere(bob, (l) => countOf(l, room) === 1);
    assert.equal(countOf(list, room), 1);
    const [names] = await bob.waitFor("room_change", (n) => n.includes(room));
    assert.ok(names.includes(room));

    // Bob comes in through server two: alice is told, with the count of both.
    await ok(bob, "enter_room", room);
    assert.deepEqual(await alice.next("welcome"), ["bob", 2]);
    for (const c of [alice, bob]) {
      list = await roomsWhere(c, (l) => countOf(l, room) === 2);
      assert.equal(countOf(list, room), 2, `${c.label} sees both in the room`);
    }

    // Messages cross servers, not back to their sender.
    await ok(alice, "new_message", "hello from one", room);
    assert.deepEqual(await bob.next("new_message"), ["alice: hello from one"]);
    await ok(bob, "new_message", "hi from two", room);
    assert.deepEqual(await alice.next("new_message"), ["bob: hi from two"]);
    assert.equal(alice.pending("new_message").length + bob.pending("new_message").length, 0);

    // Carol joins on server one: both are told there are three.
    const carol = await connect(one, "carol");
    await ok(carol, "nickname", "carol");
    await ok(carol, "enter_room", room);
    assert.deepEqual(await alice.next("welcome"), ["carol", 3]);
    assert.deepEqual(await bob.next("welcome"), ["carol", 3]);

    // Alice leaves the room: two remain, on both servers.
    await ok(alice, "leave_room", room);
    assert.deepEqual(await bob.next("bye"), ["alice", 2]);
    assert.deepEqual(await carol.next("bye"), ["alice", 2]);
    list = await roomsWhere(alice, (l) => countOf(l, room) === 2);
    assert.equal(countOf(list, room), 2);

    // Bob disconnects from server two: carol, on one, is told one remains.
    bob.close();
    assert.deepEqual(await carol.next("bye"), ["bob", 1]);
    list = await roomsWhere(alice, (l) => countOf(l, room) === 1);
    assert.equal(countOf(list, room), 1);

    // Carol leaves: the room is gone from every list.
    await ok(carol, "leave_room", room);
    await roomsWhere(alice, (l) => countOf(l, room) === undefined);
  });

  it("lists the rooms of the whole cluster, with their counts", async () => {
    const r1 = uniq("one"), r2 = uniq("two"), both = uniq("both");
    const a = await connect(one, "a");
    const b = await connect(two, "b");
    await ok(a, "enter_room", r1);
    await ok(b, "enter_room", r2);
    await ok(a, "enter_room", both);
    await ok(b, "enter_room", both);
    for (const c of [a, b]) {
      const list = await roomsWhere(c, (l) => countOf(l, both) === 2 && countOf(l, r1) === 1 && countOf(l, r2) === 1);
      const names = list.map((r) => r.name);
      assert.deepEqual(names, [...names].sort(), "sorted by name");
      assert.ok(!names.includes(a.id) && !names.includes(b.id), "no private room listed");
    }
    // A newcomer gets the cluster's list at once.
    const c = await ChatClient.connect(two.url, { label: "c", transports: ["websocket"] });
    clients.push(c);
    await c.next("room_change");
    const [list] = await c.next("rooms");
    assert.equal(countOf(list, both), 2);
    assert.equal(countOf(list, r1), 1);
    assert.equal(countOf(list, r2), 1);
  });
});
