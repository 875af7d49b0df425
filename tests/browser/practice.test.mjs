// The practice desk (see harness.mjs): an agent picks a made-up customer, writes a reply,
// sees the coach's verdict and the example answer, and finds the attempt in their
// progress; bad input is refused in words; a manager sees the team's practice together.

import { test } from "node:test";
import assert from "node:assert/strict";
import { useDesk, api, newPage, signIn, shot, base } from "./harness.mjs";

useDesk();

const MARIA = "maria@demo.recourse.test";

async function sofa() {
  const all = await api("GET", "/api/v1/practice/scenarios");
  assert.ok(all.length >= 40, `${all.length} scenarios`);
  return all.find((s) => s.slug === "fr-late-sofa");
}

test("an agent completes a practice scenario end to end", async () => {
  const scenario = await sofa();
  const page = await newPage();
  await signIn(page);
  await page.getByRole("link", { name: "Practice", exact: true }).click();
  await page.waitForURL(`${base}/console/practice`);
  await page.getByText("You have not practised yet").waitFor();
  await page.getByRole("link", { name: scenario.subject }).click();
  await page.waitForURL(`${base}/console/practice/${scenario.id}`);
  assert.equal(await page.locator("#customer-message").textContent(), scenario.customer_message);
  assert.equal(await page.locator("#customer-need").textContent(), scenario.need);

  await page.getByLabel("Your reply").fill(
    "I'm sorry, you took a day off for us twice and we let you down. I have booked your sofa on the first van this Thursday between 8 and 10 am, and I can refund the delivery charge today.",
  );
  await page.getByRole("button", { name: "Score my reply" }).click();
  await page.locator("#verdict").waitFor();
  const score = Number(await page.locator("#score").textContent());
  assert.ok(score >= 60, `score ${score}`);
  assert.equal(await page.locator("#example-answer").textContent(), scenario.example_answer);
  await page.getByText("What a good answer offers").waitFor();
  await shot(page, "practice-verdict");

  // The attempt is in the agent's own progress.
  await page.getByRole("link", { name: "Back to all scenarios" }).click();
  await page.waitForURL(`${base}/console/practice`);
  const recent = page.locator(".practice-recent tbody tr");
  assert.equal(await recent.count(), 1);
  assert.match(await recent.first().textContent(), new RegExp(scenario.subject));
  await page.getByRole("cell", { name: "1", exact: true }).first().waitFor();
  await shot(page, "practice-progress");
});

test("an empty reply and an unknown scenario are refused in words", async () => {
  const scenario = await sofa();
  const page = await newPage();
  await signIn(page);
  await page.goto(`${base}/console/practice/${scenario.id}`);
  await page.getByRole("button", { name: "Score my reply" }).click();
  const error = page.locator("#practice-error");
  await error.waitFor();
  assert.match(await error.textContent(), /Write a reply/);
  assert.equal(await page.locator("#verdict").count(), 0);

  const r = await page.goto(`${base}/console/practice/987654`);
  assert.equal(r.status(), 404);
  await page.getByRole("alert").waitFor();
});

test("a manager sees the team's practice together, not by person", async () => {
  const page = await newPage();
  await signIn(page, MARIA);
  await page.goto(`${base}/console/practice`);
  await page.getByRole("link", { name: "See the team's practice" }).click();
  await page.waitForURL(`${base}/console/practice/team`);
  const attempts = Number(await page.locator("#team-attempts").textContent());
  assert.ok(attempts >= 1, `${attempts} attempts`);
  const text = await page.locator("main").textContent();
  assert.ok(!text.includes("Eli"), "no agent is named");
  await shot(page, "practice-team");
});
