// A private redis-server per test file: free port, loopback only, no
// persistence, its own temp dir. Never touches a Redis on 6379.
//
//   const redis = await startRedis();
//   ... redis.url ("redis://127.0.0.1:PORT"), redis.port ...
//   await redis.restart();   // same port, empty data
//   await redis.stop();
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startServer } from "./process.mjs";

export const REDIS_SERVER = process.env.REDIS_SERVER ?? "redis-server";

/** Sends PING over RESP; resolves true on +PONG. */
export function ping(port, host = "127.0.0.1", timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    let data = "";
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("error", () => done(false));
    sock.once("connect", () => sock.write("*1\r\n$4\r\nPING\r\n"));
    sock.on("data", (d) => {
      data += d.toString();
      if (data.includes("\r\n")) done(data.startsWith("+PONG"));
    });
  });
}

async function waitPing(port, host, timeoutMs, srv) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ping(port, host))) {
    if (Date.now() >= deadline) {
      throw new Error(`redis-server on ${host}:${port} did not answer PING within ${timeoutMs}ms; output:\n${srv.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts redis-server on a free loopback port. Options: port, timeoutMs
 * (default 10000), args (extra redis-server arguments).
 * Resolves with { port, host, url, proc, output(), stop(), restart() }.
 */
export async function startRedis({ port, timeoutMs = 10000, args = [] } = {}) {
  const host = "127.0.0.1";
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sori-redis-"));
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir); // also covers a redis left running at the end of the file
  let srv;
  try {
    srv = await startServer(
      REDIS_SERVER,
      ["--port", "{port}", "--bind", host, "--save", "", "--appendonly", "no", "--dir", dir, "--logfile", "", ...args],
      { port, host, cwd: dir, timeoutMs, name: "redis-server" },
    );
  } catch (err) {
    removeDir();
    if (/ENOENT/.test(err.message)) {
      err.message = `redis-server not found (apt-get install redis-server, or run make setup)\n${err.message}`;
    }
    throw err;
  }
  await waitPing(srv.port, host, timeoutMs, srv);

  const stopServer = srv.stop;
  const restartServer = srv.restart;
  return {
    port: srv.port,
    host,
    url: `redis://${host}:${srv.port}`,
    get proc() {
      return srv.proc;
    },
    output: srv.output,
    async stop() {
      const r = await stopServer();
      removeDir();
      return r;
    },
    async restart() {
      await restartServer();
      await waitPing(srv.port, host, timeoutMs, srv);
    },
  };
}
