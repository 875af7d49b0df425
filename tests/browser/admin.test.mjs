// End-to-end tests of the admin screens in a real browser (see harness.mjs): the demo's
// admin adds an agent who then signs in, edits the ladder (and is told why a bad one is
// refused), the SLA calendar, the referral directory and API tokens; other agents get 403.
// Each test saves a screenshot in tests/browser/screenshots/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useDesk, api, newPage, signIn, shot, base, AGENT, browser } from "./harness.mjs";

useDesk();

const ADMIN = "admin@demo.recourse.test";

// Submits a form by its button and waits for the page that answers.
async function submit(page, button) {
  const [resp] = await Promise.all([page.waitForEvent("response", (r) => r.request().method() === "POST"), button.click()]);
  await page.waitForLoadState("load");
  return resp;
}

test("an agent who is not an admin gets 403 on /admin and no Admin link", async () => {
  const page = await newPage();
  await signIn(page, AGENT);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Queues" }).waitFor();
  assert.equal(await nav.getByRole("link", { name: "Admin" }).count(), 0, "no Admin link for agents");
  for (const path of ["/admin", "/admin/agents", "/admin/tokens", "/admin/ladder"]) {
    const resp = await page.goto(`${base}${path}`);
    assert.equal(resp.status(), 403, path);
    await page.getByRole("alert").filter({ hasText: "admin role" }).waitFor();
  }
  // A forged post fails too (the session's CSRF token is real, the role is not enough).
  const csrf = await page.locator("form.signout input[name=csrf]").inputValue();
  const r = await page.request.post(`${base}/admin/teams`, { form: { csrf, team_name: "Sneaky" } });
  assert.equal(r.status(), 403);
  await shot(page, "admin-403", false);
  await page.context().close();
});

test("the admin adds an agent, who can then sign in", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Admin" }).click();
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Agents and teams" }).click();
  await page.getByRole("heading", { name: "Agents and teams", level: 1 }).waitFor();

  const add = page.getByRole("region", { name: "Add an agent" });
  // A refused add keeps what was typed and says why.
  await add.getByLabel("Name").fill("Noor Newcomer");
  await add.getByLabel("Email").fill("noor@demo.recourse.test");
  await add.getByLabel("Initial password").fill("short");
  let resp = await submit(page, add.getByRole("button", { name: "Add the agent" }));
  assert.equal(resp.status(), 422);
  await page.getByRole("alert").filter({ hasText: "at least 12 characters" }).waitFor();
  assert.equal(await add.getByLabel("Name").inputValue(), "Noor Newcomer");

  await add.getByLabel("Role").selectOption("agent");
  await add.getByLabel("Experience").selectOption("experienced");
  await add.getByLabel("Initial password").fill("noor-first-day-2026");
  resp = await submit(page, add.getByRole("button", { name: "Add the agent" }));
  assert.equal(resp.status(), 303);
  await page.getByRole("status").filter({ hasText: "The agent was added." }).waitFor();
  const row = page.getByRole("row", { name: /Noor Newcomer/ });
  await row.waitFor();
  assert.match(await row.innerText(), /experienced/);
  await shot(page, "admin-agents");

  const other = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const noor = await other.newPage();
  await noor.goto(`${base}/login`);
  await noor.getByLabel("Email").fill("noor@demo.recourse.test");
  await noor.getByLabel("Password").fill("noor-first-day-2026");
  await Promise.all([noor.waitForURL(`${base}/console`), noor.getByRole("button", { name: "Sign in" }).click()]);
  await noor.getByText("Noor Newcomer · agent").waitFor();
  await other.close();

  // The same page at phone width: nothing spills sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at phone width (${overflow}px)`);
  await shot(page, "admin-agents-phone");
  await page.context().close();
});

test("the admin edits a rung's title, and an invalid ladder is refused in the form", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${base}/admin/ladder`);
  const title = page.getByLabel("Title of experienced");
  await title.fill("one of our most experienced colleagues");
  let resp = await submit(page, page.getByRole("button", { name: "Save the ladder" }));
  assert.equal(resp.status(), 303);
  await page.getByRole("status").filter({ hasText: "The ladder was saved." }).waitFor();
  const ladder = await api("GET", "/api/v1/ladder");
  assert.equal(ladder.rungs.find((r) => r.name === "experienced").title, "one of our most experienced colleagues");

  // The top rung may not ask for less than the one below it.
  const top = ladder.rungs.length - 1;
  await page.locator(`#role-${top}`).selectOption("agent");
  await page.locator(`#exp-${top}`).selectOption("junior");
  resp = await submit(page, page.getByRole("button", { name: "Save the ladder" }));
  assert.equal(resp.status(), 422);
  const error = page.getByRole("alert");
  await error.waitFor();
  assert.match(await error.innerText(), /manager/);
  assert.equal(await page.locator(`#role-${top}`).inputValue(), "agent", "the form keeps what was chosen");
  const after = await api("GET", "/api/v1/ladder");
  assert.deepEqual(after, ladder, "nothing was saved");
  await shot(page, "admin-ladder-error");
  await page.context().close();
});

test("the admin edits the business-hours calendar", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${base}/admin/sla`);
  const cal = page.getByRole("region", { name: "Business hours" });
  await cal.getByLabel("Time zone").fill("Mars/Olympus");
  let resp = await submit(page, cal.getByRole("button", { name: "Save the hours" }));
  assert.equal(resp.status(), 422);
  await cal.getByRole("alert").waitFor();
  assert.equal(await cal.getByLabel("Time zone").inputValue(), "Mars/Olympus");

  await cal.getByLabel("Time zone").fill("Europe/Berlin");
  await cal.getByLabel("Saturday").fill("10:00-14:00");
  await cal.getByLabel("Holidays").fill("2026-12-25\n2026-12-26");
  resp = await submit(page, cal.getByRole("button", { name: "Save the hours" }));
  assert.equal(resp.status(), 303);
  await page.getByRole("status").filter({ hasText: "The business hours were saved." }).waitFor();
  const c = await api("GET", "/api/v1/sla/calendar");
  assert.equal(c.time_zone, "Europe/Berlin");
  assert.deepEqual(c.holidays, ["2026-12-25", "2026-12-26"]);
  assert.ok(c.hours.some((h) => h.days.includes("sat") && h.open === "10:00" && h.close === "14:00"), JSON.stringify(c));
  assert.equal(await page.getByLabel("Saturday").inputValue(), "10:00-14:00");
  await shot(page, "admin-sla");
  await page.context().close();
});

test("the admin adds a referral alternative; user text stays text", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${base}/admin/referrals`);
  const add = page.getByRole("region", { name: "Add an alternative" });
  await add.getByLabel("Name").fill("Harbour Bikes <b>repairs</b>");
  await add.getByLabel("What they serve").fill("bicycles, repairs");
  await add.getByLabel("How customers reach them").fill("https://harbour-bikes.example");
  const resp = await submit(page, add.getByRole("button", { name: "Add to the directory" }));
  assert.equal(resp.status(), 303);
  await page.getByRole("status").filter({ hasText: "added to the directory" }).waitFor();
  await page.getByText("Harbour Bikes <b>repairs</b>", { exact: true }).waitFor();
  assert.equal(await page.locator(".alts b").count(), 0, "the name is shown as text, not markup");
  const all = await api("GET", "/api/v1/alternatives");
  const made = all.find((a) => a.name === "Harbour Bikes <b>repairs</b>");
  assert.deepEqual(made.serves, ["bicycles", "repairs"]);
  assert.equal(made.active, true);
  await shot(page, "admin-referrals");
  await page.context().close();
});

test("the admin makes a token, it works once shown, and stops working when revoked", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  await page.goto(`${base}/admin/tokens`);
  const make = page.getByRole("region", { name: "Make a token" });
  await make.getByLabel("Name").fill("reporting script");
  await make.getByLabel("Agent", { exact: true }).selectOption({ label: `Eli Experienced <${AGENT}>` });
  await make.getByLabel("Scope").selectOption("read");
  const resp = await submit(page, make.getByRole("button", { name: "Make the token" }));
  assert.equal(resp.status(), 200);
  const secret = await page.getByLabel("Token (shown once)").inputValue();
  assert.match(secret, /^rct_[0-9a-f]{64}$/);
  const me = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(me.status, 200);
  assert.equal((await me.json()).email, AGENT);
  await shot(page, "admin-token-shown");

  // The list never shows it again.
  await page.goto(`${base}/admin/tokens`);
  assert.equal(await page.getByLabel("Token (shown once)").count(), 0);
  assert.ok(!(await page.content()).includes(secret));
  const row = page.getByRole("row", { name: /reporting script/ });
  await submit(page, row.getByRole("button", { name: "Revoke reporting script" }));
  await page.getByRole("status").filter({ hasText: "revoked" }).waitFor();
  await page.getByRole("row", { name: /reporting script/ }).filter({ hasText: "revoked" }).waitFor();
  const after = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(after.status, 401);
  await shot(page, "admin-tokens");
  await page.context().close();
});

test("every admin page answers on the demo desk (times printed)", async () => {
  const page = await newPage();
  await signIn(page, ADMIN);
  for (const path of ["/admin", "/admin/agents", "/admin/ladder", "/admin/sla", "/admin/mailboxes", "/admin/referrals", "/admin/templates", "/admin/webhooks", "/admin/tokens"]) {
    const t0 = performance.now();
    const r = await page.request.get(`${base}${path}`);
    const ms = performance.now() - t0;
    assert.equal(r.status(), 200, path);
    // A figure, not a threshold: CI machines are too noisy for timing assertions.
    console.log(`admin page ${path}: ${ms.toFixed(1)} ms`);
  }
  await page.goto(`${base}/admin/templates`);
  await page.locator("#t-handoff .preview").waitFor();
  await shot(page, "admin-templates");
  await page.context().close();
});

