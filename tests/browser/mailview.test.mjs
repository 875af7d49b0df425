// An email's original formatting in the console (see harness.mjs): a hostile HTML
// message is sent to the desk's own SMTP listener, and the agent opens it in the
// sandboxed frame on the ticket page. Nothing in it may run, and the page around it
// must not move when the frame opens.

import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { useDesk, api, newPage, signIn, shot, base, freePort } from "./harness.mjs";

const smtpPort = await freePort();
useDesk(["--smtp-listen", `127.0.0.1:${smtpPort}`]);

// Speaks just enough SMTP to hand over one message, checking every reply code.
async function sendMail(from, to, message) {
  const socket = net.connect(smtpPort, "127.0.0.1");
  socket.setEncoding("utf8");
  let buffer = "";
  const waiters = [];
  socket.on("data", (d) => {
    buffer += d;
    // A reply is complete at a line whose code is followed by a space.
    const m = buffer.match(/(?:^|\r\n)(\d{3}) [^\r\n]*\r\n/);
    if (m && waiters.length) {
      const reply = buffer;
      buffer = "";
      waiters.shift()(reply);
    }
  });
  const reply = () => new Promise((ok) => waiters.push(ok));
  const expect = async (code, line) => {
    const got = reply();
    if (line !== undefined) socket.write(line + "\r\n");
    const r = await got;
    assert.ok(r.split("\r\n").some((l) => l.startsWith(`${code} `)), `${line ?? "greeting"}: ${r}`);
  };
  await expect(220);
  await expect(250, "EHLO tests.example");
  await expect(250, `MAIL FROM:<${from}>`);
  await expect(250, `RCPT TO:<${to}>`);
  await expect(354, "DATA");
  // Dot-stuffing: a line that starts with a dot gets another.
  const body = message.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
  await expect(250, body + "\r\n.");
  await expect(221, "QUIT");
  socket.end();
}

const HOSTILE = `<html><head><title>Lamp</title>
<style>body { background: url(http://127.0.0.1:9/tracked.png) }</style>
<script>alert("script tag"); window.parent.__pwned = 1</script></head>
<body onload="alert('onload')">
<h2 style="color:#1d4f91;font-family:Georgia,serif">About my lampshade</h2>
<p>The <b>shade</b> arrived <i>dented</i>, see the photo:</p>
<img src="http://127.0.0.1:9/pixel.gif" onerror="alert('onerror')" alt="tracking pixel">
<img src="x" onerror="alert('onerror 2')">
<iframe src="javascript:alert('frame')"></iframe>
<form action="http://127.0.0.1:9/steal"><input name="card" value="1234"><button>Pay</button></form>
<p><a href="javascript:alert('link')">a sneaky link</a> and
<a href="https://shop.example/orders/77">order 77</a>.</p>
<table style="border:1px solid #999" cellpadding="6"><tr><td bgcolor="#eef">Qty</td><td>1</td></tr></table>
<div style="width:expression(alert('css'))">old IE trick</div>
</body></html>`;

test("an email's original formatting opens in a sandboxed frame and nothing in it runs", async () => {
  const subject = `Dented lampshade ${Date.now()}`;
  const raw = [
    "From: Nora Quill <nora.quill@example.net>",
    "To: support@recourse.localhost",
    `Subject: ${subject}`,
    `Message-ID: <lamp-${Date.now()}@example.net>`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/alternative; boundary="alt"',
    "",
    "--alt",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The shade arrived dented.",
    "--alt",
    "Content-Type: text/html; charset=utf-8",
    "",
    HOSTILE,
    "--alt--",
    "",
  ].join("\r\n");
  await sendMail("nora.quill@example.net", "support@recourse.localhost", raw);

  // The listener stores the message first and reads it just after.
  let ticket;
  for (let i = 0; i < 100 && !ticket; i++) {
    const found = await api("GET", `/api/v1/tickets?q=${encodeURIComponent("lampshade")}`);
    ticket = found.tickets.find((t) => t.subject === subject);
    if (!ticket) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(ticket, "the email became a ticket");

  const page = await newPage();
  const frameLoads = [];
  page.on("response", (r) => {
    if (r.url().includes("/console/mail/")) frameLoads.push(r);
  });
  await signIn(page);
  await page.goto(`${base}/console/tickets/${ticket.id}`);
  const message = page.locator(".msg.k-inbound").first();
  await message.locator(".body", { hasText: "The shade arrived dented." }).waitFor();
  const frame = message.locator("iframe");
  assert.equal(await frame.getAttribute("sandbox"), "allow-popups allow-popups-to-escape-sandbox");
  assert.equal(await frame.isVisible(), false, "closed until asked for");
  // The composer below must stay where it is when the frame opens: the details grow
  // by the frame's reserved height, once, and the frame itself never resizes.
  const summary = page.getByText("Show the original formatting");
  await summary.click();
  await frame.waitFor({ state: "visible" });
  const box = await frame.boundingBox();
  assert.equal(Math.round(box.height), 420, "the frame's size is reserved up front");

  const inner = page.frameLocator(`.msg.k-inbound iframe`).first();
  await inner.getByText("About my lampshade").waitFor();
  assert.equal(await inner.locator("b").first().textContent(), "shade");
  assert.equal(await inner.getByText("Remote images are not loaded", { exact: false }).count(), 1);
  assert.equal(await inner.locator("script, iframe, form, input, button, img[src], style").count(), 0);
  assert.equal(await inner.locator("[onload], [onerror], [onclick]").count(), 0);
  const safe = inner.getByRole("link", { name: "order 77" });
  assert.equal(await safe.getAttribute("href"), "https://shop.example/orders/77");
  assert.equal(await safe.getAttribute("target"), "_blank");
  assert.equal(await safe.getAttribute("rel"), "noopener noreferrer");
  assert.equal(await inner.getByText("a sneaky link").getAttribute("href"), null);
  assert.equal(await inner.locator("td[bgcolor]").count(), 1, "table formatting is kept");
  const h2 = await inner.locator("h2").getAttribute("style");
  assert.ok(h2.includes("color:#1d4f91"), h2);

  // The frame is its own origin: the console page cannot reach into it, nor it out.
  const reach = await page.evaluate(() => {
    const f = document.querySelector(".msg.k-inbound iframe");
    return { doc: f.contentDocument === null, pwned: window.__pwned === undefined };
  });
  assert.deepEqual(reach, { doc: true, pwned: true });

  assert.equal(frameLoads.length, 1, "the frame loaded once");
  const res = frameLoads[0];
  assert.equal(res.status(), 200);
  const headers = await res.allHeaders();
  assert.ok(headers["content-security-policy"].startsWith("sandbox"), headers["content-security-policy"]);
  assert.ok(headers["content-security-policy"].includes("frame-ancestors 'self'"));
  assert.equal(headers["referrer-policy"], "no-referrer");
  await message.scrollIntoViewIfNeeded();
  await shot(page, "mail-original-formatting");
  await page.context().close();
});
