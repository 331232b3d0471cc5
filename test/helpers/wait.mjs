// Bounded waiting helpers: nothing here can hang a test forever.
import { EventEmitter } from "node:events";

const DEFAULT_TIMEOUT = 5000;

function describe(emitter) {
  return emitter?.constructor?.name ?? typeof emitter;
}

function listen(emitter, event, fn) {
  if (typeof emitter.on === "function") {
    emitter.on(event, fn);
    return () => (emitter.off ?? emitter.removeListener).call(emitter, event, fn);
  }
  if (typeof emitter.addEventListener === "function") {
    const h = (ev) => fn(ev);
    emitter.addEventListener(event, h);
    return () => emitter.removeEventListener(event, h);
  }
  throw new TypeError(`cannot listen on ${describe(emitter)}: no on() or addEventListener()`);
}

/**
 * Waits for one `event`. Resolves with the array of the listener's arguments
 * (like node:events once): `const [msg] = await once(socket, "chat")`.
 * Works with Node EventEmitters, socket.io-client sockets and EventTargets.
 * A Node EventEmitter's "error" event rejects (unless that is the awaited event).
 */
export function once(emitter, event, timeoutMs = DEFAULT_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const offs = [];
    const cleanup = () => {
      clearTimeout(timer);
      offs.forEach((off) => off());
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs}ms waiting for "${event}" on ${describe(emitter)}`));
    }, timeoutMs);
    offs.push(
      listen(emitter, event, (...args) => {
        cleanup();
        resolve(args);
      }),
    );
    if (event !== "error" && emitter instanceof EventEmitter) {
      offs.push(
        listen(emitter, "error", (err) => {
          cleanup();
          reject(new Error(`"error" while waiting for "${event}" on ${describe(emitter)}: ${err?.message ?? err}`, { cause: err }));
        }),
      );
    }
  });
}

/**
 * Polls `predicate` (sync or async) every `intervalMs` until it returns a
 * truthy value, which is resolved. Rejects after `timeoutMs` with `message`
 * and the last error the predicate threw, if any.
 */
export async function waitFor(predicate, timeoutMs = DEFAULT_TIMEOUT, { intervalMs = 20, message } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v;
      lastErr = undefined;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      const what = message ?? `condition ${predicate.toString().slice(0, 120)}`;
      const why = lastErr ? ` (last error: ${lastErr?.message ?? lastErr})` : "";
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${why}`, { cause: lastErr });
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(1, deadline - Date.now()))));
  }
}

/**
 * Collects the next `n` emissions of `event`. Resolves with an array of n
 * entries, each the array of that emission's arguments (as in once()).
 * On timeout, rejects saying how many arrived and what they were.
 */
export function collect(emitter, event, n, timeoutMs = DEFAULT_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => {
      off();
      let seen;
      try {
        seen = JSON.stringify(got);
      } catch {
        seen = String(got);
      }
      if (seen.length > 500) seen = seen.slice(0, 500) + "…";
      reject(new Error(`timed out after ${timeoutMs}ms collecting ${n} "${event}" events on ${describe(emitter)}: got ${got.length}: ${seen}`));
    }, timeoutMs);
    const off = listen(emitter, event, (...args) => {
      got.push(args);
      if (got.length === n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
    if (n <= 0) {
      clearTimeout(timer);
      off();
      resolve(got);
    }
  });
}

/** Sleeps for ms milliseconds. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
