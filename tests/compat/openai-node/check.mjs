// The official OpenAI Node client, unchanged, against lmaas serve: models, embeddings (the client's
// default base64 and explicit float), error classes and shapes, auth. Prints one line per check and
// exits 1 on the first failure. Run by tests/e2e/openai_node_test.py:
//   LMAAS_URL=http://127.0.0.1:PORT LMAAS_KEY=... node check.mjs
import OpenAI from "openai";
import assert from "node:assert/strict";

const baseURL = process.env.LMAAS_URL + "/v1";
const client = new OpenAI({ baseURL, apiKey: process.env.LMAAS_KEY, maxRetries: 0 });

async function check(name, fn) {
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    console.log("FAIL " + name + ": " + (e && e.stack ? e.stack : e));
    process.exit(1);
  }
}

await check("models.list pages through /v1/models", async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids.sort(), ["sent-en", "sent-zh"]);
});

await check("models.retrieve", async () => {
  const m = await client.models.retrieve("sent-en");
  assert.equal(m.id, "sent-en");
  assert.equal(m.object, "model");
  assert.equal(m.owned_by, "lmaas");
  assert.equal(typeof m.created, "number");
});

await check("embeddings.create: the client's default (base64) decodes to the floats asked for directly", async () => {
  const b64 = await client.embeddings.create({ model: "sent-en", input: ["good", "bad"] });
  const floats = await client.embeddings.create({ model: "sent-en", input: ["good", "bad"], encoding_format: "float" });
  assert.equal(b64.object, "list");
  assert.equal(b64.data.length, 2);
  assert.equal(b64.data[1].index, 1);
  assert.equal(b64.data[0].object, "embedding");
  assert.equal(b64.data[0].embedding.length, 16);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 16; j++) assert.ok(Math.abs(b64.data[i].embedding[j] - floats.data[i].embedding[j]) < 1e-6);
  assert.equal(b64.usage.prompt_tokens, 7);
  assert.equal(b64.usage.total_tokens, 7);
});

await check("a single string input", async () => {
  const r = await client.embeddings.create({ model: "sent-en", input: "good", encoding_format: "float" });
  assert.equal(r.data.length, 1);
});

await check("unknown model: NotFoundError with the error body's fields", async () => {
  await assert.rejects(client.embeddings.create({ model: "nope", input: "x" }), (e) => {
    assert.ok(e instanceof OpenAI.NotFoundError, e.constructor.name);
    assert.equal(e.status, 404);
    assert.equal(e.code, "model_not_found");
    assert.equal(e.param, "model");
    assert.equal(e.type, "not_found_error");
    assert.ok(e.requestID === undefined || typeof e.requestID === "string");
    return true;
  });
});

await check("bad input: BadRequestError", async () => {
  await assert.rejects(client.embeddings.create({ model: "sent-en", input: [] }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
    assert.equal(e.status, 400);
    assert.equal(e.type, "invalid_request_error");
    return true;
  });
});

await check("wrong key: AuthenticationError", async () => {
  const wrong = new OpenAI({ baseURL, apiKey: "lmaas-wrong", maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e) => {
    assert.ok(e instanceof OpenAI.AuthenticationError, e.constructor.name);
    assert.equal(e.status, 401);
    assert.equal(e.type, "authentication_error");
    return true;
  });
});

await check("rate limit: RateLimitError", async () => {
  const limited = new OpenAI({ baseURL, apiKey: process.env.LMAAS_LIMITED_KEY, maxRetries: 0 });
  await limited.embeddings.create({ model: "sent-en", input: "one" });
  await assert.rejects(limited.embeddings.create({ model: "sent-en", input: "two" }), (e) => {
    assert.ok(e instanceof OpenAI.RateLimitError, e.constructor.name);
    assert.equal(e.status, 429);
    assert.ok(Number(e.headers.get("retry-after")) > 0);
    return true;
  });
});
