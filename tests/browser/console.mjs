// The web console in a real browser: Debian's chromium, headless, driven by playwright-core. Signs in,
// reads the models page, classifies a sentence in the playground and checks the rendered result against
// the API's own answer, unloads and loads a model, watches the metrics page and reads usage; screenshots
// of every page go to $SHOTS_DIR. Run by tests/e2e/console_test.py:
//   LMAAS_URL=... LMAAS_ADMIN_KEY=... LMAAS_INFER_KEY=... SHOTS_DIR=... node console.mjs
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import path from "node:path";

const url = process.env.LMAAS_URL, shots = process.env.SHOTS_DIR;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
const consoleErrors = [];
page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
page.on("pageerror", (e) => consoleErrors.push(String(e)));

async function step(name, fn) {
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    console.log("FAIL " + name + ": " + (e && e.stack ? e.stack : e));
    await page.screenshot({ path: path.join(shots, "failure.png"), fullPage: true }).catch(() => {});
    await browser.close();
    process.exit(1);
  }
}
const shot = (name) => page.screenshot({ path: path.join(shots, name + ".png"), fullPage: true });

async function signIn(key) {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

await step("sign-in page; a wrong key is refused with a message", async () => {
  await page.goto(url + "/");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot("sign-in");
  await signIn("lmaas-wrong");
  await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();
});

await step("an admin key signs in to the models page: every model, its state, labels, evaluation", async () => {
  await signIn(process.env.LMAAS_ADMIN_KEY);
  await page.getByRole("heading", { name: "Models" }).waitFor();
  for (const id of ["sent-en", "sent-zh"]) {
    const row = page.locator(`tr[data-model="${id}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /v1\s+ready/);
    assert.match(await row.innerText(), /0, 1/);
    assert.match(await row.innerText(), /accuracy \d+\.\d%/);
  }
  assert.equal(await page.getByRole("link", { name: "Usage" }).isVisible(), true);
  await shot("models");
});

await step("playground: classify a sentence; the bars show the API's probabilities", async () => {
  await page.getByRole("link", { name: "Playground" }).click();
  await page.getByLabel("Model").selectOption("sent-en");
  const sentence = "a fine, moving film with a great cast";
  await page.getByLabel("Text").fill(sentence);
  await page.getByRole("button", { name: "Classify" }).click();
  await page.locator("#label").waitFor();
  const r = await fetch(url + "/v1/classify", { method: "POST", headers: { Authorization: "Bearer " + process.env.LMAAS_ADMIN_KEY },
                                                body: JSON.stringify({ model: "sent-en", input: sentence }) }).then((x) => x.json());
  const expected = r.data[0];
  assert.equal(await page.locator("#label").innerText(), expected.label);
  const rows = page.locator(".bar-row");
  assert.equal(await rows.count(), 2);
  for (const [label, p] of Object.entries(expected.probabilities)) {
    const row = page.locator(`.bar-row[data-label="${label}"]`);
    assert.equal(await row.locator(".bar-value").innerText(), (p * 100).toFixed(1) + "%");
    const width = await row.locator(".bar-fill").evaluate((e) => e.style.width);
    assert.equal(width, (p * 100).toFixed(1) + "%");
  }
  await shot("playground");
});

await step("playground: sentiment routes Chinese text to the Chinese model", async () => {
  await page.getByLabel("Model").selectOption("");
  await page.getByLabel("Text").fill("这家店的菜很好吃");
  await page.getByRole("button", { name: "Classify" }).click();
  await page.locator(".result", { hasText: "sent-zh/1" }).waitFor();
});

await step("models: unload a model, then load it again", async () => {
  await page.getByRole("link", { name: "Models" }).click();
  await page.locator('button[data-action="unload"][data-model="sent-zh"]').click();
  const row = page.locator('tr[data-model="sent-zh"]');
  await row.filter({ hasText: "unavailable" }).waitFor();
  await page.locator('button[data-action="load"][data-model="sent-zh"]').waitFor();
  await shot("models-unloaded");
  await page.locator('button[data-action="load"][data-model="sent-zh"]').click();
  await row.filter({ hasText: "ready" }).waitFor();
  const served = await fetch(url + "/v1/models/sent-zh", { headers: { Authorization: "Bearer " + process.env.LMAAS_ADMIN_KEY } });
  assert.equal(served.status, 200);
});

await step("metrics: live requests/s, latency percentiles, queue depth and batch sizes", async () => {
  await page.getByRole("link", { name: "Metrics" }).click();
  const traffic = setInterval(() => fetch(url + "/v1/classify", { method: "POST", headers: { Authorization: "Bearer " + process.env.LMAAS_INFER_KEY },
                                                                  body: JSON.stringify({ model: "sent-en", input: ["good", "bad"] }) }), 50);
  try {
    await page.locator('[data-metric="rps"] .value').filter({ hasText: /^[1-9]/ }).waitFor({ timeout: 15000 });
    await page.locator('[data-metric="p99"] .value').filter({ hasText: / ms$/ }).waitFor({ timeout: 15000 });
    await page.locator('[data-metric="batch"] .value').filter({ hasText: /texts$/ }).waitFor({ timeout: 15000 });
    assert.equal(await page.locator(".card").count(), 5);
    await page.waitForFunction(() => document.querySelector('[data-metric="rps"] polyline').getAttribute("points").split(" ").length >= 3,
                               null, { timeout: 15000 });  // a line on the chart, not a point
    await shot("metrics");
  } finally {
    clearInterval(traffic);
  }
});

await step("usage: requests per key, model and day, and the keys", async () => {
  await page.getByRole("link", { name: "Usage" }).click();
  await page.locator("#usage tbody tr").first().waitFor();
  assert.match(await page.locator("#usage").innerText(), /sent-en/);
  assert.match(await page.locator("#keys").innerText(), /console-infer/);
  await shot("usage");
});

await step("an infer key sees no management: no Usage link, no load/unload buttons", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(process.env.LMAAS_INFER_KEY);
  await page.locator('tr[data-model="sent-en"]').waitFor();
  assert.equal(await page.getByRole("link", { name: "Usage" }).isVisible(), false);
  assert.equal(await page.locator("button[data-action]").count(), 0);
});

await step("no script errors in the page", async () => {
  // Expected: the refused wrong key (401) and the admin probe of an infer key (GET /v1/keys, 403).
  assert.deepEqual(consoleErrors.filter((e) => !/status of 40[13]/.test(e)), []);
});

await browser.close();
