// Starting and stopping server processes from node:test files.
//
//   import { startServer } from "./helpers/process.mjs";
//   const srv = await startServer("bin/sori-conformance", ["-addr", "127.0.0.1:{port}"]);
//   ... srv.url, srv.port ...
//   await srv.stop();
//
// Every process started here is stopped when the test file ends (a root-level
// node:test after() hook, plus a synchronous SIGKILL on process exit), so a
// failing test cannot leave servers behind. Relative commands containing a
// "/" resolve against the repository root, not the current directory.
import { spawn } from "node:child_process";
import { after } from "node:test";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, portOpen } from "./ports.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const OUTPUT_LIMIT = 256 * 1024; // bytes of output kept per process
const live = new Set();

async function stopAll() {
  await Promise.allSettled([...live].map((s) => s.stop()));
}

// Runs when this test file's tests are done, whatever their outcome.
after(stopAll);
process.on("exit", () => {
  for (const s of live) {
    try {
      s.proc.kill("SIGKILL");
    } catch {
      /* already gone */
    }
  }
});

function substitute(args, vars) {
  return args.map((a) => String(a).replace(/\{(port|host|addr)\}/g, (_, k) => String(vars[k])));
}

function resolveCommand(cmd) {
  if (path.isAbsolute(cmd) || !cmd.includes("/")) return cmd;
  return path.join(ROOT, cmd);
}

/**
 * Spawns `cmd args...` and waits until it is ready.
 *
 * Options:
 *   port          port to use (default: a free one). "{port}", "{host}" and
 *                 "{addr}" (host:port) in args are replaced; env PORT is set too.
 *                 args may also be a function (port, host) => [...].
 *   host          default "127.0.0.1"
 *   env           extra environment variables (merged over process.env)
 *   cwd           default: repository root
 *   readyPattern  RegExp (or string) that must appear in stdout/stderr
 *   waitForPort   wait until host:port accepts TCP connections (default: true
 *                 without readyPattern, false with it; both may be required)
 *   timeoutMs     readiness deadline (default 15000)
 *   stopTimeoutMs SIGTERM grace period before SIGKILL in stop() (default 5000)
 *   echo          also copy the output to stderr live (default: env SORI_TEST_ECHO=1)
 *   name          label used in messages (default: basename of cmd)
 *
 * Resolves with { port, host, url, proc, name, output(), stop(), restart(), exited }.
 * If the process exits or is not ready in time, rejects with its output.
 * An unexpected exit later prints the output to stderr.
 */
export async function startServer(cmd, args = [], opts = {}) {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? (await freePort(host));
  const timeoutMs = opts.timeoutMs ?? 15000;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5000;
  const readyPattern = opts.readyPattern
    ? new RegExp(opts.readyPattern.source ?? opts.readyPattern, (opts.readyPattern.flags ?? "").replace("g", ""))
    : null;
  const waitForPort = opts.waitForPort ?? !readyPattern;
  const echo = opts.echo ?? process.env.SORI_TEST_ECHO === "1";
  const name = opts.name ?? path.basename(cmd);
  const resolved = resolveCommand(cmd);
  const vars = { port, host, addr: `${host}:${port}` };
  const argv = typeof args === "function" ? args(port, host) : substitute(args, vars);

  if (resolved.includes("/") && !fs.existsSync(resolved)) {
    throw new Error(`startServer: ${resolved} does not exist (run "make build" first?)`);
  }

  const srv = {
    name,
    host,
    port,
    url: `http://${host}:${port}`,
    proc: null,
    exited: null,
    output: () => "",
    stop: null,
    restart: null,
  };

  let buf = ""; // all output, across restarts (bounded)
  let current = ""; // output of the current launch, for readyPattern (bounded)
  const append = (chunk) => {
    const s = chunk.toString();
    if (echo) process.stderr.write(`[${name}] ${s}`);
    buf += s;
    if (buf.length > OUTPUT_LIMIT) buf = buf.slice(buf.length - OUTPUT_LIMIT);
    current += s;
    if (current.length > OUTPUT_LIMIT) current = current.slice(current.length - OUTPUT_LIMIT);
  };
  srv.output = () => buf;
  const tail = (n = 4000) => (buf.length > n ? "…" + buf.slice(buf.length - n) : buf) || "(no output)";

  let stopping = false;

  function launch() {
    stopping = false;
    current = "";
    const proc = spawn(resolved, argv, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, PORT: String(port), ...(opts.env ?? {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    srv.proc = proc;
    const ready = { settled: false };
    proc.stdout.on("data", append);
    proc.stderr.on("data", append);
    srv.exited = new Promise((resolve) => {
      proc.once("exit", (code, signal) => {
        live.delete(srv);
        if (!stopping && ready.settled) {
          process.stderr.write(
            `\n[${name}] exited unexpectedly (code ${code}, signal ${signal}); output:\n${tail()}\n`,
          );
        }
        resolve({ code, signal });
      });
      proc.once("error", (err) => {
        live.delete(srv);
        append(`spawn error: ${err.message}\n`);
        resolve({ code: null, signal: null, error: err });
      });
    });
    live.add(srv);
    return waitReady(proc, ready);
  }

  async function waitReady(proc, ready) {
    const deadline = Date.now() + timeoutMs;
    let exitInfo = null;
    srv.exited.then((info) => (exitInfo = info));
    try {
      for (;;) {
        if (exitInfo) {
          throw new Error(
            `${name} exited before it was ready (code ${exitInfo.code}, signal ${exitInfo.signal}` +
              `${exitInfo.error ? `, ${exitInfo.error.message}` : ""})\ncommand: ${resolved} ${argv.join(" ")}\noutput:\n${tail()}`,
          );
        }
        const patternOk = !readyPattern || readyPattern.test(current);
        const portOk = !waitForPort || (patternOk && (await portOpen(port, host, 250)));
        if (patternOk && portOk) break;
        if (Date.now() >= deadline) {
          throw new Error(
            `${name} not ready within ${timeoutMs}ms (` +
              [readyPattern && `pattern ${readyPattern} ${patternOk ? "seen" : "not seen"}`, waitForPort && `${host}:${port} not accepting connections`]
                .filter(Boolean)
                .join(", ") +
              `)\ncommand: ${resolved} ${argv.join(" ")}\noutput:\n${tail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (err) {
      ready.settled = true;
      await srv.stop();
      throw err;
    }
    ready.settled = true;
    return srv;
  }

  /** SIGTERM, then SIGKILL after stopTimeoutMs. Resolves {code, signal}. */
  srv.stop = async () => {
    const proc = srv.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      live.delete(srv);
      return srv.exited;
    }
    stopping = true;
    proc.kill("SIGTERM");
    let timer;
    const killed = new Promise((resolve) => {
      timer = setTimeout(() => {
        append(`[helpers] ${name} ignored SIGTERM for ${stopTimeoutMs}ms; sending SIGKILL\n`);
        proc.kill("SIGKILL");
        resolve();
      }, stopTimeoutMs);
    });
    await Promise.race([srv.exited, killed]);
    clearTimeout(timer);
    return srv.exited;
  };

  /** Stops the process and starts it again with the same command and port. */
  srv.restart = async () => {
    await srv.stop();
    return launch();
  };

  return launch();
}
