// Browser tests of Sori's chat page (chat/static) in headless Chromium via
// playwright-core, against each server from CHAT_SERVERS (default "node,sori").
// Screenshots go to test/output/chat-<server>-*.png.
//
//   node --test test/chat-browser.test.mjs
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import {
  VIEWPORTS,
  chatServers,
  chromiumAvailable,
  ensureOutputDir,
  eventually,
  launchBrowser,
  openPage,
  startChatServer,
  texts,
  uniq,
} from "./fixtures/chat-harness.mjs";

const XSS = `<img src=x onerror="window.__pwned=1">`;

const messages = (page) => texts(page, "#room ul li");
const title = async (page) => (await page.textContent("#room h3")).trim();
const roomList = (page) =>
  page.$$eval("#welcome ul li", (lis) =>
    lis.map((li) => ({
      name: li.querySelector(".room-name")?.textContent ?? li.textContent,
      count: Number(li.querySelector(".count")?.textContent ?? NaN),
    })),
  );

async function waitMessage(page, text, who = "page") {
  await eventually(async () => (await messages(page)).includes(text), {
    message: `${who} to show the message ${JSON.stringify(text)} (has ${JSON.stringify(await messages(page).catch(() => []))})`,
  });
}

async function waitTitle(page, expected, who = "page") {
  await eventually(async () => (await title(page)) === expected, {
    message: `${who} title to be ${JSON.stringify(expected)} (is ${JSON.stringify(await title(page).catch(() => null))})`,
  });
}

async function waitRooms(page, pred, what) {
  return eventually(async () => pred(await roomList(page)), { message: what });
}

async function online(page) {
  await page.waitForSelector('#conn[data-state="online"]');
}

async function enterRoom(page, room) {
  await online(page);
  await page.fill('#welcome input[placeholder="room name"]', room);
  await page.press('#welcome input[placeholder="room name"]', "Enter");
  await page.waitForSelector("#room:not([hidden])");
  assert.equal(await page.isHidden("#welcome"), true, "the welcome section is hidden in the room");
}

async function setNickname(page, name) {
  await page.fill('#name input[placeholder="nickname"]', name);
  await page.click("#name button");
  await eventually(async () => (await page.textContent("#name .me-name")) === name, {
    message: `nickname ${name} to be saved`,
  });
}

async function send(page, text) {
  await page.fill('#msg input[placeholder="message"]', text);
  await page.press('#msg input[placeholder="message"]', "Enter");
}

const shot = (server, name) => path.join(ensureOutputDir(), `chat-${server}-${name}.png`);

for (const server of chatServers()) {
  const skip = server.skip || (!chromiumAvailable() && "no Chromium installed (apt-get install chromium)");
  describe(`chat page in Chromium [${server.name}]`, { skip }, () => {
    let srv;
    let browser;
    const contexts = [];
    async function open(opts) {
      const p = await openPage(browser, srv.url, opts);
      contexts.push(p.context);
      return p;
    }

    before(async () => {
      srv = await startChatServer(server.name);
      browser = await launchBrowser();
    });
    after(async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close();
      await srv?.stop();
    });

    it("serves the page and the official client", async () => {
      const page = await fetch(`${srv.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type"), /text\/html/);
      const html = await page.text();
      assert.match(html, /src="\/socket\.io\/socket\.io\.js"/);
      for (const asset of ["/app.js", "/style.css", "/socket.io/socket.io.js"]) {
        const res = await fetch(srv.url + asset);
        assert.equal(res.status, 200, `${asset} is served`);
        await res.arrayBuffer();
      }
    });

    it("lets two people chat: arrivals, departures, counts, and text stays text", async () => {
      const room = uniq("lobby");
      const { page: a } = await open({ viewport: VIEWPORTS.desktop });
      const { page: b, context: bContext } = await open({ viewport: VIEWPORTS.phone, mobile: true });

      await enterRoom(a, room);
      await waitTitle(a, `Room ${room} (1)`, "Alice");
      await setNickname(a, "Alice");

      await enterRoom(b, room);
      await waitMessage(a, "Anon arrived!", "Alice");
      await waitTitle(a, `Room ${room} (2)`, "Alice");
      await waitTitle(b, `Room ${room} (2)`, "Bob");
      await setNickname(b, "Bob");

      await send(a, "Hi Bob! 반가워요");
      await waitMessage(a, "You: Hi Bob! 반가워요", "Alice");
      await waitMessage(b, "Alice: Hi Bob! 반가워요", "Bob");
      await send(b, "안녕하세요 👋");
      await waitMessage(b, "You: 안녕하세요 👋", "Bob");
      await waitMessage(a, "Bob: 안녕하세요 👋", "Alice");

      await send(b, XSS);
      await waitMessage(b, `You: ${XSS}`, "Bob");
      await waitMessage(a, `Bob: ${XSS}`, "Alice");
      for (const [who, p] of [["Alice", a], ["Bob", b]]) {
        assert.equal(await p.evaluate(() => window.__pwned), undefined, `${who}: the payload never ran`);
        assert.equal(await p.locator("#room ul img").count(), 0, `${who}: no <img> was created`);
      }
      await send(a, "Nice try 😄 — that was shown as text.");
      await waitMessage(b, "Alice: Nice try 😄 — that was shown as text.", "Bob");

      await a.screenshot({ path: shot(server.name, "desktop") });
      await b.screenshot({ path: shot(server.name, "phone") });

      // Leave button: back to the room list, the other side sees the departure.
      await b.click("#leave");
      await b.waitForSelector("#welcome:not([hidden])");
      await waitMessage(a, "Bob left", "Alice");
      await waitTitle(a, `Room ${room} (1)`, "Alice");
      await waitRooms(b, (list) => list.some((r) => r.name === room && r.count === 1), `Bob's list to show ${room} (1)`);

      // Rooms in the list are clickable.
      await b.click(`#welcome ul li button[data-room="${room}"]`);
      await b.waitForSelector("#room:not([hidden])");
      await waitMessage(a, "Bob arrived!", "Alice");
      await waitTitle(a, `Room ${room} (2)`, "Alice");
      await waitTitle(b, `Room ${room} (2)`, "Bob");

      // Closing the tab is a departure too.
      await bContext.close();
      await eventually(async () => (await messages(a)).filter((m) => m === "Bob left").length === 2, {
        message: "Alice to see Bob leave a second time",
      });
      await waitTitle(a, `Room ${room} (1)`, "Alice");

      assert.deepEqual(a.pageErrors, [], "no uncaught errors on Alice's page");
      assert.deepEqual(a.consoleErrors, [], "no console errors on Alice's page");
    });

    it("updates the open-room list live, with counts", async () => {
      const room = uniq("live");
      const { page: o } = await open({ viewport: VIEWPORTS.phone, mobile: true });
      await online(o);
      const { page: a, context: aContext } = await open({ viewport: VIEWPORTS.desktop });
      const { page: b, context: bContext } = await open({ viewport: VIEWPORTS.desktop });

      await enterRoom(a, room);
      await waitRooms(o, (l) => l.some((r) => r.name === room && r.count === 1), `${room} (1) to appear`);
      await waitRooms(b, (l) => l.some((r) => r.name === room && r.count === 1), `${room} (1) on a desktop`);
      await b.screenshot({ path: shot(server.name, "rooms-desktop") });
      await enterRoom(b, room);
      await waitRooms(o, (l) => l.some((r) => r.name === room && r.count === 2), `${room} to count 2`);
      await o.screenshot({ path: shot(server.name, "rooms-phone") });

      // The observer joins by clicking the room.
      await o.click(`#welcome ul li button[data-room="${room}"]`);
      await o.waitForSelector("#room:not([hidden])");
      await waitTitle(o, `Room ${room} (3)`, "observer");
      await waitMessage(a, "Anon arrived!", "a");
      await waitTitle(a, `Room ${room} (3)`, "a");
      await o.click("#leave");
      await o.waitForSelector("#welcome:not([hidden])");
      await waitRooms(o, (l) => l.some((r) => r.name === room && r.count === 2), `${room} back to 2`);

      await aContext.close();
      await waitRooms(o, (l) => l.some((r) => r.name === room && r.count === 1), `${room} down to 1`);
      await bContext.close();
      await waitRooms(o, (l) => !l.some((r) => r.name === room), `${room} to disappear`);
      assert.deepEqual(o.pageErrors, []);
      assert.deepEqual(o.consoleErrors, []);
    });

    it("shows an offline banner and re-joins the room after the server restarts", async () => {
      const room = uniq("again");
      const { page: a } = await open({ viewport: VIEWPORTS.desktop });
      const { page: b } = await open({ viewport: VIEWPORTS.phone, mobile: true });
      await enterRoom(a, room);
      await setNickname(a, "Alice");
      await enterRoom(b, room);
      await setNickname(b, "Bob");
      await waitTitle(a, `Room ${room} (2)`, "Alice");
      assert.equal(await a.isHidden("#status"), true, "no banner while online");

      await srv.stop();
      for (const p of [a, b]) {
        await p.waitForSelector("#status:not([hidden])");
        assert.match(await p.textContent("#status"), /reconnect/i);
      }
      await a.screenshot({ path: shot(server.name, "offline-desktop") });
      await b.screenshot({ path: shot(server.name, "offline-phone") });

      await srv.restart();
      try {
        for (const p of [a, b]) await p.waitForSelector("#status", { state: "hidden", timeout: 20000 });
      } catch (err) {
        const banner = await a.textContent("#status").catch(() => "?");
        err.message += `\nbanner: ${banner}\nserver log after restart:\n${srv.logs()}`;
        throw err;
      }
      await waitTitle(a, `Room ${room} (2)`, "Alice");
      await waitTitle(b, `Room ${room} (2)`, "Bob");
      await send(a, "back again");
      await waitMessage(b, "Alice: back again", "Bob");
      await send(b, "me too");
      await waitMessage(a, "Bob: me too", "Alice");
      assert.deepEqual(a.pageErrors, []);
      assert.deepEqual(b.pageErrors, []);
    });
  });
}
