// Headless Debian Chromium through playwright-core.
//
//   const browser = await launchChromium();
//   const page = await browser.newPage();
//   ...
//   await browser.close();
//
// launchChromium() returns a playwright Browser. playwright gives every
// launch() a fresh temporary profile (--user-data-dir) and deletes it on
// close(); it refuses an explicit --user-data-dir in args. For a profile you
// control, use launchChromiumContext(), which returns a BrowserContext.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = Object.freeze([
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
]);

/** True when the Chromium binary exists. */
export function chromiumAvailable() {
  return fs.existsSync(CHROMIUM_PATH);
}

function check() {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or run make setup; CHROMIUM_PATH overrides)`);
  }
}

/** Launches headless Chromium; resolves with a playwright Browser. */
export async function launchChromium(options = {}) {
  check();
  return chromium.launch({
    timeout: 30000,
    ...options,
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  });
}

/**
 * Launches headless Chromium with a persistent context in a fresh temp
 * user-data-dir (removed on close()); resolves with a playwright BrowserContext.
 */
export async function launchChromiumContext(options = {}) {
  check();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sori-chromium-"));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      timeout: 30000,
      ...options,
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    throw err;
  }
  const removeDir = () => {
    try {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    } catch {
      /* best effort */
    }
  };
  process.once("exit", removeDir);
  const close = context.close.bind(context);
  context.close = async (...args) => {
    try {
      await close(...args);
    } finally {
      removeDir();
    }
  };
  return context;
}
