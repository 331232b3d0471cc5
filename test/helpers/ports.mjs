// Free TCP ports on the loopback interface.
import net from "node:net";

const handedOut = new Set();

function probe(host) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Returns a TCP port that was free on `host` a moment ago. The OS could hand
 * it to someone else before the caller binds it; ports already returned by
 * this process are never returned twice.
 */
export async function freePort(host = "127.0.0.1") {
  for (let i = 0; i < 50; i++) {
    const port = await probe(host);
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no new free port on ${host} after 50 attempts`);
}

/** Resolves true when something accepts TCP connections on host:port. */
export function portOpen(port, host = "127.0.0.1", timeoutMs = 500) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}
