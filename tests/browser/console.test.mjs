// End-to-end tests of the agent console in a real browser (see harness.mjs).
// Each test saves a screenshot in tests/browser/screenshots/.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useDesk, api, newPage, signIn, shot, base } from "./harness.mjs";

useDesk();

test("an agent signs in and sees the queues with counts", async () => {
  const page = await newPage();
  await page.goto(`${base}/console`);
  assert.equal(new URL(page.url()).pathname, "/login", "strangers are sent to sign in");
  await signIn(page);
  const tabs = page.getByRole("navigation", { name: "Queues" });
  for (const name of ["Mine", "My rung", "Unassigned", "Waiting on customer"]) {
    await tabs.getByRole("link", { name: new RegExp(`^${name} \\d+\\+?$`) }).waitFor();
  }
  await shot(page, "console-queue", false);
  await page.context().close();
});

test("reply with the coach, log an intervention, escalate with the handoff draft", async () => {
  const t = await api("POST", "/api/v1/tickets", {
    customer: { email: "sam.parcel@example.net", name: "Sam Parcel" },
    subject: "Late again",
    body: "My order is late again and I am really annoyed. This is unacceptable.",
    need: "the parcel before Friday",
  });
  const page = await newPage();
  await signIn(page);
  // Find it the way an agent would: search from the queues.
  await page.getByLabel("Search tickets").fill("annoyed unacceptable");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: `#${t.number} Late again` }).click();
  await page.getByRole("heading", { name: `#${t.number} Late again` }).waitFor();
  assert.equal(await page.locator(".msg.k-inbound .badge").count(), 1, "the inbound message has a demeanor badge");

  // A defensive draft: the coach flags it while the agent types.
  const reply = page.getByLabel("Your message");
  await reply.fill("That's not our fault, you should have read the terms. Contact the courier.");
  const flags = page.locator("#coach [data-coach=flags]");
  await flags.waitFor();
  const flagText = await flags.innerText();
  assert.match(flagText, /Sounds like blame/);
  assert.equal(await page.locator('#coach [data-flag="blames_customer"]').count(), 1);
  await shot(page, "console-coach");

  // The agent rewrites it; the flags go away.
  const better =
    "I'm sorry your parcel is late again, that is frustrating. I can send a replacement by express today so it reaches you before Friday; I will email you the tracking number by 5pm.";
  await reply.fill(better);
  await page.locator("#coach [data-coach=clear]").waitFor();
  assert.equal(await flags.count(), 0);
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Send", exact: true }).click()]);
  await page.locator(".msg.k-reply .body", { hasText: "send a replacement by express" }).waitFor();

  // Log what was done: two fields and a click.
  await page.getByLabel("Kind").selectOption("replacement");
  await page.getByLabel("What was done").fill("Express replacement sent, tracking by email");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Log it" }).click()]);
  await page.locator(".interventions li", { hasText: "Express replacement sent" }).waitFor();

  // Escalate: the draft tells the customer what was tried and who takes over.
  await page.getByLabel("Why", { exact: true }).selectOption("customer_request");
  await page.getByRole("button", { name: "Escalate…" }).click();
  const draft = page.getByLabel("Message to the customer");
  await draft.waitFor();
  const text = await draft.inputValue();
  assert.ok(text.length > 40, `a real draft: ${text}`);
  await draft.fill(`${text}\n\nP.S. I have passed on your tracking details too.`);
  await page.locator("#escalate-panel").scrollIntoViewIfNeeded();
  await shot(page, "console-handoff");
  await Promise.all([
    page.waitForEvent("load"),
    page.getByRole("button", { name: "Send the handoff and escalate" }).click(),
  ]);
  await page.locator(".meta .pill", { hasText: "rung: experienced" }).waitFor();
  await page.locator(".msg.k-reply .body", { hasText: "I have passed on your tracking details too" }).waitFor();
  const after = await api("GET", `/api/v1/tickets/${t.id}`);
  assert.equal(after.rung, "experienced");
  assert.equal(after.interventions.length, 1);

  // Every control is labelled, and the page fits a phone without sideways scrolling.
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((e) => e.labels.length === 0 && !e.getAttribute("aria-label"))
      .map((e) => e.name),
  );
  assert.deepEqual(unlabelled, []);
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `wider than a phone by ${overflow}px`);
  await shot(page, "phone-ticket");
  await page.context().close();
});

test("a transfer needs the customer line", async () => {
  const t = await api("POST", "/api/v1/tickets", {
    customer: { email: "kim.router@example.net" },
    subject: "Which team handles invoices?",
    body: "Hello, I need a copy of last month's invoice.",
    need: "a copy of the invoice",
  });
  const page = await newPage();
  await signIn(page);
  await page.goto(`${base}/console/tickets/${t.id}`);
  await page.locator("summary", { hasText: "Transfer" }).click();
  await page.getByLabel("Or to a rung").selectOption("experienced");
  // The browser itself holds the empty form back (required); the server says the same.
  await page.getByRole("button", { name: "Transfer" }).click();
  assert.equal(await page.getByLabel("What we tell the customer (required)").evaluate((e) => e.validity.valueMissing), true);
  await page.getByLabel("What we tell the customer (required)").fill("A colleague who looks after invoices takes this over and writes to you today.");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Transfer" }).click()]);
  await page.locator(".meta .pill", { hasText: "rung: experienced" }).waitFor();
  await shot(page, "transfer");
  await page.context().close();
});

const INJECTION = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><b class="injected">bold</b><iframe src="javascript:alert(1)"></iframe>`;

// Nothing the customer wrote may turn into markup: no injected elements, no script run.
async function assertInert(page, where) {
  const found = await page.evaluate(() => ({
    pwned: window.__pwned,
    inlineScripts: document.querySelectorAll("script:not([src])").length,
    injected: document.querySelectorAll('img[src="x"], b.injected, iframe').length,
  }));
  assert.deepEqual(found, { pwned: undefined, inlineScripts: 0, injected: 0 }, where);
}

test("script and HTML in a ticket render inert in every view", async () => {
  const t = await api("POST", "/api/v1/tickets", {
    customer: { email: "mallory@example.net", name: `Mallory ${INJECTION}` },
    subject: `Refund ${INJECTION}`,
    body: `Please help ${INJECTION} "quoted" & 'single'`,
    need: `a refund ${INJECTION}`,
    tags: ["xss"],
  });
  const page = await newPage();
  await signIn(page);

  await page.goto(`${base}/console?q=Refund`);
  await page.getByText(`#${t.number} Refund <script>`).waitFor();
  await assertInert(page, "search results");

  await page.goto(`${base}/console/tickets/${t.id}`);
  await page.getByRole("heading", { name: `#${t.number} Refund <script>window.__pwned = 1</script>`, exact: false }).waitFor();
  assert.ok((await page.locator(".msg.k-inbound .body").innerText()).includes('<img src=x onerror="window.__pwned = 2">'));
  assert.equal(await page.getByLabel("What the customer needs").inputValue(), `a refund ${INJECTION}`);
  await assertInert(page, "ticket page");

  // The coach quotes the draft back; the handoff draft quotes the ticket.
  await page.getByLabel("Your message").fill(`You should have read the terms ${INJECTION}`);
  await page.locator("#coach [data-coach=flags]").waitFor();
  await assertInert(page, "coach flags");
  await page.getByRole("button", { name: "Escalate…" }).click();
  await page.getByLabel("Message to the customer").waitFor();
  await assertInert(page, "handoff draft");
  await shot(page, "xss-inert");

  // Take it, and it shows in the agent's own queue, still inert.
  if (await page.getByRole("button", { name: "Take it" }).count()) {
    await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Take it" }).click()]);
  }
  await page.goto(`${base}/console?view=mine`);
  await page.getByText(`#${t.number} Refund <script>`).waitFor();
  await assertInert(page, "my queue");
  await page.context().close();
});

test("a manager sees what waits on them and the reports draw their charts", async () => {
  const page = await newPage();
  await signIn(page, "maria@demo.recourse.test");
  await page.getByRole("link", { name: "Manage" }).click();
  await page.getByRole("heading", { name: "What needs a manager" }).waitFor();
  await page.getByRole("heading", { name: "Agents: load and presence" }).waitFor();
  assert.ok((await page.locator("table").innerText()).includes("Eli Experienced"));
  await shot(page, "manager");
  await page.getByRole("link", { name: "Reports" }).click();
  await page.locator("body[data-charts=drawn]").waitFor();
  assert.equal(await page.locator("canvas").count(), 4);
  await assertInert(page, "reports");
  await shot(page, "reports");
  await page.context().close();

  // Agents get no manager screens.
  const agent = await newPage();
  await signIn(agent);
  assert.equal(await agent.getByRole("link", { name: "Manage" }).count(), 0);
  await agent.goto(`${base}/console/manage`);
  await agent.getByRole("alert").filter({ hasText: "manager" }).waitFor();
  await agent.context().close();
});

test("an abusive message stays hidden until revealed; the manager refers the case", async () => {
  const t = await api("POST", "/api/v1/tickets", {
    customer: { email: "rude.customer@example.net" },
    subject: "Refund",
    body: "You are a useless idiot and so is your manager.",
  });
  assert.equal(t.rung, "manager", "abuse goes to a manager");
  const page = await newPage();
  await signIn(page, "maria@demo.recourse.test");
  await page.goto(`${base}/console/tickets/${t.id}`);
  const first = page.locator(".msg.k-inbound").first();
  await first.locator(".masked").waitFor();
  assert.ok(!(await first.innerText()).includes("useless idiot"));
  await page.getByRole("button", { name: "Hand this case on" }).waitFor();
  await first.getByRole("button", { name: "Show the message anyway" }).click();
  await page.locator(".msg.k-inbound .body", { hasText: "useless idiot" }).waitFor();
  await shot(page, "revealed");

  // The manager's last stand: refer the customer to someone who can serve them.
  const alt = await api("POST", "/api/v1/alternatives", {
    name: "Parcel Ombudsman",
    serves: ["refunds"],
    contact: "https://ombudsman.example.org",
  });
  await page.reload();
  await page.locator("summary", { hasText: "Refer to someone who can help" }).click();
  await page.getByLabel("Refer to").selectOption(String(alt.id));
  await page.getByLabel("Why they can serve the customer better").fill("They settle refund disputes independently and can order a payout.");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Refer and close" }).click()]);
  await page.locator(".msg.k-reply .body", { hasText: "Parcel Ombudsman" }).waitFor();
  const after = await api("GET", `/api/v1/tickets/${t.id}`);
  assert.equal(after.outcome, "referred");
  await shot(page, "referred");
  await page.context().close();
});
