// The web console in a real browser: Debian's chromium, headless, driven by playwright-core. Signs in,
// reads the models page, classifies a sentence in the playground and checks the rendered result against
// the API's own answer, streams a greedy completion from a generator (stories260K) and checks it against
// llama2.c's reference text, chats, stops a long generation midway, unloads and loads a model, watches the
// metrics page and reads usage; screenshots of every page go to $SHOTS_DIR. Run by tests/e2e/console_test.py:
//   LMAAS_URL=... LMAAS_ADMIN_KEY=... LMAAS_INFER_KEY=... LMAAS_DATA=... SHOTS_DIR=... node console.mjs
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import fs from "node:fs";
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
  await page.getByLabel("Model", { exact: true }).selectOption("sent-en");
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
  await page.getByLabel("Model", { exact: true }).selectOption("");
  await page.getByLabel("Text").fill("这家店的菜很好吃");
  await page.getByRole("button", { name: "Classify" }).click();
  await page.locator(".result", { hasText: "sent-zh/1" }).waitFor();
});

const reference = JSON.parse(fs.readFileSync(path.join(process.env.LMAAS_DATA, "models/stories260K/reference/greedy_and_logits.json"), "utf8"));
const adminFetch = (p, body) => fetch(url + p, { method: body ? "POST" : "GET", body: body && JSON.stringify(body),
                                                 headers: { Authorization: "Bearer " + process.env.LMAAS_ADMIN_KEY } });

await step("playground: a generator streams a greedy completion equal to llama2.c's text", async () => {
  const c = reference.cases[1];  // "Once upon a time", greedy
  const n = c.token_ids_after_bos.length - (c.prompt_token_ids.length - 1);
  await page.getByLabel("Model", { exact: true }).selectOption("stories");
  assert.match(await page.locator("#panel").innerText(), /context 512 tokens/);
  await page.getByLabel("Max tokens").fill(String(n));
  await page.getByLabel("Temperature").fill("0");
  await page.getByLabel("Prompt").fill(c.prompt);
  await page.getByRole("button", { name: "Generate" }).click();
  await page.locator("#generation-status").filter({ hasText: /^done/ }).waitFor();
  assert.equal(c.prompt + await page.locator("#completion").textContent(), c.text);
  assert.match(await page.locator("#generation-status").innerText(), new RegExp(`^done: ${n} tokens .*finish reason length`));
  await shot("playground-generate");
});

await step("playground: chat with a generator; the reply is the API's own", async () => {
  await page.locator("#mode").selectOption("chat");
  await page.getByLabel("Temperature").fill("0");
  await page.getByLabel("Max tokens").fill("24");
  await page.getByLabel("Message").fill("Tell me a story");
  await page.getByRole("button", { name: "Send" }).click();
  await page.locator("#generation-status").filter({ hasText: /^done/ }).waitFor();
  const r = await adminFetch("/v1/chat/completions", { model: "stories", messages: [{ role: "user", content: "Tell me a story" }],
                                                       max_tokens: 24, temperature: 0 }).then((x) => x.json());
  assert.equal(await page.locator('.msg[data-role="user"] .content').innerText(), "Tell me a story");
  assert.equal(await page.locator('.msg[data-role="assistant"] .content').textContent(), r.choices[0].message.content);
  await shot("playground-chat");
});

await step("playground: tokens appear as they are generated, and Stop ends the generation on the server", async () => {
  const metric = async (name) => {
    const m = (await (await adminFetch("/metrics")).text()).match(new RegExp(`^${name}\\{model="slow"\\} (\\S+)$`, "m"));
    return m ? Number(m[1]) : 0;
  };
  await page.getByLabel("Model", { exact: true }).selectOption("slow");
  await page.getByLabel("Max tokens").fill("2000");
  await page.getByLabel("Temperature").fill("0");
  await page.getByLabel("Prompt").fill("Once");
  const before = await metric("lmaas_llm_generated_tokens_total");
  await page.getByRole("button", { name: "Generate" }).click();
  const completion = page.locator("#completion");
  await page.waitForFunction(() => document.querySelector("#completion").textContent.length > 0);
  const early = (await completion.textContent()).length;
  await page.waitForFunction((k) => document.querySelector("#completion").textContent.length > k, early);  // still growing
  assert.equal(await page.getByRole("button", { name: "Generate" }).isDisabled(), true);
  await page.getByRole("button", { name: "Stop" }).click();
  await page.locator("#generation-status").filter({ hasText: /^stopped$/ }).waitFor();
  for (let i = 0; i < 200 && await metric("lmaas_llm_running_sequences") > 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await metric("lmaas_llm_running_sequences"), 0);
  assert.ok(await metric("lmaas_llm_generated_tokens_total") - before < 1000, "the server went on generating");
  assert.equal(await page.getByRole("button", { name: "Generate" }).isDisabled(), false);
  await shot("playground-stopped");
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
