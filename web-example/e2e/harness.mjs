// Starts what the end-to-end tests need and stops it again:
//   - the Go server, built from the repository root, with its in-process Redis
//     and MongoDB (REDIS_URL / MONGODB_URI unset), on a free port;
//   - the web example, built by Vite against that server, served by `vite preview`
//     on another free port (two origins on `localhost`: cross-origin, same-site,
//     so the SameSite=Lax session cookie flows);
//   - Mailpit (SMTP in, HTTP API out) on two more free ports, the server's
//     SMTP_URL: the tests read the mailed links from it;
//   - headless Debian Chromium driven by playwright-core.
// Only what this file started is ever stopped, by process id.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const e2eDir = path.dirname(fileURLToPath(import.meta.url));
export const webDir = path.resolve(e2eDir, "..");
export const repoRoot = path.resolve(webDir, "..");
/** Where the server is built from: the repository root, or E2E_SERVER_SRC (e.g. an exported older commit). */
export const serverSrc = process.env.E2E_SERVER_SRC ? path.resolve(process.env.E2E_SERVER_SRC) : repoRoot;
export const outputDir = path.join(e2eDir, "output");

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Mailpit binary: run.sh installs it there (`go install github.com/axllent/mailpit@v1.33.1`) when missing. */
export const MAILPIT_VERSION = "v1.33.1";
export const MAILPIT =
  process.env.MAILPIT_BIN ||
  path.join(process.env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "sessiongql-e2e", `mailpit-${MAILPIT_VERSION}`, "mailpit");

/**
 * The least zxcvbn score for a new password, given to the server
 * (PASSWORD_MIN_SCORE) and to the app's build (VITE_PASSWORD_MIN_SCORE) alike.
 * Not the default (1), so that the tests see both settings take effect.
 */
export const PASSWORD_MIN_SCORE = 2;

const t0 = Date.now();
const timings = [];

/** Runs fn and records how long it took under `label`. */
export async function timed(label, fn) {
  const start = Date.now();
  try {
    return await fn();
  } finally {
    const ms = Date.now() - start;
    timings.push([label, ms]);
    log(`${label}: ${(ms / 1000).toFixed(1)} s`);
  }
}

/** Adds a line to the timing report. */
export function record(label, ms) {
  timings.push([label, ms]);
}

export function log(msg) {
  process.stdout.write(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}\n`);
}

export function timingReport() {
  const lines = timings.map(([l, ms]) => `  ${l.padEnd(48)} ${(ms / 1000).toFixed(1).padStart(6)} s`);
  lines.push(`  ${"total (this test file)".padEnd(48)} ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`);
  return lines.join("\n");
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; rejects with its output when it fails. */
function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
}

/** An environment without the variables that would point the server at real stores. */
function serverEnv(extra) {
  const env = { ...process.env, ...extra };
  delete env.REDIS_URL;
  delete env.MONGODB_URI;
  return env;
}

async function waitForHttp(url, { timeoutMs, isUp = (r) => r.ok, child, name }) {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before it was ready`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (isUp(r)) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms (${last})`);
}

function tailOf(file, lines = 30) {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(none)";
  }
}

const started = new Set();

function startDetached(cmd, args, opts, logFile) {
  const logStream = createWriteStream(logFile);
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.pipe(logStream);
  child.stderr.pipe(logStream);
  started.add(child);
  child.on("exit", () => started.delete(child));
  return child;
}

/** Stops one child we started: SIGTERM to its process group, SIGKILL after 5 s. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  const signal = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

// Last resort if the test process dies without running its `after` hook.
process.on("exit", () => {
  for (const c of started) {
    try {
      process.kill(-c.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => process.exit(130));
}

/** Starts Mailpit on two free ports (SMTP, HTTP) with its database in dir; returns { smtpPort, mailUrl }. */
async function startMailpit(dir, children) {
  if (!existsSync(MAILPIT)) {
    throw new Error(`${MAILPIT} is missing: run e2e/run.sh (it installs Mailpit ${MAILPIT_VERSION}) or set MAILPIT_BIN`);
  }
  const logFile = path.join(outputDir, "mailpit.log");
  for (let attempt = 1; ; attempt++) {
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const mailpit = startDetached(
      MAILPIT,
      [
        "--smtp", `127.0.0.1:${smtpPort}`,
        "--listen", `127.0.0.1:${httpPort}`,
        "--smtp-auth-accept-any",
        "--smtp-auth-allow-insecure",
        "--smtp-disable-rdns",
        "--disable-version-check",
        "--database", path.join(dir, `mailpit-${attempt}.db`),
      ],
      { cwd: dir, env: process.env },
      logFile,
    );
    children.push(mailpit);
    const mailUrl = `http://127.0.0.1:${httpPort}`;
    try {
      await waitForHttp(`${mailUrl}/readyz`, { timeoutMs: 30_000, child: mailpit, name: "mailpit" });
      return { smtpPort, mailUrl };
    } catch (e) {
      await stopChild(mailpit);
      if (attempt >= 3) throw new Error(`${e.message}\n--- mailpit log tail ---\n${tailOf(logFile)}`);
      log(`mailpit on ports ${smtpPort}/${httpPort} failed (${e.message}); trying others`);
    }
  }
}

/**
 * Builds and starts the server, the web example and Mailpit. Returns
 * { serverUrl, appUrl, graphqlUrl, mailUrl, stop() }.
 */
export async function startStack() {
  mkdirSync(outputDir, { recursive: true });
  const tmp = mkdtempSync(path.join(tmpdir(), "sessiongql-e2e-"));
  const serverBin = path.join(tmp, "server");
  const distDir = path.join(tmp, "dist");
  const viteBin = path.join(webDir, "node_modules", "vite", "bin", "vite.js");
  const serverLog = path.join(outputDir, "server.log");
  const previewLog = path.join(outputDir, "preview.log");
  const children = [];
  const stop = async () => {
    await Promise.all(children.map(stopChild));
    rmSync(tmp, { recursive: true, force: true });
  };
  const viteBuild = (graphqlUrl) =>
    run(process.execPath, [viteBin, "build", "--outDir", distDir, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: webDir,
      env: { ...process.env, VITE_GRAPHQL_URL: graphqlUrl, VITE_PASSWORD_MIN_SCORE: String(PASSWORD_MIN_SCORE) },
    });

  try {
    if (!existsSync(viteBin)) throw new Error(`${viteBin} is missing: run npm ci in web-example first`);
    let serverPort = await freePort();

    // The two builds are independent: run them side by side (and Mailpit's
    // start with them). The app's build bakes in the server's URL
    // (VITE_GRAPHQL_URL), so the server's port is chosen first.
    const [, , mail] = await Promise.all([
      timed("go build (server)", () => run("go", ["build", "-o", serverBin, "."], { cwd: serverSrc, env: process.env })),
      timed("vite build (web example)", () => viteBuild(`http://localhost:${serverPort}/graphql`)),
      timed("mailpit ready", () => startMailpit(tmp, children)),
    ]);

    // A free port can be taken by another process before we bind it (other
    // test suites run on this machine too): on an early exit, try another.
    let appUrl;
    await timed("vite preview ready", async () => {
      for (let attempt = 1; ; attempt++) {
        const appPort = await freePort();
        const preview = startDetached(
          process.execPath,
          [viteBin, "preview", "--port", String(appPort), "--strictPort", "--outDir", distDir],
          { cwd: webDir, env: process.env },
          previewLog,
        );
        children.push(preview);
        try {
          await waitForHttp(`http://localhost:${appPort}/`, { timeoutMs: 30_000, child: preview, name: "vite preview" });
          appUrl = `http://localhost:${appPort}`;
          return;
        } catch (e) {
          await stopChild(preview);
          if (attempt >= 3) throw new Error(`${e.message}\n--- vite preview log tail ---\n${tailOf(previewLog)}`);
          log(`vite preview on port ${appPort} failed (${e.message}); trying another port`);
        }
      }
    });

    await timed("server ready (/readyz)", async () => {
      for (let attempt = 1; ; attempt++) {
        if (attempt > 1) {
          serverPort = await freePort();
          await timed("vite build again (new server port)", () => viteBuild(`http://localhost:${serverPort}/graphql`));
        }
        const server = startDetached(
          serverBin,
          [],
          {
            cwd: tmp,
            env: serverEnv({
              PORT: String(serverPort),
              CORS_ORIGINS: appUrl,
              DATA_DIR: path.join(tmp, "data"),
              BCRYPT_COST: "4",
              SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
              MAIL_FROM: "no-reply@example.com",
              APP_URL: appUrl,
              PASSWORD_MIN_SCORE: String(PASSWORD_MIN_SCORE),
              // The scenarios sign up more accounts from this one address than the default 10 an hour.
              REGISTER_LIMIT_PER_IP: "1000",
              // ...and fail more sign-ins and codes from it (on purpose) than the default 20 per 15 minutes;
              // the per-email limit (5) stays, scenario b2 needs it.
              LOGIN_LIMIT_PER_IP: "1000",
              // Passkeys: the relying party is the app's host and the ceremonies come from the app's origin
              // (WEBAUTHN_ORIGINS defaults to CORS_ORIGINS, the same here; named so as not to rely on that).
              WEBAUTHN_RP_ID: "localhost",
              WEBAUTHN_ORIGINS: appUrl,
            }),
          },
          serverLog,
        );
        children.push(server);
        try {
          await waitForHttp(`http://localhost:${serverPort}/readyz`, { timeoutMs: 90_000, child: server, name: "server" });
          return;
        } catch (e) {
          await stopChild(server);
          if (attempt >= 3 || server.exitCode === null) {
            throw new Error(`${e.message}\n--- server log tail ---\n${tailOf(serverLog)}`);
          }
          log(`server on port ${serverPort} exited early (${e.message}); trying another port`);
        }
      }
    });

    const serverUrl = `http://localhost:${serverPort}`;
    log(`server ${serverUrl}, app ${appUrl}, mailpit ${mail.mailUrl}`);
    return { serverUrl, appUrl, graphqlUrl: `${serverUrl}/graphql`, mailUrl: mail.mailUrl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A GraphQL call from Node (no browser), with a tiny cookie jar. */
export function apiClient(graphqlUrl) {
  let cookie = "";
  return async function gql(query, variables = {}) {
    const r = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(cookie ? { Cookie: cookie } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const set = r.headers.getSetCookie?.() ?? [];
    for (const c of set) cookie = c.split(";")[0];
    return r.json();
  };
}

let seq = 0;
/** A fresh account's details; the email is unique per run. */
export function newUser(name) {
  seq += 1;
  const tag = `${Date.now().toString(36)}${seq}`;
  return { name, email: `${name.toLowerCase().replace(/[^a-z]+/g, ".")}.${tag}@example.com`, password: `pw-${tag}-correct horse` };
}

/** Registers through the API (not the browser): for scenarios whose subject is something else. */
export async function registerViaApi(graphqlUrl, user) {
  const gql = apiClient(graphqlUrl);
  const res = await gql(
    `mutation ($input: RegisterInput!) { register(input: $input) { id email name } }`,
    { input: { email: user.email, password: user.password, name: user.name } },
  );
  if (res.errors) throw new Error(`register ${user.email}: ${JSON.stringify(res.errors)}`);
  return res.data.register;
}

/** Polls until fn() returns a truthy value; throws with the last value seen. */
export async function until(what, fn, { timeoutMs = 10_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits for a mail to `to` (Mailpit's /api/v1/messages, newest first) whose
 * text holds a link to appUrl + linkPath (e.g. "/verify-email"), skipping the
 * message ids in `seen`. Returns { id, subject, text, link }.
 */
export async function waitForMailLink(mailUrl, { to, appUrl, linkPath, seen = new Set(), timeoutMs = 15_000 }) {
  const linkRe = new RegExp(`${appUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}${linkPath}\\?token=[^\\s"'<>]+`);
  const opened = new Map();
  return until(
    `a mail to ${to} with a link to ${linkPath}`,
    async () => {
      const r = await fetch(`${mailUrl}/api/v1/messages?limit=200`, { signal: AbortSignal.timeout(5000) });
      if (!r.ok) throw new Error(`mailpit /api/v1/messages: HTTP ${r.status}`);
      const { messages } = await r.json();
      const mine = messages.filter((m) => !seen.has(m.ID) && m.To?.some((a) => a.Address.toLowerCase() === to.toLowerCase()));
      for (const m of mine) {
        if (!opened.has(m.ID)) {
          const full = await (await fetch(`${mailUrl}/api/v1/message/${m.ID}`, { signal: AbortSignal.timeout(5000) })).json();
          opened.set(m.ID, full);
        }
        const full = opened.get(m.ID);
        const link = linkRe.exec(full.Text ?? "")?.[0]?.replace(/[.,;:)\]]+$/, ""); // not a sentence's full stop
        if (link) return { id: m.ID, subject: full.Subject, text: full.Text, link };
      }
      return false;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(outputDir, `${name}.png`), fullPage: true });
}
