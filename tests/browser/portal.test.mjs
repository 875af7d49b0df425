// End-to-end tests of the customer portal in a real browser (see harness.mjs). The desk
// mails for real: `--smtp-relay` points at a tiny SMTP sink in this file, and the
// customer signs in with the link taken out of the email the desk sent.
// Each test saves a screenshot in tests/browser/screenshots/portal-*.png.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { useDesk, api, newPage, shot, base, browser, freePort } from "./harness.mjs";

// ---------- a tiny SMTP sink ----------

const received = []; // { to: [...], data: "raw message" }

// Speaks just enough SMTP for lettre: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT.
function startSink(port) {
  const server = net.createServer((socket) => {
    socket.setEncoding("latin1");
    // Neither the sink nor its connections may keep the test process alive once the
    // tests are done (the runner waits for the file's process to exit).
    socket.unref();
    let buffer = "";
    let inData = false;
    let mail = { to: [], data: "" };
    socket.write("220 sink.test ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk;
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          mail.data = buffer.slice(0, end).replace(/\r\n\.\./g, "\r\n.");
          buffer = buffer.slice(end + 5);
          inData = false;
          received.push(mail);
          mail = { to: [], data: "" };
          socket.write("250 2.0.0 queued\r\n");
          continue;
        }
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250 sink.test\r\n");
        else if (verb === "MAIL") socket.write("250 2.1.0 ok\r\n");
        else if (verb === "RCPT") {
          mail.to.push(line.replace(/^RCPT TO:\s*<?([^>]*)>?.*$/i, "$1"));
          socket.write("250 2.1.5 ok\r\n");
        } else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "RSET" || verb === "NOOP") socket.write("250 ok\r\n");
        else if (verb === "QUIT") {
          socket.end("221 bye\r\n");
          return;
        } else socket.write("502 not here\r\n");
      }
    });
    socket.on("error", () => {});
  });
  return new Promise((ok) => server.listen(port, "127.0.0.1", () => ok(server)));
}

// Quoted-printable soft breaks and escapes, enough to read a link out of a body.
function unQuotedPrintable(s) {
  return s.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

// The first sign-in mail to `address` among those received after the first `since`.
async function mailTo(address, since, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = received.slice(since).filter((m) => m.to.includes(address) && /Subject: Your sign-in link/.test(m.data));
    if (found.length) return found[0];
    if (Date.now() > deadline) throw new Error(`no sign-in mail for ${address} (got ${received.length} mails)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const smtpPort = await freePort();
const sink = await startSink(smtpPort);
sink.unref();
useDesk(["--smtp-relay", `127.0.0.1:${smtpPort}`]);

// ---------- the customers of these tests ----------

const PIA = "pia.portal@example.net";
const OSCAR = "oscar.other@example.net";
let pia; // { open, resolved }

async function setUp() {
  if (pia) return pia;
  const open = await api("POST", "/api/v1/tickets", {
    customer: { email: PIA, name: "Pia Portal" },
    subject: "Blender stopped mid-smoothie",
    body: "My blender stopped working after two weeks.",
  });
  const resolved = await api("POST", "/api/v1/tickets", {
    customer: { email: PIA, name: "Pia Portal" },
    subject: "Late delivery of the juicer",
    body: "The juicer came four days late.",
  });
  await api("POST", `/api/v1/tickets/${resolved.id}/messages`, {
    kind: "reply",
    body: "I'm sorry it was late. I have refunded the delivery charge for you.",
  });
  await api("PATCH", `/api/v1/tickets/${resolved.id}`, { status: "resolved" });
  const oscars = await api("POST", "/api/v1/tickets", {
    customer: { email: OSCAR, name: "Oscar Other" },
    subject: "Oscar's private order",
    body: "Only Oscar should read this.",
  });
  pia = { open, resolved, oscars };
  return pia;
}

// Asks for a link in the browser and follows the one that arrives by email.
async function signInByMail(page, email) {
  const before = received.length;
  await page.goto(`${base}/portal`);
  assert.equal(new URL(page.url()).pathname, "/portal/login", "strangers are sent to sign in");
  await page.getByLabel("Your email address").fill(email);
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  const mail = await mailTo(email, before);
  assert.match(mail.data, /^Auto-Submitted: auto-generated/m, "an automatic message");
  assert.doesNotMatch(mail.data, /\[#\d+\]/, "no ticket reference to answer to");
  const link = unQuotedPrintable(mail.data).match(/https?:\/\/\S+\/portal\/link\/(rpl_[0-9a-f]{64})/);
  assert.ok(link, `a link in the mail:\n${mail.data}`);
  await page.goto(`${base}/portal/link/${link[1]}`);
  await page.getByRole("button", { name: "Sign me in" }).waitFor();
  return link[1];
}

test("a customer signs in with the emailed link and sees only their own requests", async () => {
  const t = await setUp();
  const page = await newPage();
  // Unknown addresses get the very same answer.
  await page.goto(`${base}/portal/login`);
  await page.getByLabel("Your email address").fill("nobody.here@example.net");
  await page.getByRole("button", { name: "Email me a sign-in link" }).click();
  const unknownText = await page.locator("main").innerText();
  await shot(page, "portal-link-sent");

  const token = await signInByMail(page, PIA);
  await shot(page, "portal-confirm");
  await Promise.all([page.waitForURL(`${base}/portal`), page.getByRole("button", { name: "Sign me in" }).click()]);
  const list = page.getByRole("list", { name: "Your requests, newest first" });
  await list.getByRole("link", { name: `#${t.open.number} Blender stopped mid-smoothie` }).waitFor();
  await list.getByRole("link", { name: `#${t.resolved.number} Late delivery of the juicer` }).waitFor();
  assert.equal(await page.getByText("Oscar's private order").count(), 0, "another customer's request is not listed");
  assert.equal(received.filter((m) => m.to.includes("nobody.here@example.net")).length, 0, "no mail to unknown addresses");
  assert.match(unknownText, /If we know this address/);
  await shot(page, "portal-tickets");

  // Someone else's request by its address is simply not there.
  const resp = await page.goto(`${base}/portal/tickets/${t.oscars.id}`);
  assert.equal(resp.status(), 404);
  assert.equal(await page.getByText("Only Oscar should read this.").count(), 0);

  // The link worked once; a second browser cannot use it again.
  const other = await newPage();
  const again = await other.goto(`${base}/portal/link/${token}`);
  assert.equal(again.status(), 410);
  await other.context().close();

  // Customers never reach the console.
  await page.goto(`${base}/console`);
  assert.equal(new URL(page.url()).pathname, "/login");
  await page.context().close();
});

test("a customer opens a request with a file, replies, and answers the survey", async () => {
  const t = await setUp();
  const page = await newPage();
  await signInByMail(page, PIA);
  await Promise.all([page.waitForURL(`${base}/portal`), page.getByRole("button", { name: "Sign me in" }).click()]);

  // New request: subject, what they need, message and an attachment.
  await page.getByRole("navigation", { name: "Portal" }).getByRole("link", { name: "New request" }).click();
  await page.getByLabel("Subject").fill("Kettle lid <b>won't</b> close");
  await page.getByLabel("What do you need from us?").fill("a new lid");
  await page.getByLabel("Your message").fill("The lid springs open while the water boils.");
  await page.getByLabel("Attachments (optional)").setInputFiles({
    name: "lid.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("a photo would go here"),
  });
  await shot(page, "portal-new-request");
  await Promise.all([page.waitForURL(/\/portal\/tickets\/\d+$/), page.getByRole("button", { name: "Send the request" }).click()]);
  await page.getByRole("heading", { name: /Kettle lid <b>won't<\/b> close/ }).waitFor();
  const file = page.getByRole("link", { name: "lid.txt" });
  await file.waitFor();
  const download = await page.context().request.get(new URL(await file.getAttribute("href"), base).href);
  assert.equal(await download.text(), "a photo would go here");
  assert.match(download.headers()["content-disposition"], /^attachment/);
  assert.match(await page.locator("#holder").innerText(), /\S/);
  assert.match(await page.locator("#rung").innerText(), /\S/);

  // A reply from the portal joins the conversation.
  await page.getByLabel("Your message").fill("Here is one more detail: it is the blue model.");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Send", exact: true }).click()]);
  await page.locator(".msg .body", { hasText: "it is the blue model" }).waitFor();
  await shot(page, "portal-ticket");

  // The resolved request asks how we did: product and service apart, and recommend 0–10.
  await page.goto(`${base}/portal/tickets/${t.resolved.id}`);
  await page.getByRole("heading", { name: "How did we do?" }).waitFor();
  const pick = (legend, value) =>
    page.getByRole("group", { name: legend }).getByRole("radio", { name: value, exact: true }).check();
  await pick(/The product itself/, "3");
  await pick(/how pleasant we were/, "5");
  await pick(/how well we knew/, "4");
  await pick(/Would you recommend us/, "9");
  await page.getByLabel("Anything else you want to tell us? (optional)").fill("Quick refund, thank you.");
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Send my answers" }).click()]);
  await page.getByRole("status").filter({ hasText: "your answers are saved" }).waitFor();
  await page.reload();
  assert.ok(await page.getByRole("group", { name: /Would you recommend us/ }).getByRole("radio", { name: "9", exact: true }).isChecked());
  await shot(page, "portal-survey");

  // How long each portal page takes on the demo desk (server plus loopback): printed as
  // a figure, never a threshold — CI machines are too noisy for timing assertions.
  for (const path of ["/portal", `/portal/tickets/${t.resolved.id}`, "/portal/new"]) {
    const started = performance.now();
    const r = await page.context().request.get(base + path);
    const ms = performance.now() - started;
    assert.equal(r.status(), 200, path);
    console.log(`portal page ${path}: ${ms.toFixed(1)} ms`);
  }
  await page.context().close();
});

test("the portal works by keyboard and on a phone-sized screen", async () => {
  await setUp();
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const before = received.length;
  await page.goto(`${base}/portal/login`);
  // The address field has focus (once the page has applied autofocus); typing and Enter
  // send the form.
  await page.waitForFunction(() => document.activeElement?.tagName === "INPUT");
  await page.keyboard.type(PIA);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Check your email" }).waitFor();
  const mail = await mailTo(PIA, before);
  const token = unQuotedPrintable(mail.data).match(/\/portal\/link\/(rpl_[0-9a-f]{64})/)[1];
  await page.goto(`${base}/portal/link/${token}`);
  // The confirm button has focus (autofocus; wait until the page has applied it): Enter
  // signs in.
  await page.waitForFunction(() => document.activeElement?.tagName === "BUTTON");
  await Promise.all([page.waitForURL(`${base}/portal`), page.keyboard.press("Enter")]);
  // Tab order starts with the skip link, then the portal's navigation.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "Skip to the content");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "Support portal");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), "My requests");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow}px too wide)`);
  await shot(page, "portal-phone");
  await context.close();
});
