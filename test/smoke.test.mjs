// Temporary smoke test of test/helpers: headless Chromium, a private
// redis-server, process start/stop and the wait helpers.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { EventEmitter } from "node:events";
import { freePort, portOpen } from "./helpers/ports.mjs";
import { startServer, ROOT } from "./helpers/process.mjs";
import { startRedis, ping } from "./helpers/redis.mjs";
import { once, waitFor, collect } from "./helpers/wait.mjs";
import { launchChromium, chromiumAvailable } from "./helpers/browser.mjs";

const OUTPUT = path.join(ROOT, "test", "output");

describe("browser", { skip: !chromiumAvailable() && "no Chromium at /usr/bin/chromium" }, () => {
  let server, browser, url;
  before(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(`<!doctype html><title>smoke</title><h1 id="t">Sori smoke ${req.url}</h1>`);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${server.address().port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    server?.close();
  });

  it("opens a page, reads its text and takes a screenshot", async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/hello`);
    assert.equal(await page.textContent("#t"), "Sori smoke /hello");
    assert.equal(await page.title(), "smoke");
    fs.mkdirSync(OUTPUT, { recursive: true });
    const file = path.join(OUTPUT, "smoke.png");
    await page.screenshot({ path: file });
    assert.ok(fs.statSync(file).size > 1000, "screenshot written");
  });
});

describe("redis", () => {
  let redis;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis?.stop());

  it("answers PING on a private port, and again after restart", async () => {
    assert.notEqual(redis.port, 6379);
    assert.equal(await ping(redis.port), true);
    await redis.restart();
    assert.equal(await ping(redis.port), true);
  });

  it("stop() frees the port", async () => {
    const r = await startRedis();
    await r.stop();
    assert.equal(await portOpen(r.port), false);
  });
});

describe("process and wait helpers", () => {
  const tiny = `require("http").createServer((q, s) => s.end("ok")).listen(+process.argv[1], "127.0.0.1", () => console.log("up"))`;

  it("startServer waits for the port and stop() ends the process", async () => {
    const srv = await startServer(process.execPath, ["-e", tiny, "{port}"]);
    const res = await fetch(srv.url);
    assert.equal(await res.text(), "ok");
    const { signal } = await srv.stop();
    assert.equal(signal, "SIGTERM");
    assert.equal(await portOpen(srv.port), false);
  });

  it("readyPattern and restart()", async () => {
    const srv = await startServer(process.execPath, ["-e", tiny, "{port}"], { readyPattern: /^up$/m });
    await srv.restart();
    assert.equal(await (await fetch(srv.url)).text(), "ok");
    assert.match(srv.output(), /up\s+up/);
  });

  it("reports an early exit with the output", async () => {
    await assert.rejects(startServer(process.execPath, ["-e", `console.error("boom"); process.exit(3)`]), /exited before it was ready \(code 3[\s\S]*boom/);
  });

  it("once, collect and waitFor are bounded", async () => {
    const e = new EventEmitter();
    setTimeout(() => e.emit("x", 1, 2), 5);
    assert.deepEqual(await once(e, "x", 1000), [1, 2]);
    await assert.rejects(once(e, "never", 50), /timed out after 50ms waiting for "never"/);
    setTimeout(() => [1, 2, 3].forEach((i) => e.emit("y", i)), 5);
    assert.deepEqual(await collect(e, "y", 3, 1000), [[1], [2], [3]]);
    await assert.rejects(collect(e, "y", 2, 50), /got 0/);
    let n = 0;
    assert.equal(await waitFor(() => ++n >= 3 && n, 1000), 3);
    await assert.rejects(waitFor(() => false, 50, { message: "never" }), /waiting for never/);
    assert.ok((await freePort()) > 0);
  });
});
