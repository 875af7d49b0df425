// The shared harness of the browser tests: Debian's `chromium`, driven by playwright-core
// (which never downloads a browser of its own), against the real `recourse` binary serving
// a fresh demo desk on a free loopback port. A test file calls `useDesk()` once; tickets
// for the tests are created through the REST API with the demo's admin token.
//
//   cd tests/browser && npm ci && node --test --test-concurrency=1 *.test.mjs
//
// RECOURSE_BIN overrides the binary (default: `cargo build -p recourse`, then the one in
// cargo's target directory); CHROMIUM overrides the browser (default /usr/bin/chromium).
// Each test saves a screenshot in tests/browser/screenshots/.

import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import net from "node:net";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const shots = join(here, "screenshots");
export const PASSWORD = "recourse-demo-2026"; // the demo desk's published password
export const AGENT = "eli@demo.recourse.test";

let server;
let dataDir;
export let base;
export let token;
export let browser;
let serverLog = "";

function binary() {
  if (process.env.RECOURSE_BIN) return process.env.RECOURSE_BIN;
  execFileSync("cargo", ["build", "-q", "-p", "recourse", "--locked"], {
    cwd: root,
    stdio: "inherit",
  });
  const meta = JSON.parse(
    execFileSync("cargo", ["metadata", "--format-version", "1", "--no-deps"], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    }).toString(),
  );
  return join(meta.target_directory, "debug", "recourse");
}

export function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// Starts `recourse demo` and resolves with the admin API token it prints once seeded.
async function startServer(bin, extraArgs) {
  const port = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), "recourse-browser-"));
  base = `http://127.0.0.1:${port}`;
  server = spawn(bin, ["demo", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, ...extraArgs], {
    env: { ...process.env, RECOURSE_LOG: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const found = new Promise((ok, fail) => {
    server.stdout.on("data", (d) => {
      serverLog += d;
      const m = serverLog.match(/API token for \S+ \(shown once\): (\S+)/);
      if (m) ok(m[1]);
    });
    server.stderr.on("data", (d) => (serverLog += d));
    server.on("exit", (code) => fail(new Error(`recourse exited (${code}):\n${serverLog}`)));
  });
  token = await found;
  // The token is printed once the desk is seeded; wait for the listener too.
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // A dialog would mean injected script ran somewhere.
  page.on("dialog", (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  return page;
}

export async function signIn(page, email = AGENT) {
  await page.goto(`${base}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await Promise.all([page.waitForURL(`${base}/console`), page.getByRole("button", { name: "Sign in" }).click()]);
}

export async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
}

// Registers the suite's setup and teardown: one desk and one browser per test file.
// `extraArgs` go to `recourse demo` (for example `--smtp-relay` to a test's mail sink).
export function useDesk(extraArgs = []) {
  before(async () => {
    mkdirSync(shots, { recursive: true });
    await startServer(binary(), extraArgs);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });

  after(async () => {
    await browser?.close();
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((r) => server.once("exit", r));
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
}
