// End-to-end tests of the web example against the real Go server, in headless
// Chromium. Run: `node --test e2e/` from web-example/ (after `npm ci`), or e2e/run.sh.
import { after, afterEach, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Secret, TOTP, URI } from "otpauth";
import {
  PASSWORD_MIN_SCORE,
  apiClient,
  launchBrowser,
  log,
  newUser,
  record,
  registerViaApi,
  repoRoot,
  shot,
  startStack,
  timed,
  timingReport,
  until,
  waitForMailLink,
} from "./harness.mjs";

let stack;
let browser;

before(
  async () => {
    stack = await timed("start stack (builds + servers)", () => startStack());
    browser = await timed("launch chromium", () => launchBrowser());
  },
  { timeout: 600_000 },
);

after(
  async () => {
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    log(`timings:\n${timingReport()}`);
  },
  { timeout: 60_000 },
);

let testStart = 0;
beforeEach(() => {
  testStart = Date.now();
});
afterEach((t) => {
  if (testStart) record(`scenario ${t.name.split(" ")[0]}`, Date.now() - testStart);
  testStart = 0;
});

/** A fresh browser context (its own cookie jar) with console errors collected. */
async function newPage({ viewport = { width: 1100, height: 760 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.pageErrors = [];
  page.on("pageerror", (e) => page.pageErrors.push(e.message));
  return { context, page };
}

const app = (p = "/") => stack.appUrl + p;

async function signUpUI(page, user) {
  await page.goto(app("/signup"));
  await page.locator('input[name="name"]').fill(user.name);
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('[data-testid="signup-form"] button[type="submit"]').click();
  await page.locator('[data-testid="user-name"]').waitFor();
}

async function signInUI(page, user, path = "/signin") {
  await page.goto(app(path));
  await page.locator('[data-testid="signin-form"]').waitFor();
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="password"]').fill(user.password);
  await page.locator('[data-testid="signin-form"] button[type="submit"]').click();
  await page.locator('[data-testid="user-name"]').waitFor();
}

/** Types the password on sign-in for an account with two-step sign-in on: the second-step screen follows. */
async function signInToSecondStep(page, user, password = user.password) {
  await page.goto(app("/signin"));
  await page.locator('[data-testid="signin-form"]').waitFor();
  await page.locator('input[name="email"]').fill(user.email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('[data-testid="signin-form"] button[type="submit"]').click();
  await failOnFormError(page, page.waitForURL((u) => u.pathname === "/signin/verify"));
  await page.locator('[data-testid="second-factor-form"]').waitFor();
}

async function signOutUI(page) {
  await page.locator('[data-testid="sign-out"]').click();
  await page.waitForURL((u) => u.pathname === "/signin");
  await page.locator('[data-testid="signin-form"]').waitFor();
}

const TOTP_PERIOD_MS = 30_000;
const stepNow = () => Math.floor(Date.now() / TOTP_PERIOD_MS);

/** The code an authenticator app shows for secret (base32) during a 30-second step: RFC 6238, SHA-1, 6 digits. */
function totpAt(secret, step) {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({ timestamp: step * TOTP_PERIOD_MS });
}

/**
 * A TOTP user's authenticator. The server takes each step's code once and
 * only for a step later than the last one it took, from one step before now
 * to one after: next() is the code of the step after the last one used, or
 * of now if that is later, so no test waits for the clock.
 */
function authenticator(secret, lastStep) {
  return {
    secret,
    get lastStep() {
      return lastStep;
    },
    next() {
      lastStep = Math.max(lastStep + 1, stepNow());
      return totpAt(secret, lastStep);
    },
  };
}

/** Registers through the API and turns TOTP on there; returns { gql, app: authenticator, recoveryCodes }. */
async function registerWithTotpViaApi(user) {
  const gql = apiClient(stack.graphqlUrl);
  const reg = await gql(`mutation ($input: RegisterInput!) { register(input: $input) { id } }`, {
    input: { email: user.email, password: user.password, name: user.name },
  });
  assert.ok(reg.data?.register?.id, JSON.stringify(reg));
  const begun = await gql(`mutation ($p: String!) { beginTotpSetup(currentPassword: $p) { secret uri qrCode } }`, { p: user.password });
  const secret = begun.data?.beginTotpSetup?.secret;
  assert.ok(secret, JSON.stringify(begun));
  const step = stepNow();
  const confirmed = await gql(`mutation ($c: String!) { confirmTotpSetup(code: $c) }`, { c: totpAt(secret, step) });
  const recoveryCodes = confirmed.data?.confirmTotpSetup;
  assert.equal(recoveryCodes?.length, 10, JSON.stringify(confirmed));
  return { gql, app: authenticator(secret, step), recoveryCodes };
}

/**
 * A platform authenticator with user verification and discoverable
 * credentials (a laptop's fingerprint reader) in this page's tab, through the
 * DevTools protocol. With presence simulated it answers each request at once,
 * standing in for the user's touch, a conditional (autofill) request too, as
 * if the user picked the passkey from the list; presence(false) leaves such a
 * request waiting, as a browser does until the user picks.
 */
async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return {
    presence: (enabled) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled }),
    /** [{ credentialId, isResidentCredential, rpId, userHandle, signCount }], ids base64 (not base64url). */
    credentials: async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials,
  };
}

const RECOVERY_CODE = /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/i; // 16 base32 characters

/** The security log on /security as [{ id, kind, at, device, ip }], after "Load more" until it is all there (at most `pages` pages). */
async function readSecurityLog(page, pages = 10) {
  const rows = page.locator('[data-testid="security-event"]');
  await rows.first().waitFor();
  const more = page.locator('[data-testid="security-log-more"]');
  for (let i = 1; i < pages && (await more.count()) > 0; i++) {
    const before = await rows.count();
    await more.click();
    await until(`page ${i + 1} of the security log`, async () => (await rows.count()) > before || (await more.count()) === 0);
  }
  return rows.evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute("data-event-id"),
      kind: tr.getAttribute("data-kind"),
      words: tr.querySelector('[data-testid="event-kind"]').textContent,
      at: tr.querySelector("time").getAttribute("datetime"),
      device: tr.children[2].textContent,
      ip: tr.children[3].textContent,
    })),
  );
}

async function headerName(page) {
  return (await page.locator('[data-testid="user-name"]').textContent())?.trim();
}

const pathOf = (page) => new URL(page.url()).pathname;

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The mailed link to linkPath ("/verify-email", "/reset-password") for user, skipping the mails in seen. */
const mailLink = (user, linkPath, seen) => waitForMailLink(stack.mailUrl, { to: user.email, appUrl: stack.appUrl, linkPath, seen });

/** Waits until the strength hint has judged the password in the field; returns its data attributes. */
async function strengthHint(page) {
  const hint = page.locator('[data-testid="password-strength"][data-score]');
  await hint.waitFor();
  return {
    score: Number(await hint.getAttribute("data-score")),
    acceptable: (await hint.getAttribute("data-acceptable")) === "true",
    minScore: Number(await hint.getAttribute("data-min-score")),
    verdict: await page.locator('[data-testid="strength-verdict"]').innerText(),
  };
}

async function waitLive(page, who) {
  await until(
    `${who}'s sessionEnded subscription to connect`,
    async () => (await page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
  );
  await page.waitForTimeout(300); // the subscribe message follows connection_ack
}

/** Waits for `waiting`, but fails at once with the server's words if the page shows a form error meanwhile. */
async function failOnFormError(page, waiting) {
  let settled = false;
  const formError = page.locator('[data-testid="form-error"]').first();
  const shown = new Promise((_, reject) => {
    formError.waitFor({ timeout: 30_000 }).then(
      async () => {
        if (settled) return;
        const text = `[${await formError.getAttribute("data-code").catch(() => "?")}] ${await formError.innerText().catch(() => "?")}`;
        reject(new Error(`the page shows an error: ${text}`));
      },
      () => undefined,
    );
  });
  waiting.catch(() => undefined); // a loser's later rejection must not surface as unhandled
  try {
    return await Promise.race([waiting, shown]);
  } finally {
    settled = true;
  }
}

test("a. sign up, reload keeps the session, sign out, protected page redirects to sign-in", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Ada Lovelace");
    await page.goto(app("/signup"));
    await shot(page, "01-sign-up");
    await signUpUI(page, user);
    assert.equal(await headerName(page), user.name);
    assert.equal(pathOf(page), "/");
    // The signed-in header is in the DOM.
    assert.equal(await page.locator('header [data-testid="signed-in-as"]').count(), 1);
    assert.match(await page.locator('[data-testid="signed-in-as"]').innerText(), new RegExp(`Signed in as\\s+${user.name}`));
    const cookies = await context.cookies(stack.serverUrl);
    const sid = cookies.find((c) => c.name === "sid");
    assert.ok(sid, "the server set the sid cookie");
    assert.equal(sid.httpOnly, true);
    assert.equal(sid.sameSite, "Lax");
    await shot(page, "02-signed-in-home");

    await page.reload();
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name, "still signed in after a reload");

    await page.locator('[data-testid="sign-out"]').click();
    await page.waitForURL((u) => u.pathname === "/signin");
    await page.locator('[data-testid="flash"]').waitFor();
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0, "no signed-in header after sign-out");
    await shot(page, "03-signed-out");

    await page.goto(app("/devices"));
    await page.waitForURL((u) => u.pathname === "/signin");
    assert.equal(new URL(page.url()).searchParams.get("next"), "/devices");
    await page.locator('[data-testid="signin-form"]').waitFor();
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("b. a wrong password shows INVALID_CREDENTIALS by the form; a short one shows BAD_USER_INPUT under the password", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Barbara Liskov");
    await registerViaApi(stack.graphqlUrl, user);

    await page.goto(app("/signin"));
    await page.locator('input[name="email"]').fill(user.email);
    await page.locator('input[name="password"]').fill("not the password");
    await page.locator('[data-testid="signin-form"] button[type="submit"]').click();
    const formError = page.locator('[data-testid="signin-form"] [data-testid="form-error"]');
    await formError.waitFor();
    assert.equal(await formError.getAttribute("data-code"), "INVALID_CREDENTIALS");
    assert.match(await formError.innerText(), /incorrect/i);
    assert.equal(await page.locator('[data-testid="error-password"]').count(), 0, "not a field error");
    assert.equal(pathOf(page), "/signin");
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0);
    await shot(page, "04-sign-in-wrong-password");

    // BAD_USER_INPUT with extensions.field=password: the message sits in the password field's own box.
    await page.goto(app("/signup"));
    await page.locator('input[name="name"]').fill("Someone");
    await page.locator('input[name="email"]').fill(newUser("x").email);
    await page.locator('input[name="password"]').fill("short");
    await page.locator('[data-testid="signup-form"] button[type="submit"]').click();
    const fieldError = page.locator('[data-field="password"] [data-testid="error-password"]');
    await fieldError.waitFor();
    assert.match(await fieldError.innerText(), /8/);
    assert.equal(await page.locator('[data-field="password"] input').getAttribute("aria-invalid"), "true");
    assert.equal(await page.locator('[data-testid="signup-form"] [data-testid="form-error"]').count(), 0);
    await shot(page, "05-sign-up-field-error");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("b2. after five failed sign-ins the form shows RATE_LIMITED with retryAfter and holds the button", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Rate Limited");
    await registerViaApi(stack.graphqlUrl, user);
    await page.goto(app("/signin"));
    await page.locator('input[name="email"]').fill(user.email);
    const submit = page.locator('[data-testid="signin-form"] button[type="submit"]');
    const formError = page.locator('[data-testid="signin-form"] [data-testid="form-error"]');
    for (let i = 1; i <= 5; i++) {
      await page.locator('input[name="password"]').fill(`wrong password ${i}`);
      await submit.click();
      await until(`failure ${i} shown`, async () => (await formError.count()) === 1 && (await submit.isEnabled()));
      assert.equal(await formError.getAttribute("data-code"), "INVALID_CREDENTIALS", `attempt ${i}`);
    }
    await page.locator('input[name="password"]').fill(user.password);
    await submit.click();
    await page.locator('[data-testid="form-error"][data-code="RATE_LIMITED"]').waitFor();
    assert.match(await formError.innerText(), /Try again in \d+ min/);
    assert.equal(await submit.isDisabled(), true, "the button waits out retryAfter");
    assert.match(await submit.innerText(), /wait \d+ (min|s)/);
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0);
    await shot(page, "05b-sign-in-rate-limited");
  } finally {
    await context.close();
  }
});

test("c. revoking a session on 'your devices' drops the other browser to sign-in at once (subscription)", { timeout: 60_000 }, async () => {
  const one = await newPage();
  const two = await newPage();
  try {
    const user = newUser("Claude Shannon");
    await signUpUI(one.page, user);
    await signInUI(two.page, user);
    await two.page.goto(app("/devices"));
    await two.page.locator('[data-testid="session"]').first().waitFor();

    // Browser 2 listens for the end of its session over graphql-ws.
    await until(
      "browser 2's sessionEnded subscription to connect",
      async () => (await two.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
      { timeoutMs: 10_000 },
    );
    await two.page.waitForTimeout(300); // the subscribe message follows connection_ack

    await one.page.goto(app("/devices"));
    const rows = one.page.locator('[data-testid="session"]');
    await until("two sessions listed", async () => (await rows.count()) === 2);
    assert.equal(await one.page.locator('[data-testid="session"][data-current="true"]').count(), 1);
    assert.equal(await one.page.locator('[data-testid="session"][data-current="false"]').count(), 1);
    await shot(one.page, "06-devices");

    const revokedAt = Date.now();
    await one.page.locator('[data-testid="session"][data-current="false"] [data-testid="revoke"]').click();

    await two.page.waitForURL((u) => u.pathname === "/signin", { timeout: 5_000 });
    const flash = two.page.locator('[data-testid="flash"]');
    await flash.waitFor({ timeout: 5_000 });
    assert.equal(await flash.innerText(), "You were signed out: REVOKED");
    log(`c: browser 2 was on the sign-in page ${Date.now() - revokedAt} ms after the revoke click`);
    assert.equal(await two.page.locator('[data-testid="user-name"]').count(), 0);
    await shot(two.page, "07-revoked-signed-out");

    // Browser 2 is really anonymous now, and browser 1 lists one session.
    await two.page.goto(app("/devices"));
    await two.page.waitForURL((u) => u.pathname === "/signin");
    await until("one session left", async () => (await rows.count()) === 1);
    assert.equal(await one.page.locator('[data-testid="session"][data-current="true"]').count(), 1);
    assert.equal(await headerName(one.page), user.name, "browser 1 stays signed in");
    assert.deepEqual(one.page.pageErrors, []);
    assert.deepEqual(two.page.pageErrors, []);
  } finally {
    await one.context.close();
    await two.context.close();
  }
});

test("d. create a deck, add two cards, review one with grade 4: the due count goes down", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Dorothy Vaughan");
    await signUpUI(page, user);
    await page.locator('[data-testid="create-deck"] input[name="title"]').fill("Spanish verbs");
    await page.locator('[data-testid="create-deck"] button[type="submit"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname.startsWith("/decks/")));
    await page.locator('[data-testid="deck-title"]').waitFor();
    assert.equal(await page.locator('[data-testid="deck-title"]').innerText(), "Spanish verbs");

    const addCard = async (front, back, count) => {
      await page.locator('[data-testid="add-card"] input[name="front"]').fill(front);
      await page.locator('[data-testid="add-card"] input[name="back"]').fill(back);
      await page.locator('[data-testid="add-card"] button[type="submit"]').click();
      await failOnFormError(page, until(`${count} cards`, async () => (await page.locator('[data-testid="card-count"]').innerText()) === String(count)));
    };
    await addCard("hablar", "to speak", 1);
    await addCard("comer", "to eat", 2);
    assert.equal(await page.locator('[data-testid="cards"] [data-testid="card"]').count(), 2);
    await until("2 due", async () => (await page.locator('[data-testid="due-count"]').innerText()) === "2");
    await page.locator('[data-testid="due-card"]').waitFor();
    const firstFront = await page.locator('[data-testid="due-front"]').innerText();
    await page.locator('[data-testid="show-answer"]').click();
    await page.locator('[data-testid="due-back"]').waitFor();
    await shot(page, "08-study-card");

    await page.locator('[data-testid="grade-4"]').click();
    await failOnFormError(
      page,
      until("1 due after the review", async () => (await page.locator('[data-testid="due-count"]').innerText()) === "1"),
    );
    await until(
      "the other card to be up next",
      async () => (await page.locator('[data-testid="due-front"]').innerText()) !== firstFront,
    );
    await shot(page, "09-deck-after-review");

    await page.goto(app("/"));
    const deckRow = page.locator('[data-testid="deck"]', { hasText: "Spanish verbs" });
    await deckRow.waitFor();
    assert.match(await deckRow.innerText(), /2 cards · 1 due/);
    await shot(page, "10-decks");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("e. the urql screen signs in and out", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Edsger Dijkstra");
    await registerViaApi(stack.graphqlUrl, user);
    await page.goto(app("/urql"));
    await page.locator('[data-testid="urql-anonymous"]').waitFor();
    assert.equal(await page.locator('[data-testid="urql-signin-form"] [data-testid="forgot-password"]').getAttribute("href"), "/forgot-password");
    await page.locator('[data-testid="urql-signin-form"] input[name="email"]').fill(user.email);
    await page.locator('[data-testid="urql-signin-form"] input[name="password"]').fill("wrong password!");
    await page.locator('[data-testid="urql-signin-form"] button[type="submit"]').click();
    await page.locator('[data-testid="form-error"][data-code="INVALID_CREDENTIALS"]').waitFor();

    await page.locator('[data-testid="urql-signin-form"] input[name="password"]').fill(user.password);
    await page.locator('[data-testid="urql-signin-form"] button[type="submit"]').click();
    await page.locator('[data-testid="urql-me"]').waitFor();
    assert.equal(await page.locator('[data-testid="urql-user-name"]').innerText(), user.name);
    // The same banner as in the Apollo app while the address is unverified.
    await page.locator('[data-testid="urql-app"] [data-testid="verify-banner"]').waitFor();
    assert.match(await page.locator('[data-testid="urql-me"]').innerText(), new RegExp(user.email.replace(/[.]/g, "\\.")));
    await shot(page, "11-urql-signed-in");

    // Same cookie: the Apollo app sees the same session.
    await page.goto(app("/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name);

    await page.goto(app("/urql"));
    await page.locator('[data-testid="urql-sign-out"]').click();
    await page.locator('[data-testid="urql-anonymous"]').waitFor();
    await page.reload();
    await page.locator('[data-testid="urql-anonymous"]').waitFor();
    await shot(page, "12-urql-signed-out");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("f. the playground loads only from the server and runs { me { email } } with the app's cookie", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Frances Allen");
    await registerViaApi(stack.graphqlUrl, user);
    await signInUI(page, user);

    const pg = await context.newPage();
    const pageErrors = [];
    pg.on("pageerror", (e) => pageErrors.push(e.message));
    const requests = [];
    pg.on("request", (r) => requests.push(r.url()));
    await pg.goto(stack.serverUrl + "/");
    const editor = pg.locator(".graphiql-query-editor .CodeMirror");
    await editor.waitFor({ timeout: 20_000 });
    await editor.click();
    await pg.keyboard.press("Control+A");
    await pg.keyboard.press("Delete");
    await pg.keyboard.type("{ me { email } }");
    const typed = await pg.evaluate(() => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue());
    assert.equal(typed.replace(/\s+/g, " ").trim(), "{ me { email } }", "the editor holds exactly the typed query");
    await pg.locator(".graphiql-execute-button").click();
    const response = pg.locator(".graphiql-response");
    await until("the response to show the email", async () => (await response.innerText()).includes(user.email), { timeoutMs: 10_000 });
    await shot(pg, "13-playground");

    const server = new URL(stack.serverUrl);
    const foreign = requests.filter((u) => {
      const url = new URL(u);
      if (url.protocol === "data:" || url.protocol === "blob:") return false;
      return url.host !== server.host;
    });
    log(`f: the playground made ${requests.length} requests: ${[...new Set(requests.map((u) => new URL(u).protocol + "//" + new URL(u).host))].join(", ")}`);
    assert.deepEqual(foreign, [], "every playground request goes to the server itself");
    assert.ok(requests.some((u) => u.startsWith(stack.graphqlUrl)), "the playground called /graphql");
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
});

test("g. changing the password keeps this browser signed in (listening with its new token) and drops the other one (PASSWORD_CHANGED)", { timeout: 60_000 }, async () => {
  const one = await newPage();
  const two = await newPage();
  const three = await newPage();
  try {
    const user = newUser("Grace Hopper");
    await signUpUI(one.page, user);
    await signInUI(two.page, user);
    await until(
      "browser 2's subscription to connect",
      async () => (await two.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );
    await two.page.waitForTimeout(300);

    await one.page.goto(app("/account"));
    await until(
      "browser 1's subscription to connect",
      async () => (await one.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );
    const newPassword = user.password + " v2";
    await one.page.locator('input[name="currentPassword"]').fill(user.password);
    await one.page.locator('input[name="newPassword"]').fill(newPassword);
    await one.page.locator('input[name="confirm"]').fill(newPassword);
    await one.page.locator('[data-testid="password-form"] button[type="submit"]').click();
    await one.page.locator('[data-testid="password-changed"]').waitFor();

    await two.page.waitForURL((u) => u.pathname === "/signin", { timeout: 5_000 });
    await two.page.locator('[data-testid="flash"]').waitFor();
    assert.equal(await two.page.locator('[data-testid="flash"]').innerText(), "You were signed out: PASSWORD_CHANGED");

    // Browser 1 got a new token: it stays, and listens again on a new socket.
    await one.page.waitForTimeout(1_000);
    assert.equal(pathOf(one.page), "/account");
    assert.equal(await headerName(one.page), user.name);
    await until(
      "browser 1 to listen again",
      async () => (await one.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );
    await shot(one.page, "14-password-changed");
    // (No reload here: a reload would open a fresh socket and hide a stale one.)

    // The old password no longer works; the new one does.
    await three.page.goto(app("/signin"));
    await three.page.locator('input[name="email"]').fill(user.email);
    await three.page.locator('input[name="password"]').fill(user.password);
    await three.page.locator('[data-testid="signin-form"] button[type="submit"]').click();
    await three.page.locator('[data-testid="form-error"][data-code="INVALID_CREDENTIALS"]').waitFor();
    await signInUI(three.page, { ...user, password: newPassword });

    // Browser 1 listens with its new token: revoking its new session from browser 3 drops it too.
    await until(
      "browser 1's subscription to connect",
      async () => (await one.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );
    await one.page.waitForTimeout(300);
    await three.page.goto(app("/devices"));
    await until("two sessions listed", async () => (await three.page.locator('[data-testid="session"]').count()) === 2);
    await three.page.locator('[data-testid="session"][data-current="false"] [data-testid="revoke"]').click();
    await one.page.waitForURL((u) => u.pathname === "/signin", { timeout: 5_000 });
    await one.page.locator('[data-testid="flash"]').waitFor();
    assert.equal(await one.page.locator('[data-testid="flash"]').innerText(), "You were signed out: REVOKED");
    for (const p of [one.page, two.page, three.page]) assert.deepEqual(p.pageErrors, []);
  } finally {
    await one.context.close();
    await two.context.close();
    await three.context.close();
  }
});

test("h. 'sign out everywhere else' ends the other browser's session and keeps this one", { timeout: 60_000 }, async () => {
  const one = await newPage();
  const two = await newPage();
  try {
    const user = newUser("Hedy Lamarr");
    await signUpUI(one.page, user);
    await signInUI(two.page, user);
    await until(
      "browser 2's subscription to connect",
      async () => (await two.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );
    await two.page.waitForTimeout(300);

    await one.page.goto(app("/devices"));
    await until("two sessions listed", async () => (await one.page.locator('[data-testid="session"]').count()) === 2);
    await one.page.locator('[data-testid="logout-others"]').click();
    await one.page.locator('[data-testid="devices-message"]').waitFor();
    assert.equal(await one.page.locator('[data-testid="devices-message"]').innerText(), "Signed out 1 other session.");
    await until("one session left", async () => (await one.page.locator('[data-testid="session"]').count()) === 1);

    await two.page.waitForURL((u) => u.pathname === "/signin", { timeout: 5_000 });
    await two.page.locator('[data-testid="flash"]').waitFor();
    assert.equal(await two.page.locator('[data-testid="flash"]').innerText(), "You were signed out: REVOKED");
    assert.equal(await headerName(one.page), user.name);
    await shot(one.page, "15-signed-out-everywhere-else");
  } finally {
    await one.context.close();
    await two.context.close();
  }
});

test("i. sign up, then the mailed verification link verifies the address: the banner goes, also after a reload; a used link is refused", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Ida Rhodes");
    await signUpUI(page, user);
    const banner = page.locator('[data-testid="verify-banner"]');
    await banner.waitFor();
    assert.match(await banner.innerText(), new RegExp(escapeRe(user.email)));
    const first = await mailLink(user, "/verify-email");

    // "Resend" mails another link.
    await page.locator('[data-testid="resend-verification"]').click();
    const status = page.locator('[data-testid="resend-status"]');
    await status.waitFor();
    assert.match(await status.innerText(), /^Sent\b/);
    const second = await mailLink(user, "/verify-email", new Set([first.id]));
    await shot(page, "16-verify-banner");

    await page.goto(second.link);
    await page.locator('[data-testid="verified"]').waitFor();
    assert.match(await page.locator('[data-testid="verified"]').innerText(), new RegExp(escapeRe(user.email)));
    await until("the banner to go", async () => (await banner.count()) === 0);
    assert.equal(await headerName(page), user.name, "still signed in");
    await shot(page, "17-verified");

    await page.goto(app("/"));
    await page.reload();
    await page.locator('[data-testid="user-name"]').waitFor();
    await page.locator('[data-testid="create-deck"]').waitFor();
    assert.equal(await banner.count(), 0, "no banner after a reload: me.emailVerified is true on the server");

    // A token works once.
    await page.goto(second.link);
    await page.locator('[data-testid="bad-token"]').waitFor();
    assert.equal(await page.locator('[data-testid="verified"]').count(), 0);
    assert.equal(await banner.count(), 0);
    await shot(page, "18-verify-link-used");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("j. forgot password: the mailed link sets a new password (strength hint shown), signs this browser in and the other one out (PASSWORD_CHANGED)", { timeout: 60_000 }, async () => {
  // Browser 1 resets (its page is also the docs screenshot, 1000 px wide); browser 2 is signed in and listening.
  const one = await newPage({ viewport: { width: 1000, height: 700 } });
  const two = await newPage();
  try {
    const user = newUser("Joan Clarke");
    await registerViaApi(stack.graphqlUrl, user);
    await signInUI(two.page, user);
    await two.page.goto(app("/devices"));
    await two.page.locator('[data-testid="session"]').first().waitFor();
    await waitLive(two.page, "browser 2");

    await one.page.goto(app("/signin"));
    await one.page.locator('input[name="email"]').fill(user.email);
    await one.page.locator('[data-testid="forgot-password"]').click();
    await one.page.waitForURL((u) => u.pathname === "/forgot-password");
    assert.equal(await one.page.locator('input[name="email"]').inputValue(), user.email, "the typed email comes along");
    await one.page.locator('[data-testid="forgot-form"] button[type="submit"]').click();
    const requested = one.page.locator('[data-testid="reset-requested"]');
    await failOnFormError(one.page, requested.waitFor());
    const said = await requested.innerText();
    assert.equal(said, "If an account uses this address, we sent a link to it.");
    await shot(one.page, "19-forgot-password-sent");

    // An address nobody uses gets the very same words.
    await one.page.getByText("Use another address").click();
    await one.page.locator('input[name="email"]').fill(newUser("Nobody").email);
    await one.page.locator('[data-testid="forgot-form"] button[type="submit"]').click();
    await failOnFormError(one.page, requested.waitFor());
    assert.equal(await requested.innerText(), said);

    const mail = await mailLink(user, "/reset-password");
    await one.page.goto(mail.link);
    await one.page.locator('[data-testid="reset-form"]').waitFor();

    // A weak password: the hint says so, with zxcvbn's own words, and so does the server.
    const weak = "monkey123";
    await one.page.locator('input[name="newPassword"]').fill(weak);
    await one.page.locator('input[name="confirm"]').fill(weak);
    const hint = await strengthHint(one.page);
    assert.equal(hint.minScore, PASSWORD_MIN_SCORE);
    assert.equal(hint.score, 1);
    assert.equal(hint.acceptable, false);
    assert.match(hint.verdict, /Too easy to guess/);
    assert.match(await one.page.locator('[data-testid="strength-warning"]').innerText(), /common password/);
    assert.ok((await one.page.locator('[data-testid="strength-suggestions"] li').count()) > 0);
    await shot(one.page, "20-reset-page");
    await one.page.screenshot({ path: path.join(repoRoot, "docs", "reset-page.png"), fullPage: true });

    await one.page.locator('[data-testid="reset-form"] button[type="submit"]').click();
    const refused = one.page.locator('[data-field="newPassword"] [data-testid="error-newPassword"]');
    await refused.waitFor();
    assert.match(await refused.innerText(), /too easy to guess/i);
    assert.equal(await one.page.locator('[data-testid="bad-token"]').count(), 0, "a refused password leaves the link usable");

    // A strong one: signed in, on the decks page with a message.
    const newPassword = "tidal quartz lantern 42";
    await one.page.locator('input[name="newPassword"]').fill(newPassword);
    await one.page.locator('input[name="confirm"]').fill(newPassword);
    const strong = await strengthHint(one.page);
    assert.equal(strong.acceptable, true, strong.verdict);
    const resetAt = Date.now();
    await one.page.locator('[data-testid="reset-form"] button[type="submit"]').click();
    await failOnFormError(one.page, one.page.waitForURL((u) => u.pathname === "/"));
    await one.page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(one.page), user.name);
    assert.match(await one.page.locator('[data-testid="flash"]').innerText(), /password was reset/);
    await shot(one.page, "21-reset-signed-in");

    await two.page.waitForURL((u) => u.pathname === "/signin", { timeout: 5_000 });
    await two.page.locator('[data-testid="flash"]').waitFor();
    assert.equal(await two.page.locator('[data-testid="flash"]').innerText(), "You were signed out: PASSWORD_CHANGED");
    log(`j: browser 2 was on the sign-in page ${Date.now() - resetAt} ms after the reset`);

    // Browser 1's new session listens for its own end.
    await until(
      "browser 1's subscription to connect",
      async () => (await one.page.locator('[data-testid="live"]').getAttribute("data-live")) === "connected",
    );

    // The old password no longer signs in; the new one does.
    const login = `mutation ($input: LoginInput!) { login(input: $input) { email } }`;
    const old = await apiClient(stack.graphqlUrl)(login, { input: { email: user.email, password: user.password } });
    assert.equal(old.errors?.[0]?.extensions?.code, "INVALID_CREDENTIALS", JSON.stringify(old));
    const fresh = await apiClient(stack.graphqlUrl)(login, { input: { email: user.email, password: newPassword } });
    assert.equal(fresh.data?.login?.email, user.email, JSON.stringify(fresh));
    for (const p of [one.page, two.page]) assert.deepEqual(p.pageErrors, []);
  } finally {
    await one.context.close();
    await two.context.close();
  }
});

test("k. a reset link that was already used shows the bad-token message with a way to ask for a new one", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Karen Sparck Jones");
    await registerViaApi(stack.graphqlUrl, user);
    const gql = apiClient(stack.graphqlUrl);
    const asked = await gql(`mutation ($email: String!) { requestPasswordReset(email: $email) }`, { email: user.email });
    assert.equal(asked.data?.requestPasswordReset, true, JSON.stringify(asked));
    const mail = await mailLink(user, "/reset-password");
    const token = new URL(mail.link).searchParams.get("token");
    const used = await gql(`mutation ($input: ResetPasswordInput!) { resetPassword(input: $input) { email } }`, {
      input: { token, newPassword: "sable orchard violin 17" },
    });
    assert.equal(used.data?.resetPassword?.email, user.email, JSON.stringify(used));

    await page.goto(mail.link);
    await page.locator('input[name="newPassword"]').fill("quiet harbor maple 58");
    await page.locator('input[name="confirm"]').fill("quiet harbor maple 58");
    await page.locator('[data-testid="reset-form"] button[type="submit"]').click();
    const bad = page.locator('[data-testid="bad-token"]');
    await bad.waitFor();
    assert.match(await bad.innerText(), /already used/);
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0, "not signed in");
    await shot(page, "22-reset-link-used");
    await page.locator('[data-testid="request-new-link"]').click();
    await page.waitForURL((u) => u.pathname === "/forgot-password");
    await page.locator('[data-testid="forgot-form"]').waitFor();

    // A link without a token says the same at once.
    await page.goto(app("/reset-password"));
    await bad.waitFor();
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("l. the strength hint's verdict on sign-up matches whether the server accepts the password", { timeout: 60_000 }, async () => {
  const long = "Vq3-mZ8!pL4#tR7@wK2$nB6%yH9&cF5*dJ1+gS0=xN4?uE8~oA3^iT7;eW2:rY6,kM9.bQ5/hX8_";
  const cases = [
    { password: "password" }, //                          zxcvbn 0
    { password: "monkey123" }, //                         1: a common password
    { password: "zbigniew1990" }, //                     1 with the name as a user input (2 without)
    { password: (u) => u.email }, //                      0 with the email as a user input (4 without)
    { password: "kT9#mQ2" }, //                           7 bytes
    { password: "Summer2024" }, //                        2
    { password: "gorilla-42" }, //                        2
    { password: "correct horse battery staple" }, //      4
    { password: "Grüße aus Köln 42!" }, //                4, 20 bytes in UTF-8
    { password: "àààààààà" }, //                          0: a repeat of a non-ASCII letter
    { password: "αβγδεζηθ" }, //                          0: a sequence of Greek letters
    { password: "Ma\u0301laga cafe\u0301 42" }, //         typed as NFD: scored in NFC on both sides
    { password: long.slice(0, 72) }, //                   72 bytes: the most
    { password: long.slice(0, 73) }, //                   73 bytes
  ];
  const rows = [];
  const { context, page } = await newPage();
  try {
    for (const c of cases) {
      const user = newUser("Zbigniew");
      const password = typeof c.password === "function" ? c.password(user) : c.password;
      await page.goto(app("/signup"));
      await page.locator('input[name="name"]').fill(user.name);
      await page.locator('input[name="email"]').fill(user.email);
      await page.locator('input[name="password"]').fill(password);
      const hint = await strengthHint(page);
      await page.locator('[data-testid="signup-form"] button[type="submit"]').click();
      const signedIn = page.locator('[data-testid="user-name"]');
      const refused = page.locator('[data-testid="error-password"]');
      const other = page.locator('[data-testid="form-error"], [data-testid^="error-"]:not([data-testid="error-password"])');
      await signedIn.or(refused).or(other).first().waitFor();
      const server = (await signedIn.count()) > 0 ? true : (await refused.count()) > 0 ? false : `error: ${await other.first().innerText()}`;
      const said = server === false ? await refused.innerText() : "";
      rows.push({ password, score: hint.score, hint: hint.acceptable, server, said });
      if (server === true) {
        await page.locator('[data-testid="sign-out"]').click();
        await page.waitForURL((u) => u.pathname === "/signin");
      }
    }
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
  log(
    `l: min score ${PASSWORD_MIN_SCORE}\n` +
      rows.map((r) => `  ${JSON.stringify(r.password).padEnd(40)} score ${r.score}  hint ${r.hint ? "ok  " : "weak"}  server ${r.server === true ? "accepted" : r.server === false ? `refused: ${r.said}` : r.server}`).join("\n"),
  );
  assert.ok(rows.some((r) => r.server === true) && rows.some((r) => r.server === false), "both verdicts occur");
  assert.deepEqual(
    rows.map((r) => [r.password, r.hint]),
    rows.map((r) => [r.password, r.server]),
  );
});

test("m. two-step sign-in: turn on TOTP on the Security page, sign in with a code, then with a recovery code; the security log shows it", { timeout: 120_000 }, async () => {
  // 1000 px wide: this page makes docs/second-step.png and docs/security-page.png.
  const { context, page } = await newPage({ viewport: { width: 1000, height: 760 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: stack.appUrl });
  try {
    const user = newUser("Margaret Hamilton");
    await signUpUI(page, user);
    await page.locator("header nav a", { hasText: "Security" }).click();
    await page.waitForURL((u) => u.pathname === "/security");
    const status = page.locator('[data-testid="totp-status"]');
    await status.waitFor();
    assert.equal(await status.getAttribute("data-enabled"), "false");

    // Turn on: the password first (a wrong one is refused under the field) ...
    await page.locator('[data-testid="totp-turn-on"]').click();
    const passwordForm = page.locator('[data-testid="totp-password-form"]');
    await passwordForm.locator('input[name="currentPassword"]').fill("not my password");
    await passwordForm.locator('button[type="submit"]').click();
    await passwordForm.locator('[data-field="currentPassword"] [data-testid="error-currentPassword"]').waitFor();
    assert.match(await page.locator('[data-testid="error-currentPassword"]').innerText(), /not right/);
    await passwordForm.locator('input[name="currentPassword"]').fill(user.password);
    await passwordForm.locator('button[type="submit"]').click();

    // ... then the QR code and the secret, which the test's "app" (otpauth) reads from the page.
    const confirmForm = page.locator('[data-testid="totp-confirm-form"]');
    await failOnFormError(page, confirmForm.waitFor());
    const qr = page.locator('[data-testid="totp-qr"]');
    assert.match(await qr.getAttribute("src"), /^data:image\/png;base64,/);
    await until("the QR code image to load", () => qr.evaluate((img) => img.complete && img.naturalWidth > 0));
    const secret = (await page.locator('[data-testid="totp-secret"]').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{16,}$/, "base32 without padding");
    const uri = URI.parse(await confirmForm.locator('a[href^="otpauth://"]').getAttribute("href"));
    assert.equal(uri.secret.base32, secret, "the otpauth:// URI holds the secret shown");
    assert.deepEqual([uri.algorithm, uri.digits, uri.period], ["SHA1", 6, 30]);
    assert.match(uri.label, new RegExp(escapeRe(user.email)));
    await shot(page, "23-totp-scan");

    // A wrong code is refused under the field; the app's code turns TOTP on.
    const confirmStep = stepNow();
    const right = totpAt(secret, confirmStep);
    const nearby = new Set([-1, 0, 1].map((d) => totpAt(secret, confirmStep + d)));
    const wrong = [...Array(10).keys()].map((i) => String((Number(right) + 111_111 * (i + 1)) % 1_000_000).padStart(6, "0")).find((c) => !nearby.has(c));
    await confirmForm.locator('input[name="code"]').fill(wrong);
    await confirmForm.locator('button[type="submit"]').click();
    await confirmForm.locator('[data-testid="error-code"]').waitFor();
    assert.match(await confirmForm.locator('[data-testid="error-code"]').innerText(), /not right/);
    await confirmForm.locator('input[name="code"]').fill(right);
    await confirmForm.locator('button[type="submit"]').click();
    const app2 = authenticator(secret, confirmStep);

    // The ten recovery codes, once, with "Copy".
    await failOnFormError(page, page.locator('[data-testid="recovery-codes"]').waitFor());
    const recoveryCodes = (await page.locator('[data-testid="recovery-code"]').allInnerTexts()).map((c) => c.trim());
    assert.equal(recoveryCodes.length, 10);
    assert.equal(new Set(recoveryCodes).size, 10);
    for (const c of recoveryCodes) assert.match(c, RECOVERY_CODE);
    await page.locator('[data-testid="copy-recovery-codes"]').click();
    await page.locator('[data-testid="copy-status"]').waitFor();
    assert.equal(await page.locator('[data-testid="copy-status"]').innerText(), "Copied.");
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), recoveryCodes.join("\n") + "\n");
    await shot(page, "24-recovery-codes");
    await page.locator('[data-testid="recovery-codes-saved"]').click();
    await until("the status to say on", async () => (await status.getAttribute("data-enabled")) === "true");
    assert.equal(await page.locator('[data-testid="recovery-code"]').count(), 0, "the codes are gone once saved");
    await page.reload();
    await status.waitFor();
    assert.equal(await status.getAttribute("data-enabled"), "true", "on, as the server says after a reload");

    // Sign out; the password alone now leads to the second step.
    await signOutUI(page);
    await signInToSecondStep(page, user);
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0, "not signed in before the code");
    assert.equal(await page.locator('[data-testid="second-factor-form"]').getAttribute("data-mode"), "totp");
    await page.screenshot({ path: path.join(repoRoot, "docs", "second-step.png"), fullPage: true });
    await shot(page, "25-second-step");

    // A wrong code is refused (INVALID_CREDENTIALS), and so is the code that turned TOTP on: it was used already.
    const form = page.locator('[data-testid="second-factor-form"]');
    const formError = form.locator('[data-testid="form-error"]');
    for (const [what, code] of [["a wrong code", wrong], ["a used code", right]]) {
      await form.locator('input[name="code"]').fill(code);
      await form.locator('button[type="submit"]').click();
      await until(`${what} refused`, async () => (await formError.count()) === 1 && (await form.locator('button[type="submit"]').isEnabled()));
      assert.equal(await formError.getAttribute("data-code"), "INVALID_CREDENTIALS", what);
      assert.match(await formError.innerText(), /code is not right/, what);
      assert.equal(pathOf(page), "/signin/verify");
      if (code === wrong) await shot(page, "26-second-step-wrong-code");
    }

    await form.locator('input[name="code"]').fill(app2.next());
    await form.locator('button[type="submit"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname === "/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name);
    await waitLive(page, "the browser after the second step");

    // Again, with a recovery code this time.
    await signOutUI(page);
    await signInToSecondStep(page, user);
    await page.locator('[data-testid="use-recovery-code"]').click();
    assert.equal(await form.getAttribute("data-mode"), "recovery");
    await form.locator('input[name="recoveryCode"]').fill(recoveryCodes[3]);
    await form.locator('button[type="submit"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname === "/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name);

    // The security log, five to a page: "Load more" until it is all there.
    await page.goto(app("/security?first=5"));
    await page.locator('[data-testid="security-event"]').first().waitFor();
    assert.equal(await page.locator('[data-testid="security-event"]').count(), 5, "a page of five");
    assert.equal(await page.locator('[data-testid="security-log-more"]').count(), 1, "more than a page");
    const events = await readSecurityLog(page);
    log(`m: the security log:\n${events.map((e) => `  ${e.at}  ${e.kind.padEnd(22)} ${e.device} · ${e.ip}`).join("\n")}`);
    assert.ok(events.length > 5, `${events.length} events`);
    assert.equal(await page.locator('[data-testid="security-log-more"]').count(), 0, "no more pages");
    assert.equal(new Set(events.map((e) => e.id)).size, events.length, "no entry twice");
    for (let i = 1; i < events.length; i++) assert.ok(Date.parse(events[i - 1].at) >= Date.parse(events[i].at), `newest first: ${events[i - 1].at} ≥ ${events[i].at}`);
    const enabledAt = events.findIndex((e) => e.kind === "TOTP_ENABLED");
    assert.ok(enabledAt > 0, "TOTP_ENABLED is listed");
    assert.equal(events[enabledAt].words, "Two-step sign-in turned on");
    const since = events.slice(0, enabledAt).map((e) => e.kind);
    assert.equal(since.filter((k) => k === "SIGNED_IN").length, 2, `two sign-ins since TOTP went on: ${since}`);
    assert.equal(since.filter((k) => k === "RECOVERY_CODE_USED").length, 1, `${since}`);
    assert.equal(since.filter((k) => k === "SIGN_IN_FAILED").length, 2, `the two refused codes: ${since}`);
    const signedIn = events.find((e) => e.kind === "SIGNED_IN");
    assert.equal(signedIn.words, "Signed in");
    assert.match(signedIn.device, /Headless Chrome on Linux/);
    assert.match(signedIn.ip, /^(127\.0\.0\.1|::1)$/);
    await page.locator('[data-testid="security-log"]').scrollIntoViewIfNeeded();
    assert.equal(await status.getAttribute("data-enabled"), "true");
    await page.screenshot({ path: path.join(repoRoot, "docs", "security-page.png"), fullPage: true });
    await shot(page, "27-security-page");
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("n. with TOTP on, the reset link leads to the second step; then new recovery codes, and TOTP off with one of them", { timeout: 90_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Nancy Grace Roman");
    const { app: phone, recoveryCodes: oldCodes } = await registerWithTotpViaApi(user);

    // Forgot password → the mailed link → a new password → the second step → signed in.
    await page.goto(app(`/forgot-password?email=${encodeURIComponent(user.email)}`));
    await page.locator('[data-testid="forgot-form"] button[type="submit"]').click();
    await failOnFormError(page, page.locator('[data-testid="reset-requested"]').waitFor());
    const mail = await mailLink(user, "/reset-password");
    await page.goto(mail.link);
    const newPassword = "violet canyon ledger 83";
    await page.locator('input[name="newPassword"]').fill(newPassword);
    await page.locator('input[name="confirm"]').fill(newPassword);
    await page.locator('[data-testid="reset-form"] button[type="submit"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname === "/signin/verify"));
    await page.locator('[data-testid="second-factor-form"]').waitFor();
    assert.match(await page.locator('[data-testid="flash"]').innerText(), /password was reset/);
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0);
    await shot(page, "28-reset-second-step");
    await page.locator('[data-testid="second-factor-form"] input[name="code"]').fill(phone.next());
    await page.locator('[data-testid="second-factor-form"] button[type="submit"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname === "/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.match(await page.locator('[data-testid="flash"]').innerText(), /password was reset/);
    user.password = newPassword;

    // New recovery codes (with the password): ten others.
    await page.goto(app("/security"));
    const status = page.locator('[data-testid="totp-status"]');
    await status.waitFor();
    assert.equal(await status.getAttribute("data-enabled"), "true");
    await page.locator('[data-testid="regenerate-recovery-codes"]').click();
    await page.locator('[data-testid="totp-password-form"] input[name="currentPassword"]').fill(user.password);
    await page.locator('[data-testid="totp-password-form"] button[type="submit"]').click();
    await failOnFormError(page, page.locator('[data-testid="recovery-codes"]').waitFor());
    const newCodes = (await page.locator('[data-testid="recovery-code"]').allInnerTexts()).map((c) => c.trim());
    assert.equal(newCodes.length, 10);
    assert.equal(newCodes.filter((c) => oldCodes.includes(c)).length, 0, "all new");
    await page.locator('[data-testid="recovery-codes-saved"]').click();

    // Turn off: an old recovery code no longer works, a new one does.
    await page.locator('[data-testid="totp-turn-off"]').click();
    const off = page.locator('[data-testid="totp-disable-form"]');
    await off.locator('input[name="currentPassword"]').fill(user.password);
    await off.locator('input[name="code"]').fill(oldCodes[0]);
    await off.locator('button[type="submit"]').click();
    await off.locator('[data-testid="error-code"]').waitFor();
    assert.match(await off.locator('[data-testid="error-code"]').innerText(), /not right/);
    await off.locator('input[name="code"]').fill(newCodes[0]);
    await off.locator('button[type="submit"]').click();
    await failOnFormError(page, until("the status to say off", async () => (await status.getAttribute("data-enabled")) === "false"));
    assert.match(await page.locator('[data-testid="security-message"]').innerText(), /off/);
    const kinds = (await readSecurityLog(page)).map((e) => e.kind);
    for (const k of ["TOTP_DISABLED", "RECOVERY_CODE_USED", "RECOVERY_CODES_REGENERATED", "PASSWORD_RESET", "TOTP_ENABLED"]) assert.ok(kinds.includes(k), `${k} in ${kinds}`);
    assert.ok(kinds.indexOf("TOTP_DISABLED") < kinds.indexOf("RECOVERY_CODES_REGENERATED"), `newest first: ${kinds}`);

    // The password alone signs in again.
    await signOutUI(page);
    await signInUI(page, user);
    assert.equal(await headerName(page), user.name);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("o. the urql screen asks for the second step too: a recovery code works once, then a code from the app", { timeout: 60_000 }, async () => {
  const { context, page } = await newPage();
  try {
    const user = newUser("Olga Taussky");
    const { app: phone, recoveryCodes } = await registerWithTotpViaApi(user);
    const signIn = async () => {
      await page.locator('[data-testid="urql-signin-form"] input[name="email"]').fill(user.email);
      await page.locator('[data-testid="urql-signin-form"] input[name="password"]').fill(user.password);
      await page.locator('[data-testid="urql-signin-form"] button[type="submit"]').click();
      await failOnFormError(page, page.locator('[data-testid="urql-second-step"] [data-testid="second-factor-form"]').waitFor());
    };
    const form = page.locator('[data-testid="urql-second-step"] [data-testid="second-factor-form"]');
    await page.goto(app("/urql"));
    await page.locator('[data-testid="urql-anonymous"]').waitFor();
    await signIn();
    assert.equal(await page.locator('[data-testid="urql-me"]').count(), 0);
    await form.locator('[data-testid="use-recovery-code"]').click();
    await form.locator('input[name="recoveryCode"]').fill(recoveryCodes[0].toUpperCase());
    await form.locator('button[type="submit"]').click();
    await failOnFormError(page, page.locator('[data-testid="urql-me"]').waitFor());
    assert.equal(await page.locator('[data-testid="urql-user-name"]').innerText(), user.name);
    await shot(page, "29-urql-second-step-signed-in");
    await page.locator('[data-testid="urql-sign-out"]').click();
    await page.locator('[data-testid="urql-anonymous"]').waitFor();

    await signIn();
    await form.locator('[data-testid="use-recovery-code"]').click();
    await form.locator('input[name="recoveryCode"]').fill(recoveryCodes[0]);
    await form.locator('button[type="submit"]').click();
    const formError = form.locator('[data-testid="form-error"]');
    await formError.waitFor();
    assert.equal(await formError.getAttribute("data-code"), "INVALID_CREDENTIALS");
    assert.match(await formError.innerText(), /already used/);
    await form.locator('[data-testid="use-totp-code"]').click();
    await form.locator('input[name="code"]').fill(phone.next());
    await form.locator('button[type="submit"]').click();
    await failOnFormError(page, page.locator('[data-testid="urql-me"]').waitFor());
    assert.equal(await page.locator('[data-testid="urql-user-name"]').innerText(), user.name);

    // The Apollo app sees the same session.
    await page.goto(app("/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name);
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});

test("p. passkeys: add one on the Security page, sign in with it (button, autofill, urql), remove it: then it is refused", { timeout: 90_000 }, async () => {
  // 1000 px wide: this page makes docs/passkeys.png.
  const { context, page } = await newPage({ viewport: { width: 1000, height: 760 } });
  const paths = [];
  page.on("framenavigated", (f) => f === page.mainFrame() && paths.push(new URL(f.url()).pathname));
  try {
    const authenticator = await virtualAuthenticator(context, page);
    const user = newUser("Grace Hopper");
    await signUpUI(page, user);
    await page.locator("header nav a", { hasText: "Security" }).click();
    const section = page.locator('[data-testid="passkeys"]');
    await section.locator('[data-testid="no-passkeys"]').waitFor();

    // Add one: the name first (the device's is offered; a blank one is refused before anything is made) ...
    await section.locator('[data-testid="add-passkey"]').click();
    const form = section.locator('[data-testid="add-passkey-form"]');
    const nameField = form.locator('input[name="name"]');
    assert.equal(await nameField.inputValue(), "Headless Chrome on Linux");
    await nameField.fill("   ");
    await form.locator('button[type="submit"]').click();
    await form.locator('[data-field="name"] [data-testid="error-name"]').waitFor();
    assert.equal((await authenticator.credentials()).length, 0, "nothing made for a blank name");
    // ... then the authenticator makes it and the server keeps it.
    await nameField.fill("Test laptop");
    await form.locator('button[type="submit"]').click();
    const row = section.locator('[data-testid="passkey"]');
    await failOnFormError(page, row.waitFor());
    assert.equal(await row.count(), 1);
    assert.equal(await row.locator('[data-testid="passkey-name"]').innerText(), "Test laptop");
    assert.equal(await row.locator('[data-testid="passkey-last-used"]').getAttribute("data-used"), "false");
    assert.match(await section.locator('[data-testid="passkeys-message"]').innerText(), /“Test laptop” added/);
    // A discoverable credential for localhost whose user handle is the account's id, listed under its credential id.
    const meId = await page.evaluate(async (url) => {
      const r = await fetch(url, { method: "POST", credentials: "include", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ query: "{ me { id } }" }) });
      return (await r.json()).data.me.id;
    }, stack.graphqlUrl);
    const held = await authenticator.credentials();
    assert.equal(held.length, 1);
    assert.deepEqual([held[0].isResidentCredential, held[0].rpId], [true, "localhost"]);
    assert.equal(Buffer.from(held[0].userHandle, "base64").toString("hex"), meId);
    assert.equal(await row.getAttribute("data-passkey-id"), Buffer.from(held[0].credentialId, "base64").toString("base64url"));
    await shot(page, "30-passkey-added");

    // The same device again: the server excludes the passkey it has, and the browser makes no second one.
    await section.locator('[data-testid="add-passkey"]').click();
    await nameField.fill("Test laptop again");
    await form.locator('button[type="submit"]').click();
    const addError = form.locator('[data-testid="form-error"]');
    await addError.waitFor();
    assert.equal(await addError.getAttribute("data-code"), "InvalidStateError");
    assert.match(await addError.innerText(), /already has a passkey/);
    assert.equal((await authenticator.credentials()).length, 1);
    await form.locator("button", { hasText: "Cancel" }).click();

    // Signed out, the sign-in page waits with an autofill request (presence off: no passkey picked yet);
    // "Sign in with a passkey" aborts it (a browser takes one request at a time) and signs in, nothing typed.
    await authenticator.presence(false);
    await signOutUI(page);
    assert.equal(await page.locator('[data-testid="signin-form"] input[name="email"]').getAttribute("autocomplete"), "username webauthn");
    await page.locator('[data-testid="signin-form"][data-passkey-autofill="waiting"]').waitFor();
    await shot(page, "31-sign-in-passkey");
    await authenticator.presence(true);
    await page.locator('[data-testid="signin-form"] [data-testid="passkey-sign-in"]').click();
    await failOnFormError(page, page.waitForURL((u) => u.pathname === "/"));
    await page.locator('[data-testid="user-name"]').waitFor();
    assert.equal(await headerName(page), user.name);
    assert.equal(await page.locator('[data-testid="second-step"]').count(), 0);

    // Autofill: with presence on, the authenticator answers the sign-in page's conditional request at once,
    // as a user picking the passkey under the email field: signed out, then in again without a click.
    paths.length = 0;
    await page.locator('[data-testid="sign-out"]').click();
    await failOnFormError(
      page,
      until("signed out, then in again by autofill", async () => paths.includes("/signin") && pathOf(page) === "/" && (await page.locator('[data-testid="user-name"]').count()) === 1),
    );
    assert.equal(await headerName(page), user.name);

    // The urql screen's button.
    await authenticator.presence(false);
    await page.goto(app("/urql"));
    await page.locator('[data-testid="urql-me"]').waitFor();
    await page.locator('[data-testid="urql-sign-out"]').click();
    await page.locator('[data-testid="urql-signin-form"][data-passkey-autofill="waiting"]').waitFor();
    await authenticator.presence(true);
    await page.locator('[data-testid="urql-signin-form"] [data-testid="passkey-sign-in"]').click();
    await failOnFormError(page, page.locator('[data-testid="urql-me"]').waitFor());
    assert.equal(await page.locator('[data-testid="urql-user-name"]').innerText(), user.name);

    // Listed as used; the log: PASSKEY_ADDED, then three sign-ins.
    await page.goto(app("/security"));
    await row.waitFor();
    assert.equal(await row.locator('[data-testid="passkey-last-used"]').getAttribute("data-used"), "true");
    const events = await readSecurityLog(page);
    log(`p: the security log:\n${events.map((e) => `  ${e.at}  ${e.kind}`).join("\n")}`);
    const addedAt = events.findIndex((e) => e.kind === "PASSKEY_ADDED");
    assert.ok(addedAt > 0, `PASSKEY_ADDED is listed: ${events.map((e) => e.kind)}`);
    assert.equal(events[addedAt].words, "Passkey added");
    const since = events.slice(0, addedAt).map((e) => e.kind);
    assert.equal(since.filter((k) => k === "SIGNED_IN").length, 3, `button, autofill and urql: ${since}`);
    assert.equal(since.filter((k) => k === "SIGN_IN_FAILED").length, 0, `${since}`);
    const box = await section.evaluate((el) => {
      el.scrollIntoView({ block: "center" });
      const r = el.getBoundingClientRect();
      return { y: r.top + window.scrollY, height: r.height };
    });
    await page.screenshot({ path: path.join(repoRoot, "docs", "passkeys.png"), fullPage: true, clip: { x: 0, y: Math.max(0, box.y - 16), width: 1000, height: box.height + 32 } });
    await shot(page, "32-security-passkeys");

    // Remove it (after a confirmation): the device still holds it, but it signs in no more.
    await row.locator('[data-testid="remove-passkey"]').click();
    await row.locator('[data-testid="confirm-remove"]').waitFor();
    assert.equal(await row.count(), 1, "nothing removed before the confirmation");
    await row.locator('[data-testid="confirm-remove-passkey"]').click();
    await failOnFormError(page, section.locator('[data-testid="no-passkeys"]').waitFor());
    assert.match(await section.locator('[data-testid="passkeys-message"]').innerText(), /“Test laptop” removed/);
    await until("PASSKEY_REMOVED at the top of the log", async () => (await page.locator('[data-testid="security-event"]').first().getAttribute("data-kind")) === "PASSKEY_REMOVED");
    assert.equal((await authenticator.credentials()).length, 1, "the device still holds it");

    await authenticator.presence(false);
    await signOutUI(page);
    await page.locator('[data-testid="signin-form"][data-passkey-autofill="waiting"]').waitFor();
    await authenticator.presence(true);
    await page.locator('[data-testid="signin-form"] [data-testid="passkey-sign-in"]').click();
    const refused = page.locator('[data-testid="passkey-signin"] [data-testid="form-error"]');
    await refused.waitFor();
    assert.equal(await refused.getAttribute("data-code"), "INVALID_CREDENTIALS");
    assert.match(await refused.innerText(), /not \(or no longer\) registered here/);
    assert.equal(pathOf(page), "/signin");
    assert.equal(await page.locator('[data-testid="user-name"]').count(), 0);
    await shot(page, "33-passkey-refused");

    // The password still signs in, and the log shows the refused passkey.
    await authenticator.presence(false);
    await signInUI(page, user);
    await page.goto(app("/security"));
    const kinds = (await readSecurityLog(page)).map((e) => e.kind);
    assert.deepEqual(
      kinds.filter((k) => ["SIGNED_IN", "SIGN_IN_FAILED", "PASSKEY_REMOVED", "PASSKEY_ADDED"].includes(k)).slice(0, 3),
      ["SIGNED_IN", "SIGN_IN_FAILED", "PASSKEY_REMOVED"],
      `newest first: ${kinds}`,
    );
    assert.deepEqual(page.pageErrors, []);
  } finally {
    await context.close();
  }
});
