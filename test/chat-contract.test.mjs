// Chat contract tests: the official socket.io-client (Node) against each chat
// server from CHAT_SERVERS (default "node,sori"), over websocket only,
// polling only, and the default polling -> websocket upgrade.
//
//   node --test test/chat-contract.test.mjs
//   CHAT_SERVERS=node node --test test/chat-contract.test.mjs
//
// The contract and the ack/error convention are documented at the top of
// test/fixtures/node-chat-server.mjs. Absence is always asserted with a later
// sentinel event, never by sleeping.
import { describe, it, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ChatClient, TRANSPORTS, chatServers, eventually, startChatServer, uniq } from "./fixtures/chat-harness.mjs";
import { ERRORS } from "./fixtures/node-chat-server.mjs";

const names = (list) => list.map((r) => r.name);
const countOf = (list, room) => list.find((r) => r.name === room)?.count;

function assertRefused(res, error, what) {
  assert.equal(res.length, 1, `${what}: a refusal acks with exactly one argument, got ${JSON.stringify(res)}`);
  assert.deepEqual(res[0], { error }, `${what}: expected done({error: ${JSON.stringify(error)}})`);
}

function assertOk(res, what) {
  assert.deepEqual(res, [], `${what}: success must call done() with no arguments, got ${JSON.stringify(res)}`);
}

for (const server of chatServers()) {
  describe(`chat contract [${server.name}]`, { skip: server.skip }, () => {
    let srv;
    before(async () => {
      srv = await startChatServer(server.name);
    });
    after(async () => {
      await srv?.stop();
    });

    for (const transport of TRANSPORTS) {
      describe(`transport: ${transport.name}`, () => {
        const clients = [];
        async function connect(label) {
          const c = await ChatClient.connect(srv.url, { transports: transport.transports, label });
          clients.push(c);
          return c;
        }
        async function enter(c, room) {
          assertOk(await c.ack("enter_room", room), `${c.label} enter_room(${room})`);
        }
        async function nick(c, name) {
          assertOk(await c.ack("nickname", name), `${c.label} nickname(${name})`);
        }
        async function say(c, msg, room) {
          assertOk(await c.ack("new_message", msg, room), `${c.label} new_message`);
        }
        afterEach(() => {
          while (clients.length) clients.pop().close();
        });

        if (transport.name === "upgrade") {
          it("upgrades from polling to websocket", async () => {
            const a = await connect("a");
            await eventually(() => a.socket.io.engine.transport.name === "websocket", {
              message: "the transport to upgrade to websocket",
            });
            const room = uniq("upg");
            const b = await connect("b");
            await enter(a, room);
            await enter(b, room);
            await say(a, "over websocket", room);
            assert.deepEqual(await b.next("new_message"), ["Anon: over websocket"]);
          });
        }

        it("sends room_change then rooms as soon as a socket connects", async () => {
          const a = await connect("a");
          const [first] = await a.next("room_change");
          const [firstRooms] = await a.next("rooms");
          assert.ok(Array.isArray(first), "room_change carries an array");
          assert.ok(Array.isArray(firstRooms), "rooms carries an array");
          assert.deepEqual(a.log[0][0], "room_change", "the first event after connect is room_change");
          assert.deepEqual(a.log[1][0], "rooms", "rooms follows room_change");

          const room = uniq("lobby");
          await enter(a, room);
          const b = await connect("b");
          const [rc] = await b.next("room_change");
          const [rs] = await b.next("rooms");
          assert.ok(rc.includes(room), `initial room_change ${JSON.stringify(rc)} lists ${room}`);
          assert.equal(countOf(rs, room), 1, `initial rooms ${JSON.stringify(rs)} counts 1 in ${room}`);
          for (const r of rs) {
            assert.equal(typeof r.name, "string");
            assert.ok(Number.isInteger(r.count) && r.count >= 1, `count of ${r.name} is a positive integer`);
          }
          assert.ok(!rc.includes(a.id) && !rc.includes(b.id), "private rooms are not listed");
        });

        it("defaults the nickname to Anon and sends 'nickname: msg' to the others only", async () => {
          const room = uniq("talk");
          const a = await connect("a");
          const b = await connect("b");
          const c = await connect("c");
          for (const x of [a, b, c]) await enter(x, room);

          await say(a, "hello", room);
          assert.deepEqual(await b.next("new_message"), ["Anon: hello"]);
          assert.deepEqual(await c.next("new_message"), ["Anon: hello"]);

          // nickname without an ack (the seed page's way) still applies
          b.emit("nickname", "bob");
          await say(b, "hi", room);
          assert.deepEqual(await a.next("new_message"), ["bob: hi"], "a got no echo of its own message");
          assert.deepEqual(await c.next("new_message"), ["bob: hi"]);

          await say(c, "last", room);
          assert.deepEqual(await b.next("new_message"), ["Anon: last"], "b got no echo of its own message");
          assert.deepEqual(await a.next("new_message"), ["Anon: last"]);
        });

        it("sends welcome(nickname, count) to the others while people join and leave", async () => {
          const room = uniq("welcome");
          const a = await connect("a");
          await nick(a, "alice");
          await enter(a, room);

          const b = await connect("b");
          await nick(b, "bob");
          await enter(b, room);
          assert.deepEqual(await a.next("welcome"), ["bob", 2]);

          const c = await connect("c");
          await enter(c, room);
          assert.deepEqual(await a.next("welcome"), ["Anon", 3]);
          assert.deepEqual(await b.next("welcome"), ["Anon", 3]);

          const d = await connect("d");
          await nick(d, "dora");
          await enter(d, room);
          for (const x of [a, b, c]) assert.deepEqual(await x.next("welcome"), ["dora", 4], `${x.label}`);
          // c's first welcome was dora's: nobody is welcomed to themselves

          assertOk(await c.ack("leave_room", room), "c leave_room");
          for (const x of [a, b, d]) assert.deepEqual(await x.next("bye"), ["Anon", 3], `${x.label}`);
          d.close();
          for (const x of [a, b]) assert.deepEqual(await x.next("bye"), ["dora", 2], `${x.label}`);

          const e = await connect("e");
          await nick(e, "eve");
          await enter(e, room);
          assert.deepEqual(await a.next("welcome"), ["eve", 3]);
          assert.deepEqual(await b.next("welcome"), ["eve", 3]);
          // entering a room again is a no-op: no second welcome
          await enter(e, room);
          await enter(c, room);
          assert.deepEqual(await a.next("welcome"), ["Anon", 4]);
          assert.deepEqual(await e.next("welcome"), ["Anon", 4]);
        });

        it("sends bye(nickname, count) to the room when someone disconnects", async () => {
          const room = uniq("bye");
          const a = await connect("a");
          const b = await connect("b");
          const c = await connect("c");
          await nick(b, "bob");
          await nick(c, "carol");
          for (const x of [a, b, c]) await enter(x, room);

          c.close();
          assert.deepEqual(await a.next("bye"), ["carol", 2]);
          assert.deepEqual(await b.next("bye"), ["carol", 2]);
          b.close();
          assert.deepEqual(await a.next("bye"), ["bob", 1]);
        });

        it("sends bye to every room the socket was in", async () => {
          const r1 = uniq("multi1");
          const r2 = uniq("multi2");
          const a = await connect("a");
          const b = await connect("b");
          const c = await connect("c");
          await nick(a, "multi");
          await enter(a, r1);
          await enter(a, r2);
          await enter(b, r1);
          await enter(c, r2);

          await say(a, "to one", r1);
          await say(a, "to two", r2);
          await say(a, "one more", r1);
          assert.deepEqual(await b.next("new_message"), ["multi: to one"]);
          assert.deepEqual(await b.next("new_message"), ["multi: one more"], "b got nothing from r2");
          assert.deepEqual(await c.next("new_message"), ["multi: to two"], "c got nothing from r1");

          a.close();
          assert.deepEqual(await b.next("bye"), ["multi", 1]);
          assert.deepEqual(await c.next("bye"), ["multi", 1]);
        });

        it("leave_room acks, says bye to the rest, and the leaver gets nothing more", async () => {
          const room = uniq("leave");
          const a = await connect("a");
          const b = await connect("b");
          await nick(a, "alice");
          await nick(b, "bob");
          await enter(a, room);
          await enter(b, room);
          assert.deepEqual(await a.next("welcome"), ["bob", 2]);

          assertOk(await b.ack("leave_room", room), "b leave_room");
          assert.deepEqual(await a.next("bye"), ["bob", 1]);
          assert.ok(b.socket.connected, "leaving does not disconnect");

          await say(a, "after you left", room);
          await enter(b, room);
          assert.deepEqual(await a.next("welcome"), ["bob", 2]);
          await say(a, "welcome back", room);
          assert.deepEqual(await b.next("new_message"), ["alice: welcome back"], "b missed the message sent while out");
        });

        it("keeps rooms apart", async () => {
          const r1 = uniq("apart1");
          const r2 = uniq("apart2");
          const [a, b, c, d] = [await connect("a"), await connect("b"), await connect("c"), await connect("d")];
          await nick(a, "alice");
          await nick(c, "carol");
          await enter(a, r1);
          await enter(b, r1);
          await enter(c, r2);
          await enter(d, r2);
          assert.deepEqual(await a.next("welcome"), ["Anon", 2]);
          assert.deepEqual(await c.next("welcome"), ["Anon", 2]);

          await say(a, "one", r1);
          await say(c, "two", r2);
          assert.deepEqual(await b.next("new_message"), ["alice: one"]);
          assert.deepEqual(await d.next("new_message"), ["carol: two"]);
          await say(a, "one again", r1);
          await say(c, "two again", r2);
          assert.deepEqual(await b.next("new_message"), ["alice: one again"], "b got nothing from r2");
          assert.deepEqual(await d.next("new_message"), ["carol: two again"], "d got nothing from r1");

          const e = await connect("e");
          await nick(e, "erin");
          await enter(e, r2);
          assert.deepEqual(await c.next("welcome"), ["erin", 3]);
          const f = await connect("f");
          await nick(f, "fred");
          await enter(f, r1);
          assert.deepEqual(await a.next("welcome"), ["fred", 3], "a got no welcome from r2");

          e.close();
          assert.deepEqual(await c.next("bye"), ["erin", 2]);
          f.close();
          assert.deepEqual(await a.next("bye"), ["fred", 2], "a got no bye from r2");
        });

        it("sends room_change + rooms to every socket after enter, leave and disconnect", async () => {
          const room = uniq("rc");
          const o = await connect("observer");
          await o.next("room_change");
          const a = await connect("a");
          await enter(a, room);
          await o.waitFor("room_change", (rc) => rc.includes(room));
          await o.waitFor("rooms", (rs) => countOf(rs, room) === 1);
          await a.waitFor("room_change", (rc) => rc.includes(room));
          await a.waitFor("rooms", (rs) => countOf(rs, room) === 1);

          const b = await connect("b");
          await enter(b, room);
          await o.waitFor("rooms", (rs) => countOf(rs, room) === 2);
          await a.waitFor("rooms", (rs) => countOf(rs, room) === 2);

          assertOk(await b.ack("leave_room", room), "b leave_room");
          await o.waitFor("rooms", (rs) => countOf(rs, room) === 1);
          await b.waitFor("rooms", (rs) => countOf(rs, room) === 1);

          b.close();
          a.close();
          await o.waitFor("room_change", (rc) => !rc.includes(room));
          await o.waitFor("rooms", (rs) => !names(rs).includes(room));

          // every room_change is paired with a rooms event naming the same rooms
          await eventually(
            () =>
              o.log.filter(([e]) => e === "room_change").length === o.log.filter(([e]) => e === "rooms").length,
            { message: "as many rooms events as room_change events" },
          );
          const rcs = o.log.filter(([e]) => e === "room_change").map(([, v]) => v);
          const rss = o.log.filter(([e]) => e === "rooms").map(([, v]) => v);
          rcs.forEach((rc, i) => assert.deepEqual(names(rss[i]), rc, `rooms #${i} matches room_change #${i}`));
        });

        it("keeps Korean and emoji text intact", async () => {
          const room = "한국어 방 🇰🇷 " + uniq("k");
          const a = await connect("a");
          const b = await connect("b");
          const o = await connect("o");
          await nick(a, "민수 🐯");
          await nick(b, "지은");
          await enter(a, room);
          await enter(b, room);
          assert.deepEqual(await a.next("welcome"), ["지은", 2]);
          await o.waitFor("room_change", (rc) => rc.includes(room));

          const texts = ["안녕하세요 👋", "가족: 👨‍👩‍👧‍👦, 국기: 🇰🇷, 결합: e\u0301", "첫 줄\n둘째 줄"];
          for (const t of texts) await say(a, t, room);
          for (const t of texts) assert.deepEqual(await b.next("new_message"), [`민수 🐯: ${t}`]);
          b.close();
          assert.deepEqual(await a.next("bye"), ["지은", 1]);
        });

        it("trims nicknames, room names and messages", async () => {
          const room = uniq("trim");
          const a = await connect("a");
          const b = await connect("b");
          await nick(a, "  alice\t ");
          await enter(a, `   ${room}\u3000`);
          await enter(b, room);
          assert.deepEqual(await a.next("welcome"), ["Anon", 2], "both are in the trimmed room");
          const [rc] = await b.waitFor("room_change", (list) => list.includes(room));
          assert.ok(!rc.some((r) => r !== room && r.trim() === room), "no untrimmed copy of the room is listed");

          await say(a, "  hi there \n", room);
          assert.deepEqual(await b.next("new_message"), ["alice: hi there"]);
          await say(a, "inner  spaces   kept", ` ${room} `);
          assert.deepEqual(await b.next("new_message"), ["alice: inner  spaces   kept"]);
        });

        it("refuses bad nicknames with {error} and keeps the old one", async () => {
          const room = uniq("badnick");
          const a = await connect("a");
          const b = await connect("b");
          await nick(a, "alice");
          await enter(a, room);
          await enter(b, room);

          const bad = ["", "   ", "\t\n", "\u3000", "x".repeat(33), "가".repeat(33), "👋".repeat(33), 123, null, {}];
          for (const v of bad) assertRefused(await a.ack("nickname", v), ERRORS.nickname, `nickname(${JSON.stringify(v)})`);
          a.emit("nickname", ""); // refused without an ack: nothing happens
          await say(a, "still me", room);
          assert.deepEqual(await b.next("new_message"), ["alice: still me"]);

          // limits are in code points: 32 emoji (64 UTF-16 units, 128 bytes) are fine
          for (const ok of ["x".repeat(32), "가".repeat(32), "👋".repeat(32), `  ${"y".repeat(32)}  `]) {
            await nick(a, ok);
            await say(a, "m", room);
            assert.deepEqual(await b.next("new_message"), [`${ok.trim()}: m`]);
          }
        });

        it("refuses bad room names with {error} and broadcasts nothing", async () => {
          const a = await connect("a");
          const o = await connect("o");
          await o.next("rooms");
          const mark = o.log.length;

          const bad = ["", "  ", "\n", "r".repeat(65), "방".repeat(65), "🚪".repeat(65), 42, null, ["x"]];
          for (const v of bad) assertRefused(await a.ack("enter_room", v), ERRORS.room, `enter_room(${JSON.stringify(v)})`);
          a.emit("enter_room", "   "); // refused without an ack
          assertRefused(await a.ack("new_message", "hi", "r".repeat(65)), ERRORS.room, "new_message to a too-long room");
          assertRefused(await a.ack("leave_room", ""), ERRORS.room, "leave_room('')");

          const okRoom = "🚪".repeat(63) + uniq("").slice(-1);
          await enter(a, okRoom); // 64 code points: accepted
          await o.waitFor("room_change", (rc) => rc.includes(okRoom));
          const between = o.log.slice(mark);
          const listed = between.filter(([e]) => e === "room_change").flatMap(([, rc]) => rc);
          for (const v of bad) {
            if (typeof v === "string") assert.ok(!listed.includes(v) && !listed.includes(v.trim()), `${JSON.stringify(v)} never listed`);
          }
          const rcEvents = between.filter(([e]) => e === "room_change");
          const last = rcEvents[rcEvents.length - 1][1];
          assert.ok(last.includes(okRoom));
          assert.ok(!last.includes(""), "no empty room listed");
        });

        it("refuses bad messages with {error} and broadcasts nothing", async () => {
          const room = uniq("badmsg");
          const a = await connect("a");
          const b = await connect("b");
          await nick(a, "alice");
          await enter(a, room);
          await enter(b, room);

          const bad = ["", "   ", "\n\t", "\u3000", "m".repeat(2001), "말".repeat(2001), "😀".repeat(2001), 7, null, { text: "hi" }];
          for (const v of bad) {
            const shown = typeof v === "string" && v.length > 20 ? `${v.slice(0, 4)}…(${[...v].length})` : JSON.stringify(v);
            assertRefused(await a.ack("new_message", v, room), ERRORS.message, `new_message(${shown})`);
          }
          a.emit("new_message", "", room); // refused without an ack
          await say(a, "valid", room);
          assert.deepEqual(await b.next("new_message"), ["alice: valid"], "the first message b receives is the valid one");

          const longest = "😀".repeat(1999) + "!";
          await say(a, longest, room);
          assert.deepEqual(await b.next("new_message"), [`alice: ${longest}`], "2000 code points go through intact");
        });

        it("refuses new_message and leave_room for a room the socket is not in", async () => {
          const inside = uniq("inside");
          const a = await connect("a");
          const c = await connect("c");
          const d = await connect("d");
          await nick(a, "alice");
          await nick(d, "dan");
          await enter(c, inside);
          await enter(d, inside);

          assertRefused(await a.ack("new_message", "sneaky", inside), ERRORS.notInRoom, "new_message to a room a is not in");
          assertRefused(await a.ack("new_message", "private", a.id), ERRORS.notInRoom, "new_message to a's private room");
          assertRefused(await a.ack("leave_room", inside), ERRORS.notInRoom, "leave_room of a room a is not in");
          await say(d, "sentinel", inside);
          assert.deepEqual(await c.next("new_message"), ["dan: sentinel"], "nothing from a reached the room");
          assertOk(await d.ack("leave_room", inside), "d leave_room");
          assert.deepEqual(await c.next("bye"), ["dan", 1], "a's refused leave sent no bye");
        });
      });
    }
  });
}
