// The seed chapter's own front end (test/fixtures/seed, unchanged) driven in
// headless Chromium against each server from CHAT_SERVERS: a page written
// for the seed's Node server must work against Sori unchanged.
// The server serves the fixture directory instead of its own page:
//   node: node test/fixtures/node-chat-server.mjs --static test/fixtures/seed
//   sori: bin/sori-chat -static test/fixtures/seed
//
//   node --test test/chat-seed-frontend.test.mjs
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  ROOT,
  SEED_DIR,
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

const messages = (page) => texts(page, "#room ul li");
const roomList = (page) => texts(page, "#welcome ul li");
const title = async (page) => (await page.textContent("#room h3")).trim();

async function waitMessage(page, text, who) {
  await eventually(async () => (await messages(page)).includes(text), {
    message: `${who} to show ${JSON.stringify(text)} (has ${JSON.stringify(await messages(page).catch(() => []))})`,
  });
}

async function waitTitle(page, expected, who) {
  await eventually(async () => (await title(page)) === expected, {
    message: `${who} title ${JSON.stringify(expected)} (is ${JSON.stringify(await title(page).catch(() => null))})`,
  });
}

async function submit(page, formSelector, value) {
  await page.fill(`${formSelector} input`, value);
  await page.click(`${formSelector} button`);
}

for (const server of chatServers()) {
  const skip = server.skip || (!chromiumAvailable() && "no Chromium installed (apt-get install chromium)");
  describe(`seed front end in Chromium [${server.name}]`, { skip }, () => {
    let srv;
    let browser;

    before(async () => {
      srv = await startChatServer(server.name, { staticDir: SEED_DIR });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await srv?.stop();
    });

    it("serves the seed page from the static directory", async () => {
      const res = await fetch(`${srv.url}/`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /<title>Noom<\/title>/, "the seed's index.html, not the embedded page");
      const js = await fetch(`${srv.url}/app.js`);
      assert.equal(js.status, 200);
      assert.match(await js.text(), /handleRoomSubmit/);
    });

    it("enters a room, welcomes a second person with the count, and messages flow", async () => {
      const room = uniq("seed-room");
      const a = await openPage(browser, srv.url, { viewport: VIEWPORTS.desktop });
      const b = await openPage(browser, srv.url, { viewport: VIEWPORTS.phone, mobile: true });
      const pa = a.page;
      const pb = b.page;
      try {
        assert.equal(await pa.isHidden("#room"), true, "the seed hides #room at start");

        await submit(pa, "#welcome form", room);
        await pa.waitForSelector("#room:not([hidden])");
        await waitTitle(pa, `Room ${room}`, "A");

        // A third person on the welcome screen sees the open room (room_change).
        const c = await openPage(browser, srv.url, { viewport: VIEWPORTS.desktop });
        await eventually(async () => (await roomList(c.page)).includes(room), {
          message: `the room list to show ${room}`,
        });

        await submit(pb, "#welcome form", room);
        await pb.waitForSelector("#room:not([hidden])");
        await waitTitle(pb, `Room ${room}`, "B");
        await waitMessage(pa, "Anon arrived!", "A");
        await waitTitle(pa, `Room ${room} (2)`, "A");

        await submit(pa, "#name", "Alice");
        await submit(pa, "#msg", "hello from the seed page");
        await waitMessage(pa, "You: hello from the seed page", "A");
        await waitMessage(pb, "Alice: hello from the seed page", "B");

        await submit(pb, "#msg", "안녕하세요 👋");
        await waitMessage(pb, "You: 안녕하세요 👋", "B");
        await waitMessage(pa, "Anon: 안녕하세요 👋", "A");

        await pa.screenshot({ path: path.join(ensureOutputDir(), `seed-${server.name}-desktop.png`) });
        await pb.screenshot({ path: path.join(ensureOutputDir(), `seed-${server.name}-phone.png`) });

        await b.context.close();
        await waitMessage(pa, "Anon left ㅠㅠ", "A");
        await waitTitle(pa, `Room ${room} (1)`, "A");
        assert.ok((await roomList(c.page)).includes(room), "the room stays open while A is in it");

        await a.context.close();
        await eventually(async () => !(await roomList(c.page)).includes(room), {
          message: `${room} to leave the room list after everyone left`,
        });
        for (const p of [pa, pb, c.page]) assert.deepEqual(p.pageErrors, [], "no uncaught errors");
        assert.deepEqual(c.page.consoleErrors, []);
        await c.context.close();
      } finally {
        await a.context.close().catch(() => {});
        await b.context.close().catch(() => {});
      }
    });

    it("the seed's app.js also runs on Sori's own page (same DOM structure)", async () => {
      // Sori's index.html + style.css with the seed's app.js in place of ours.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sori-seed-on-page-"));
      for (const f of ["index.html", "style.css"]) fs.copyFileSync(path.join(ROOT, "chat", "static", f), path.join(dir, f));
      fs.copyFileSync(path.join(SEED_DIR, "app.js"), path.join(dir, "app.js"));
      const mixed = await startChatServer(server.name, { staticDir: dir });
      const room = uniq("mixed");
      const a = await openPage(browser, mixed.url, { viewport: VIEWPORTS.desktop });
      const b = await openPage(browser, mixed.url, { viewport: VIEWPORTS.desktop });
      try {
        await submit(a.page, "#welcome form", room);
        await a.page.waitForSelector("#room:not([hidden])");
        await waitTitle(a.page, `Room ${room}`, "A");
        await eventually(async () => (await roomList(b.page)).some((t) => t.includes(room)), {
          message: `B's room list to show ${room}`,
        });
        await submit(b.page, "#welcome form", room);
        await waitMessage(a.page, "Anon arrived!", "A");
        await waitTitle(a.page, `Room ${room} (2)`, "A");
        await submit(b.page, "#name", "Bob");
        await submit(b.page, "#msg", "works on the new page too");
        await waitMessage(b.page, "You: works on the new page too", "B");
        await waitMessage(a.page, "Bob: works on the new page too", "A");
        assert.deepEqual(a.page.pageErrors, []);
        assert.deepEqual(b.page.pageErrors, []);
      } finally {
        await a.context.close().catch(() => {});
        await b.context.close().catch(() => {});
        await mixed.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
