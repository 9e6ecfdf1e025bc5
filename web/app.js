// The lmaas console: sign in with an API key, models (load/unload for admins), a playground (classify,
// sentiment, translate; for generators a prompt or a chat whose tokens stream in as they are generated),
// live metrics, usage per key (admins). Plain DOM code, no dependencies; every value from the server goes
// in as text (textContent), never as markup.
"use strict";

const state = { key: sessionStorage.getItem("lmaas-key") || "", admin: sessionStorage.getItem("lmaas-admin") === "1" };
const $ = (sel) => document.querySelector(sel);

// el("td", {class: "x"}, "text", child...) -> an element; strings become text nodes.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || "HTTP " + status);
    this.status = status;
    this.code = e.code;
  }
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (state.key) headers.Authorization = "Bearer " + state.key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
  if (!r.ok) throw new ApiError(r.status, parsed);
  return parsed;
}

// POSTs `body` with "stream": true and calls onEvent(json) for each server-sent event until "data: [DONE]".
// Aborting `signal` closes the connection (the server then stops generating). Resolves to true at [DONE].
async function streamEvents(path, body, signal, onEvent) {
  const headers = { Accept: "text/event-stream", "Content-Type": "application/json" };
  if (state.key) headers.Authorization = "Bearer " + state.key;
  const r = await fetch(path, { method: "POST", headers, body: JSON.stringify({ ...body, stream: true }), signal });
  if (!r.ok) {
    let parsed = null;
    try { parsed = await r.json(); } catch { /* not JSON */ }
    throw new ApiError(r.status, parsed);
  }
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the stream ended before [DONE]");
      buffer += value.replace(/\r\n/g, "\n");
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split("\n").filter((l) => l.startsWith("data:"));
        if (!lines.length) continue;  // a comment or another field
        const data = lines.map((l) => l.slice(5).replace(/^ /, "")).join("\n");
        if (data === "[DONE]") return true;
        const event = JSON.parse(data);
        if (event.error) throw new ApiError(500, event);
        onEvent(event);
      }
    }
  } finally {
    reader.cancel().catch(() => {});  // closes the connection when the stream did not end
  }
}

function say(message) {
  $("#status").textContent = message;
  if (message) setTimeout(() => { if ($("#status").textContent === message) $("#status").textContent = ""; }, 6000);
}

function show(title, ...content) {
  const main = $("#main");
  main.replaceChildren(el("h1", {}, title), ...content);
  document.title = title + " · lmaas console";
}

// --- sign in ---------------------------------------------------------------------------------------------
function signInPage(message) {
  const input = el("input", { type: "password", id: "api-key", autocomplete: "off", required: true, placeholder: "lmaas-…" });
  const error = el("p", { class: "error", role: "alert" }, message || "");
  const form = el("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    state.key = input.value.trim();
    try {
      await api("GET", "/v1/models");
    } catch (e) {
      state.key = "";
      error.textContent = e.status === 401 ? "That key is not valid (or was revoked)." : "Sign-in failed: " + e.message;
      return;
    }
    try { await api("GET", "/v1/keys"); state.admin = true; } catch { state.admin = false; }
    sessionStorage.setItem("lmaas-key", state.key);
    sessionStorage.setItem("lmaas-admin", state.admin ? "1" : "0");
    location.hash = "#/models";
    route();
  } },
  el("label", { for: "api-key" }, "API key"), input, el("p", {}, el("button", { class: "primary", type: "submit" }, "Sign in")), error,
  el("p", { class: "muted" }, "The key stays in this tab (sessionStorage) and goes only to this server."));
  $("#nav").hidden = true;
  show("Sign in", form);
  input.focus();
}

// --- models ----------------------------------------------------------------------------------------------
function metricText(metrics) {
  if (!metrics) return "";
  const parts = [];
  for (const [split, m] of Object.entries(metrics)) {
    if (!m || typeof m !== "object") continue;
    for (const k of ["accuracy", "macro_f1"]) if (typeof m[k] === "number") parts.push(`${split} ${k.replace("_", " ")} ${(m[k] * 100).toFixed(1)}%`);
  }
  return parts.join(", ");
}

async function modelsPage() {
  const [served, index] = await Promise.all([api("GET", "/v1/models"), state.admin ? api("POST", "/v2/repository/index", {}) : null]);
  const rows = new Map();
  for (const m of served.data) rows.set(m.id, { id: m.id, model: m, versions: m.versions.map((v) => [v.version, v.state, v.reason]) });
  for (const e of index || []) if (!rows.has(e.name)) rows.set(e.name, { id: e.name, model: null, versions: [] });
  for (const e of index || []) {
    const r = rows.get(e.name);
    if (!r.versions.some((v) => v[0] === e.version)) r.versions.push([e.version, e.state, e.reason]);
  }
  const body = el("tbody");
  for (const r of [...rows.values()].sort((a, b) => a.id.localeCompare(b.id))) {
    const m = r.model;
    const actions = state.admin ? el("td", {},
      el("button", { type: "button", "data-action": "load", "data-model": r.id, onclick: () => manage("load", r.id) }, m ? "Reload" : "Load"), " ",
      m ? el("button", { type: "button", "data-action": "unload", "data-model": r.id, onclick: () => manage("unload", r.id) }, "Unload") : null) : null;
    body.append(el("tr", { "data-model": r.id },
      el("td", {}, el("strong", {}, r.id)),
      el("td", {}, r.versions.map(([v, s, reason]) => el("div", {}, `v${v} `, el("span", { class: "state-" + s, title: reason || "" }, s)))),
      el("td", {}, m ? m.task || "" : ""),
      el("td", {}, m ? (m.task === "generation" ? generatorSummary(m) : m.architecture || "") : ""),
      el("td", {}, m && m.labels ? m.labels.join(", ") : ""),
      el("td", {}, m ? metricText(m.metrics) : ""),
      actions));
  }
  const head = el("tr", {}, ["Model", "Versions", "Task", "Architecture", "Labels", "Evaluation"].map((h) => el("th", { scope: "col" }, h)),
                  state.admin ? el("th", { scope: "col" }, "Manage") : null);
  show("Models", el("table", { id: "models" }, el("thead", {}, head), body));
}

async function manage(action, name) {
  say(`${action === "load" ? "Loading" : "Unloading"} ${name} …`);
  try {
    await api("POST", `/v2/repository/models/${encodeURIComponent(name)}/${action}`);
    say(`${name} ${action}ed`);
  } catch (e) {
    say(`${action} ${name} failed: ${e.message}`);
  }
  await modelsPage();
}

// --- playground ------------------------------------------------------------------------------------------
async function playgroundPage() {
  const served = await api("GET", "/v1/models");
  const byId = new Map(served.data.map((m) => [m.id, m]));
  const select = el("select", { id: "model" }, el("option", { value: "" }, "Sentiment (by script: English or Chinese)"),
                    served.data.filter((m) => m.ready).map((m) => el("option", { value: m.id }, m.task === "generation" ? `${m.id} (generator)` : m.id)));
  const panel = el("div", { id: "panel" });
  const render = () => {
    const m = byId.get(select.value);
    panel.replaceChildren(m && m.task === "generation" ? generationPanel(m) : taskPanel(select, byId));
  };
  select.addEventListener("change", render);
  render();
  show("Playground", el("label", { for: "model" }, "Model"), select, panel);
}

// Classify, sentiment or translate one text.
function taskPanel(select, byId) {
  const text = el("textarea", { id: "text", required: true }, "");
  const out = el("div", { id: "result", "aria-live": "polite" });
  const translating = () => (byId.get(select.value) || {}).task === "translation";
  const button = el("button", { class: "primary", type: "submit", id: "classify" }, translating() ? "Translate" : "Classify");
  const form = el("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    const model = select.value;
    try {
      if (translating()) {
        const r = await api("POST", "/v1/translations", { model, input: text.value });
        out.replaceChildren(renderTranslation(r.translations[0], `${r.model}/${r.version}`));
        return;
      }
      const r = model ? await api("POST", "/v1/classify", { model, input: text.value })
                      : await api("POST", "/v1/sentiment", { input: text.value });
      out.replaceChildren(renderClassification(r.data[0], model || r.data[0].model));
    } catch (e) {
      out.replaceChildren(el("p", { class: "error", role: "alert" }, e.message));
    }
  } },
  el("label", { for: "text" }, "Text"), text, el("p", {}, button));
  return el("div", {}, form, out);
}

// A generator: complete a prompt, or chat; tokens stream in as they come; Stop aborts the request.
function generationPanel(model) {
  const mode = el("select", { id: "mode" }, el("option", { value: "completion" }, "Complete a prompt"), el("option", { value: "chat" }, "Chat"));
  const maxTokens = el("input", { type: "number", id: "max-tokens", min: 1, max: model.context_length || 4096, value: 64 });
  const temperature = el("input", { type: "number", id: "temperature", min: 0, max: 2, step: 0.1, value: 0.7 });
  const input = el("textarea", { id: "prompt", required: true }, "");
  const inputLabel = el("label", { for: "prompt" }, "Prompt");
  const generate = el("button", { class: "primary", type: "submit", id: "generate" }, "Generate");
  const stop = el("button", { type: "button", id: "stop", disabled: true }, "Stop");
  const log = el("div", { id: "chat-log", class: "chat-log", role: "log", "aria-label": "Conversation", hidden: true });
  const output = el("div", { id: "completion-box", class: "result generation" }, el("span", { class: "muted", id: "prompt-echo" }),
                    el("span", { id: "completion" }));
  const info = el("p", { id: "generation-status", class: "muted", role: "status" });
  const history = [];
  let controller = null;
  mode.addEventListener("change", () => {
    const chat = mode.value === "chat";
    inputLabel.textContent = chat ? "Message" : "Prompt";
    generate.textContent = chat ? "Send" : "Generate";
    log.hidden = !chat; output.hidden = chat;
  });
  stop.addEventListener("click", () => { if (controller) controller.abort(); });
  const form = el("form", { onsubmit: async (ev) => {
    ev.preventDefault();
    if (controller) return;
    const chat = mode.value === "chat";
    const params = { model: model.id, max_tokens: Number(maxTokens.value), temperature: Number(temperature.value),
                     stream_options: { include_usage: true } };
    let target;
    if (chat) {
      history.push({ role: "user", content: input.value });
      log.append(chatMessage("user", input.value));
      target = chatMessage("assistant", "");
      log.append(target);
      target = target.querySelector(".content");
      input.value = "";
    } else {
      $("#prompt-echo").textContent = input.value;
      target = $("#completion");
      target.textContent = "";
    }
    const sink = document.createTextNode("");
    target.replaceChildren(sink);
    controller = new AbortController();
    generate.disabled = true; stop.disabled = false;
    info.textContent = "generating …";
    const started = performance.now();
    let n = 0, finish = "", usage = null;
    try {
      const body = chat ? { ...params, messages: history } : { ...params, prompt: input.value };
      await streamEvents(chat ? "/v1/chat/completions" : "/v1/completions", body, controller.signal, (chunk) => {
        if (chunk.usage) usage = chunk.usage;
        for (const c of chunk.choices) {
          const piece = chat ? (c.delta.content || "") : c.text;
          if (piece) { sink.appendData(piece); n++; }
          if (c.finish_reason) finish = c.finish_reason;
        }
      });
      if (chat) history.push({ role: "assistant", content: sink.data });
      const tokens = usage ? usage.completion_tokens : n, seconds = (performance.now() - started) / 1000;
      info.textContent = `done: ${tokens} tokens in ${seconds.toFixed(2)} s (${(tokens / seconds).toFixed(1)} tokens/s), finish reason ${finish}`;
    } catch (e) {
      if (e.name === "AbortError") info.textContent = "stopped";
      else { info.textContent = ""; target.append(el("span", { class: "error", role: "alert" }, e.message)); }
      if (chat) history.pop();
    } finally {
      controller = null;
      generate.disabled = false; stop.disabled = true;
    }
  } },
  el("label", { for: "mode" }, "Mode"), mode,
  el("div", { class: "controls" },
     el("div", {}, el("label", { for: "max-tokens" }, "Max tokens"), maxTokens),
     el("div", {}, el("label", { for: "temperature" }, "Temperature"), temperature)),
  log, inputLabel, input, el("p", {}, generate, " ", stop));
  return el("div", {}, el("p", { class: "muted" }, generatorSummary(model)), form, output, info);
}

function generatorSummary(m) {
  const parts = [];
  if (m.n_params) parts.push(`${(m.n_params / 1e6).toFixed(2)}M parameters`);
  if (m.context_length) parts.push(`context ${m.context_length} tokens`);
  if (m.weight_type) parts.push(`weights ${m.weight_type}`);
  if (m.chat_format) parts.push(`chat format ${m.chat_format}`);
  return parts.join(" · ");
}

function chatMessage(role, text) {
  return el("div", { class: "msg", "data-role": role }, el("span", { class: "role" }, role), el("span", { class: "content" }, text));
}

function renderTranslation(t, model) {
  return el("div", { class: "result" }, el("p", { id: "translation" }, t.text),
            el("p", { class: "muted" }, `score ${t.score.toFixed(3)} (mean log-probability per token) by ${model}`));
}

// Set through the CSSOM: the Content-Security-Policy refuses inline style attributes.
function barFill(p) {
  const fill = el("div", { class: "bar-fill" });
  fill.style.width = (p * 100).toFixed(1) + "%";
  return fill;
}

function renderClassification(c, model) {
  const entries = Object.entries(c.probabilities).sort((a, b) => b[1] - a[1]);
  const bars = el("div", { class: "bars", role: "list", "aria-label": "Class probabilities" }, entries.map(([label, p]) =>
    el("div", { class: "bar-row" + (label === c.label ? " best" : ""), role: "listitem", "data-label": label },
       el("span", { class: "bar-label" }, label),
       el("div", { class: "bar-track", "aria-hidden": "true" }, barFill(p)),
       el("span", { class: "bar-value" }, (p * 100).toFixed(1) + "%"))));
  return el("div", { class: "result" }, el("p", {}, "Label ", el("strong", { id: "label" }, c.label), ` (${(c.score * 100).toFixed(1)}%) by ${model}`), bars);
}

// --- metrics ---------------------------------------------------------------------------------------------
// Prometheus text -> [{name, labels, value}]
function parseMetrics(text) {
  const out = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)$/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const kv of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[kv[1]] = kv[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

const sum = (samples, name, pred = () => true) => samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);

// The q-quantile of the observations between two scrapes of a histogram (buckets summed over labels).
function quantile(prev, cur, name, q) {
  const buckets = new Map();
  for (const s of cur) if (s.name === name + "_bucket") buckets.set(s.labels.le, (buckets.get(s.labels.le) || 0) + s.value);
  for (const s of prev) if (s.name === name + "_bucket") buckets.set(s.labels.le, (buckets.get(s.labels.le) || 0) - s.value);
  const sorted = [...buckets.entries()].map(([le, n]) => [le === "+Inf" ? Infinity : Number(le), n]).sort((a, b) => a[0] - b[0]);
  const total = sorted.length ? sorted[sorted.length - 1][1] : 0;
  if (total <= 0) return null;
  let lower = 0, below = 0;
  for (const [le, n] of sorted) {
    if (n >= q * total) {
      if (le === Infinity) return lower;
      return lower + (le - lower) * ((q * total - below) / Math.max(n - below, 1e-9));  // linear within the bucket
    }
    lower = le; below = n;
  }
  return lower;
}

const series = { rps: [], p50: [], p99: [], queue: [], batch: [] };
let metricsTimer = null;

function chart(values) {
  const w = 300, h = 70, max = Math.max(...values.filter((v) => v !== null), 1e-9);
  const pts = values.map((v, i) => v === null ? null : `${(i / Math.max(values.length - 1, 1)) * w},${h - (v / max) * (h - 4) - 2}`)
                    .filter((p) => p !== null).join(" ");  // no value (no batch ran): no point
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("aria-hidden", "true");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts);
  svg.append(line);
  return svg;
}

async function metricsPage() {
  const cards = el("div", { class: "cards", id: "metric-cards" });
  show("Metrics", el("p", { class: "muted" }, "Scraped from /metrics every 2 s; the last two minutes."), cards);
  let prev = null, prevAt = 0;
  const tick = async () => {
    if (location.hash !== "#/metrics") { clearInterval(metricsTimer); metricsTimer = null; return; }
    let text;
    try { text = await (await fetch("/metrics")).text(); } catch (e) { say("metrics: " + e.message); return; }
    const cur = parseMetrics(text), now = performance.now();
    if (prev) {
      const dt = (now - prevAt) / 1000;
      const push = (k, v) => { series[k].push(v); if (series[k].length > 60) series[k].shift(); };
      push("rps", (sum(cur, "lmaas_requests_total") - sum(prev, "lmaas_requests_total")) / dt);
      const p50 = quantile(prev, cur, "lmaas_request_duration_seconds", 0.5), p99 = quantile(prev, cur, "lmaas_request_duration_seconds", 0.99);
      push("p50", p50 === null ? null : p50 * 1000);
      push("p99", p99 === null ? null : p99 * 1000);
      push("queue", sum(cur, "lmaas_queue_texts"));
      const n = sum(cur, "lmaas_batch_size_count") - sum(prev, "lmaas_batch_size_count");
      push("batch", n > 0 ? (sum(cur, "lmaas_batch_size_sum") - sum(prev, "lmaas_batch_size_sum")) / n : null);
      const last = (k, digits, unit) => { const v = series[k][series[k].length - 1]; return v === null || v === undefined ? "–" : v.toFixed(digits) + unit; };
      cards.replaceChildren(...[["rps", "Requests/s", 1, ""], ["p50", "Latency p50", 2, " ms"], ["p99", "Latency p99", 2, " ms"],
                                ["queue", "Queue depth (texts)", 0, ""], ["batch", "Mean batch size", 1, " texts"]].map(([k, title, d, u]) =>
        el("section", { class: "card", "data-metric": k, "aria-label": title }, el("div", { class: "muted" }, title),
           el("div", { class: "value" }, last(k, d, u)), chart(series[k]))));
    }
    prev = cur; prevAt = now;
  };
  await tick();
  if (!metricsTimer) metricsTimer = setInterval(tick, 2000);
}

// --- usage -----------------------------------------------------------------------------------------------
async function usagePage() {
  const [usage, keys] = await Promise.all([api("GET", "/v1/usage"), api("GET", "/v1/keys")]);
  const usageTable = el("table", { id: "usage" },
    el("thead", {}, el("tr", {}, ["Key", "Model", "Day (UTC)", "Requests", "Characters"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, usage.data.map((u) => el("tr", {}, el("td", {}, u.key_name), el("td", {}, u.model), el("td", {}, u.day),
                                              el("td", {}, u.requests), el("td", {}, u.characters)))));
  const keyTable = el("table", { id: "keys" },
    el("thead", {}, el("tr", {}, ["Name", "Prefix", "Scope", "Requests/min", "Characters/min", "Created", "Revoked"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, keys.data.map((k) => el("tr", {}, el("td", {}, k.name), el("td", {}, k.prefix), el("td", {}, k.scope),
                                            el("td", {}, k.requests_per_minute || "default"), el("td", {}, k.chars_per_minute || "default"),
                                            el("td", {}, k.created), el("td", {}, k.revoked || "")))));
  show("Usage", usage.data.length ? usageTable : el("p", { class: "muted" }, "No usage recorded yet."), el("h1", {}, "Keys"), keyTable);
}

// --- routing ---------------------------------------------------------------------------------------------
const pages = { "#/models": modelsPage, "#/playground": playgroundPage, "#/metrics": metricsPage, "#/usage": usagePage };

async function route() {
  if (!state.key) return signInPage();
  $("#nav").hidden = false;
  for (const a of document.querySelectorAll("[data-admin]")) a.hidden = !state.admin;
  const page = pages[location.hash] && (location.hash !== "#/usage" || state.admin) ? location.hash : "#/models";
  for (const a of document.querySelectorAll("nav a")) {
    if (a.getAttribute("href") === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    await pages[page]();
    $("#main").focus();
  } catch (e) {
    if (e.status === 401) { signOut("Your key is no longer valid: sign in again."); return; }
    show("Error", el("p", { class: "error", role: "alert" }, e.message));
  }
}

function signOut(message) {
  state.key = ""; state.admin = false;
  sessionStorage.removeItem("lmaas-key"); sessionStorage.removeItem("lmaas-admin");
  signInPage(message);
}

window.addEventListener("hashchange", route);
$("#sign-out").addEventListener("click", () => signOut());
route();
