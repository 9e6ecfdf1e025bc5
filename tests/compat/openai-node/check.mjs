// The official OpenAI Node client, unchanged, against lmaas serve: models, embeddings (the client's
// default base64 and explicit float), completions and chat completions with a generator (stories260K;
// plain and streamed, greedy text checked against llama2.c's reference), error classes and shapes, auth.
// Prints one line per check and exits 1 on the first failure. Run by tests/e2e/openai_node_test.py:
//   LMAAS_URL=http://127.0.0.1:PORT LMAAS_KEY=... LMAAS_LIMITED_KEY=... LMAAS_DATA=... node check.mjs
import OpenAI from "openai";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

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
  assert.deepEqual(ids.sort(), ["sent-en", "sent-zh", "stories"]);
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

const reference = JSON.parse(fs.readFileSync(path.join(process.env.LMAAS_DATA, "models/stories260K/reference/greedy_and_logits.json"), "utf8"));
const greedy = reference.cases[1];  // "Once upon a time"
const nGreedy = greedy.token_ids_after_bos.length - (greedy.prompt_token_ids.length - 1);
const chatRequest = { model: "stories", messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "Tell me a story" }],
                      max_tokens: 24, temperature: 0 };

await check("completions.create: greedy text equals llama2.c's", async () => {
  const r = await client.completions.create({ model: "stories", prompt: greedy.prompt, max_tokens: nGreedy, temperature: 0 });
  assert.equal(r.object, "text_completion");
  assert.equal(r.model, "stories");
  assert.equal(typeof r.id, "string");
  assert.equal(r.choices.length, 1);
  assert.equal(greedy.prompt + r.choices[0].text, greedy.text);
  assert.equal(r.choices[0].finish_reason, "length");
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: nGreedy, total_tokens: 5 + nGreedy });
});

await check("completions.create stream: async iteration over chunks, usage last", async () => {
  const stream = await client.completions.create({ model: "stories", prompt: greedy.prompt, max_tokens: nGreedy, temperature: 0,
                                                   stream: true, stream_options: { include_usage: true } });
  let text = "", n = 0, finish = null, usage = null;
  for await (const chunk of stream) {
    n++;
    assert.equal(chunk.object, "text_completion");
    for (const c of chunk.choices) {
      text += c.text;
      if (c.finish_reason) finish = c.finish_reason;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(n > 10, `${n} chunks`);
  assert.equal(greedy.prompt + text, greedy.text);
  assert.equal(finish, "length");
  assert.equal(usage.completion_tokens, nGreedy);
});

await check("completions.create with logprobs, stop, n and token-id prompts", async () => {
  const r = await client.completions.create({ model: "stories", prompt: [greedy.prompt_token_ids, [1, 291, 400, 428]], max_tokens: 60,
                                              temperature: 0, stop: ["Lily"], logprobs: 2, n: 2 });
  assert.equal(r.choices.length, 4);
  assert.equal(r.choices[0].text, ", there was a little girl named ");
  assert.equal(r.choices[0].finish_reason, "stop");
  assert.equal(r.choices[1].text, r.choices[0].text);  // greedy: both choices alike
  assert.equal(r.choices[0].logprobs.tokens.length, r.choices[0].logprobs.token_logprobs.length);
  assert.equal(Object.keys(r.choices[0].logprobs.top_logprobs[0]).length, 2);
});

let chatText;
await check("chat.completions.create: an assistant message", async () => {
  const r = await client.chat.completions.create({ ...chatRequest, logprobs: true, top_logprobs: 2 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(typeof r.choices[0].message.content, "string");
  assert.ok(["stop", "length"].includes(r.choices[0].finish_reason));
  assert.equal(r.choices[0].logprobs.content.length, r.usage.completion_tokens);
  assert.equal(r.choices[0].logprobs.content[0].top_logprobs.length, 2);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  chatText = r.choices[0].message.content;
});

await check("chat.completions.create stream: role first, then the same content", async () => {
  const stream = await client.chat.completions.create({ ...chatRequest, stream: true });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0].object, "chat.completion.chunk");
  assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
  assert.equal(chunks.map((c) => c.choices[0].delta.content || "").join(""), chatText);
  assert.ok(chunks[chunks.length - 1].choices[0].finish_reason);
});

await check("chat stream helper (chat.completions.stream) and leaving a stream early", async () => {
  const runner = client.chat.completions.stream(chatRequest);
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.content, chatText);
  const stream = await client.completions.create({ model: "stories", prompt: "Once", max_tokens: 200, stream: true });
  let n = 0;
  for await (const chunk of stream) {
    assert.equal(typeof chunk.choices[0].text, "string");
    if (++n === 3) break;  // aborts the request
  }
  assert.equal(n, 3);
});

await check("bad sampling parameters: BadRequestError naming the field", async () => {
  await assert.rejects(client.chat.completions.create({ ...chatRequest, temperature: 3, stream: true }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
    assert.equal(e.param, "temperature");
    return true;
  });
  await assert.rejects(client.completions.create({ model: "sent-en", prompt: "x" }), (e) => {
    assert.ok(e instanceof OpenAI.BadRequestError, e.constructor.name);
    assert.equal(e.code, "wrong_model_task");
    return true;
  });
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
