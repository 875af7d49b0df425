// The console's second round (see harness.mjs): canned replies in the composer, the
// collision notice between two agents, keyboard shortcuts, the breaching-soon queue,
// deciding a can't-help review from the manager page, and the reports' CSV downloads.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { useDesk, api, newPage, signIn, shot, base } from "./harness.mjs";

useDesk();

const MARIA = "maria@demo.recourse.test";

async function ticket(subject, extra = {}) {
  return api("POST", "/api/v1/tickets", {
    customer: { email: `${subject.toLowerCase().replace(/\W+/g, ".")}@example.net`, name: "Robin Vale" },
    subject,
    body: "My order has still not arrived and I need it for the weekend.",
    ...extra,
  });
}

test("a canned reply goes into the composer, filled in for this ticket, and the coach reads it", async () => {
  const t = await ticket("Parcel lost", { need: "the parcel before Saturday" });
  const page = await newPage();
  await signIn(page);
  await page.goto(`${base}/console/tickets/${t.id}`);
  const area = page.getByLabel("Your message");
  await area.fill("First line I typed.");
  await page.getByLabel("Start from a canned reply").selectOption({ label: "Late parcel: replacement or refund" });
  await page.getByRole("button", { name: "Insert" }).click();
  await page.waitForFunction(() => document.getElementById("reply-body").value.includes("Hello Robin Vale"));
  const text = await area.inputValue();
  assert.ok(text.startsWith("First line I typed.\n\nHello Robin Vale,"), text);
  assert.ok(!text.includes("{{"), "every variable is filled in");
  assert.ok(text.includes("Eli Experienced"), "signed by the agent");
  assert.equal(new URL(page.url()).pathname, `/console/tickets/${t.id}`, "inserted without leaving the page");
  // The coach reads the inserted text like typed text.
  await page.locator("#coach [data-coach]").waitFor();
  await shot(page, "canned-reply");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Send" }).click()]);
  await page.locator(".msg.k-reply .body", { hasText: "send a replacement by express delivery" }).waitFor();

  // Without script the picker still works: the page comes back with the text in place.
  const plain = await page.context().browser().newContext({ javaScriptEnabled: false });
  const p2 = await plain.newPage();
  await signIn(p2);
  await p2.goto(`${base}/console/tickets/${t.id}`);
  await p2.getByLabel("Start from a canned reply").selectOption({ label: "Confirming the need and the next step" });
  await Promise.all([p2.waitForEvent("load"), p2.getByRole("button", { name: "Insert" }).click()]);
  assert.ok((await p2.getByLabel("Your message").inputValue()).includes("what you need is the parcel before Saturday"));
  await plain.close();
  await page.context().close();
});

test("two agents on one ticket see each other, and who is replying", async () => {
  const t = await ticket("Two at once");
  const eli = await newPage();
  const maria = await newPage();
  await signIn(eli);
  await signIn(maria, MARIA);
  await eli.goto(`${base}/console/tickets/${t.id}`);
  const heading = eli.getByRole("heading", { name: "Reply", exact: true });
  await heading.waitFor();
  const before = await heading.boundingBox();
  await maria.goto(`${base}/console/tickets/${t.id}`);
  await maria.locator("#presence", { hasText: "Eli Experienced is also viewing this ticket." }).waitFor();
  // Eli hears of Maria on his next poll (every 7 s).
  await eli.locator("#presence", { hasText: "is also viewing this ticket." }).waitFor({ timeout: 12_000 });
  const notice = await eli.locator("#presence").innerText();
  assert.match(notice, /Maria Manager is also viewing this ticket\./);
  const after = await heading.boundingBox();
  assert.equal(after.y, before.y, "the notice's space was reserved: nothing moved");

  await maria.getByLabel("Your message").pressSequentially("Hello, I am looking into this now");
  await eli.locator("#presence", { hasText: "is replying to this ticket right now." }).waitFor({ timeout: 12_000 });
  await shot(eli, "collision");
  // Maria moves on (her page says goodbye as it goes); Eli's notice clears on his next poll.
  await maria.goto(`${base}/console`);
  await maria.context().close();
  await eli.waitForFunction(() => document.getElementById("presence").innerText.trim() === "", null, { timeout: 12_000 });
  await eli.context().close();
});

test("keyboard shortcuts: the help list, moving in the queue, opening, replying", async () => {
  const t = await ticket("Shortcut case");
  const page = await newPage();
  await signIn(page);
  await page.goto(`${base}/console?view=rung`);
  await page.locator(".queue > li").first().waitFor();
  await page.keyboard.press("?");
  const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await dialog.waitFor();
  assert.ok((await dialog.innerText()).includes("next / previous ticket"));
  await shot(page, "shortcuts", false);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  // The button in the header opens the same list.
  await page.getByRole("button", { name: /Keyboard shortcuts/ }).click();
  await dialog.waitFor();
  await dialog.getByRole("button", { name: "Close" }).click();
  await dialog.waitFor({ state: "hidden" });

  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  const chosen = page.locator(".queue > li.kb-current");
  assert.equal(await chosen.count(), 1);
  assert.equal(await page.locator(".queue > li").first().evaluate((li) => li.classList.contains("kb-current")), true);
  const href = await chosen.locator("a.subject").getAttribute("href");
  await Promise.all([page.waitForURL(`${base}${href}`), page.keyboard.press("o")]);

  await page.goto(`${base}/console/tickets/${t.id}`);
  await page.keyboard.press("r");
  const area = page.getByLabel("Your message");
  assert.equal(await page.evaluate(() => document.activeElement.id), "reply-body");
  // Typing in a field never fires a shortcut.
  await area.pressSequentially("jk?/");
  assert.equal(await area.inputValue(), "jk?/");
  assert.equal(await dialog.isVisible(), false);
  await page.locator("main").click({ position: { x: 2, y: 2 } });
  await page.keyboard.press("n");
  assert.equal(await page.locator("input[name=kind][value=note]").isChecked(), true);
  await page.locator("main").click({ position: { x: 2, y: 2 } });
  await page.keyboard.press("/"); // no search box on a ticket: nothing happens
  await page.keyboard.press("g");
  await page.waitForURL(`${base}/console`);
  await page.keyboard.press("/");
  assert.equal(await page.evaluate(() => document.activeElement.id), "q");
  await page.context().close();
});

test("the breaching-soon queue holds the tickets whose clock runs out first", async () => {
  // Round the clock, so an urgent ticket's 30-minute first response is due now.
  await api("PUT", "/api/v1/sla/calendar", {
    time_zone: "UTC",
    hours: [{ days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open: "00:00", close: "24:00" }],
  });
  const urgent = await ticket("Urgent and late", { priority: "urgent" });
  const page = await newPage();
  await signIn(page);
  const tab = page.getByRole("navigation", { name: "Queues" }).getByRole("link", { name: /^Breaching soon \d+\+?$/ });
  await tab.click();
  await page.getByRole("heading", { name: "Breaching soon", level: 1 }).waitFor();
  const row = page.locator(".queue > li", { hasText: `#${urgent.number} Urgent and late` });
  await row.waitFor();
  assert.match(await row.innerText(), /due in \d+m/);
  const count = Number((await tab.innerText()).match(/(\d+)/)[1]);
  assert.equal(await page.locator(".queue > li").count(), Math.min(count, 50));
  await page.getByRole("navigation", { name: "Queues" }).getByRole("link", { name: /^Flagged \d+\+?$/ }).waitFor();
  await shot(page, "breaching-soon");
  await page.context().close();
});

test("a manager decides can't-help reviews right on the manage page", async () => {
  const justify = "Our insurer forbids shipping batteries abroad and no courier will take them.";
  const back = await ticket("Battery abroad");
  const ok = await ticket("Battery abroad again");
  for (const t of [back, ok]) {
    await api("POST", `/api/v1/tickets/${t.id}/cant-help`, {
      reason: "law_or_regulation",
      explanation: "Lithium batteries may not be shipped to your country by law.",
      no_partial_justification: justify,
    });
  }
  const page = await newPage();
  await signIn(page, MARIA);
  await page.goto(`${base}/console/manage`);
  const form = (t) => page.getByRole("form", { name: `Decide the review of #${t.number}` });
  await form(back).waitFor();
  await shot(page, "review-decide");

  // Sending back needs a note for the agent.
  await form(back).getByRole("button", { name: "Send back to the agent" }).click();
  await form(back).locator(".errors", { hasText: "Say what is missing" }).waitFor();
  await form(back).getByLabel("Note for the agent").fill("Offer the charger on its own: that can ship.");
  await Promise.all([page.waitForEvent("load"), form(back).getByRole("button", { name: "Send back to the agent" }).click()]);
  await form(ok).getByRole("button", { name: "Approve and send" }).waitFor();
  assert.equal(await form(back).count(), 0, "decided reviews leave the list");
  const [record] = await api("GET", `/api/v1/tickets/${back.id}/cant-help`);
  assert.equal(record.state, "returned");

  await Promise.all([page.waitForEvent("load"), form(ok).getByRole("button", { name: "Approve and send" }).click()]);
  assert.equal(await form(ok).count(), 0);
  const approved = await api("GET", `/api/v1/tickets/${ok.id}`);
  assert.equal(approved.status, "resolved");
  await page.context().close();
});

test("each report table downloads as CSV for the chosen range and team", async () => {
  const page = await newPage();
  await signIn(page, MARIA);
  await page.goto(`${base}/console/reports`);
  await page.getByLabel("Team").selectOption({ label: "Customer Care" });
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Show" }).click()]);
  assert.match(page.url(), /team=\d+/);
  for (const [link, header] of [
    ["Download the figures (CSV)", "figure,value"],
    ["Download the outcomes (CSV)", "outcome,tickets"],
    ["Download the escalations (CSV)", "to_rung,reason,escalations"],
  ]) {
    const a = page.getByRole("link", { name: link });
    assert.match(await a.getAttribute("href"), /\.csv\?from=.*&to=.*&team=\d+$/);
    const [download] = await Promise.all([page.waitForEvent("download"), a.click()]);
    assert.match(download.suggestedFilename(), /^recourse-\w+-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d-team\d+\.csv$/);
    const text = readFileSync(await download.path(), "utf8");
    const lines = text.split("\r\n");
    assert.equal(lines[0], header);
    assert.equal(lines.at(-1), "", "every line ends with CRLF");
    if (header === "figure,value") assert.ok(lines.length > 10, "every figure has a row");
  }
  const r = await page.request.get(`${base}/console/reports/outcomes.csv`);
  assert.equal(r.status(), 200);
  assert.match(r.headers()["content-type"], /^text\/csv/);
  assert.match(r.headers()["content-disposition"], /^attachment; filename="recourse-outcomes-/);
  assert.equal((await page.request.get(`${base}/console/reports/secrets.csv`)).status(), 404);
  await shot(page, "reports-csv");
  await page.context().close();

  // Agents get no downloads.
  const agent = await newPage();
  await signIn(agent);
  const refused = await agent.request.get(`${base}/console/reports/outcomes.csv`);
  assert.equal(refused.status(), 403);
  await agent.context().close();
});
