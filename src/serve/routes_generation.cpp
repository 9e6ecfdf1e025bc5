// Generation routes for pretrained language models (generators): OpenAI's /v1/completions and
// /v1/chat/completions (streamed as server-sent events when asked), embeddings from a generator's hidden
// states (routed here by /v1/embeddings), and llama.cpp-style /tokenize and /detokenize.
// Each request becomes one scheduler job per prompt × choice (GenerationRun); sampling seeds are the
// request's seed + the choice index, so a seeded request repeats exactly.
#include <chrono>
#include <ctime>
#include <random>

#include <boost/asio/this_coro.hpp>

#include "api/completions.h"
#include "api/json_body.h"
#include "base/rng.h"
#include "serve/generation_run.h"
#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

using ModelOrError = std::variant<std::shared_ptr<store::ServedModel>, api::ApiError>;

// The generator `ref` names, or a 404 / 400 (wrong task).
ModelOrError find_generator(const ServerContext& ctx, const api::ModelRef& ref) {
  ModelOrError found = find_model(ctx, ref);
  if (auto* model = std::get_if<std::shared_ptr<store::ServedModel>>(&found); model && !(*model)->is_generator()) {
    return api::ApiError{Code::kInvalidArgument,
                         "model '" + ref.name + "' is a " + (*model)->task() + " model, not a text generator; " +
                             "completions need a generator (a GGUF or llama2.c model in the repository)",
                         "model", "wrong_model_task"};
  }
  return found;
}

uint64_t fresh_seed() {
  static std::atomic<uint64_t> counter{std::random_device{}()};
  return mix64(counter.fetch_add(1));
}

runtime::GenerationParams generation_params(const api::SamplingRequest& s, int64_t max_tokens, int64_t n_top,
                                            uint64_t seed) {
  runtime::GenerationParams p;
  p.sampling.temperature = static_cast<float>(s.temperature);
  p.sampling.top_k = static_cast<int32_t>(s.top_k);
  p.sampling.top_p = static_cast<float>(s.top_p);
  p.sampling.min_p = static_cast<float>(s.min_p);
  p.sampling.repetition_penalty = static_cast<float>(s.repetition_penalty);
  p.sampling.presence_penalty = static_cast<float>(s.presence_penalty);
  p.sampling.frequency_penalty = static_cast<float>(s.frequency_penalty);
  p.sampling.seed = seed;
  p.sampling.logprobs = n_top >= 0;
  p.sampling.n_top_logprobs = static_cast<int32_t>(std::max<int64_t>(n_top, 0));
  p.max_tokens = static_cast<int32_t>(max_tokens);
  p.stop = s.stop;
  p.ignore_eos = s.ignore_eos;
  return p;
}

// A scheduler refusal as the API error to answer (a prompt that cannot fit names max_tokens).
api::ApiError submit_error(const Status& s) {
  api::ApiError e = api::to_api_error(s);
  if (s.code() == Code::kInvalidArgument) e.param = "max_tokens";
  if (s.code() == Code::kResourceExhausted) e.error_code = "queue_full";
  return e;
}

struct Prepared {
  std::shared_ptr<store::ServedModel> model;
  std::vector<std::vector<int32_t>> prompts;  // token ids
  int64_t n_chars = 0;
};

// The text's tokens as a prompt is tokenized: the model's BOS (when it adds one), control tokens
// written in the text recognised (as llama.cpp's server does).
std::vector<int32_t> prompt_tokens(const text::LlmTokenizer& tok, const std::string& text) {
  return tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
}

std::optional<api::ApiError> check_token_ids(const std::vector<int32_t>& ids, int32_t n_vocab) {
  if (ids.empty()) return api::ApiError{Code::kInvalidArgument, "a prompt has no tokens", "prompt", "empty_prompt"};
  for (int32_t id : ids) {
    if (id >= n_vocab) {
      return api::ApiError{Code::kInvalidArgument, "token id " + std::to_string(id) + " is outside the vocabulary (" +
                                                       std::to_string(n_vocab) + " tokens)", "prompt", "invalid_value"};
    }
  }
  return std::nullopt;
}

// Submits n choices for every prompt (choice index = prompt · n + c); on a refusal the jobs already
// submitted are cancelled when `run` goes.
std::optional<api::ApiError> submit_all(GenerationRun& run, store::ServedModel& model, const Prepared& p,
                                        const api::SamplingRequest& s, int64_t max_tokens, int64_t n_top) {
  const uint64_t base_seed = s.seed ? *s.seed : fresh_seed();
  const int64_t context = model.generator().max_context();
  for (size_t i = 0; i < p.prompts.size(); ++i) {
    const auto n_prompt = static_cast<int64_t>(p.prompts[i].size());
    const int64_t budget = max_tokens >= 0 ? max_tokens : context - n_prompt;  // chat's default: the rest
    for (int64_t c = 0; c < s.n; ++c) {
      auto job = std::make_shared<scheduler::LlmJob>();
      job->prompt = p.prompts[i];
      const size_t choice = i * static_cast<size_t>(s.n) + static_cast<size_t>(c);
      job->params = generation_params(s, std::max<int64_t>(budget, 1), n_top, base_seed + choice);
      Status submitted = run.submit(model.generator(), choice, job);
      if (!submitted.is_ok()) return submit_error(submitted);
    }
  }
  return std::nullopt;
}

std::string request_id(const char* prefix, const RouteCall& call) { return prefix + call.request.request_id; }

api::UsageOut usage_of(const std::vector<Delta>& deltas, const Prepared& p) {
  api::UsageOut u;
  for (const auto& prompt : p.prompts) u.prompt_tokens += static_cast<int64_t>(prompt.size());
  for (const Delta& d : deltas) {
    if (d.done) u.completion_tokens += d.n_generated_tokens;
  }
  return u;
}

// Every choice's text, finish reason and log-probabilities from the collected deltas; the first failed
// choice's error instead when one failed.
std::variant<std::vector<api::ChoiceOut>, api::ApiError> choices_of(const std::vector<Delta>& deltas, size_t n_choices,
                                                                    bool logprobs) {
  std::vector<api::ChoiceOut> out(n_choices);
  for (const Delta& d : deltas) {
    if (!d.status.is_ok()) return api::to_api_error(d.status);
    api::ChoiceOut& c = out[d.choice];
    if (d.logprob) {
      if (!c.logprobs) c.logprobs.emplace();
      api::TokenLogprobOut lp = *d.logprob;
      lp.text_offset = static_cast<int64_t>(c.text.size());
      c.logprobs->push_back(std::move(lp));
    }
    c.text += d.text;
    if (!d.finish_reason.empty()) c.finish_reason = d.finish_reason;
  }
  if (logprobs) {
    for (auto& c : out) {
      if (!c.logprobs) c.logprobs.emplace();
    }
  }
  return out;
}

// The generator a request names, as a Prepared with no prompts yet (the metrics label set), or the error.
std::variant<Prepared, api::ApiError> prepare(const ServerContext& ctx, RouteCall& call, const api::ModelRef& ref) {
  ModelOrError found = find_generator(ctx, ref);
  if (auto* e = std::get_if<api::ApiError>(&found)) return *e;
  Prepared p;
  p.model = std::get<std::shared_ptr<store::ServedModel>>(found);
  call.model_label = p.model->name();
  return p;
}

// A completions or chat body parsed by `parse` and the generator it names found.
template <typename Request>
std::variant<std::pair<Request, Prepared>, api::ApiError> parse_and_prepare(
    const ServerContext& ctx, RouteCall& call, api::Parsed<Request> (*parse)(const json&, const api::RequestLimits&)) {
  auto req = parse_body_as(ctx, call.request, parse);
  if (auto* e = std::get_if<api::ApiError>(&req)) return *e;
  auto& r = std::get<Request>(req);
  auto prepared = prepare(ctx, call, r.model);
  if (auto* e = std::get_if<api::ApiError>(&prepared)) return *e;
  return std::pair{std::move(r), std::move(std::get<Prepared>(prepared))};
}

// Admits the request (rate limits) and submits its jobs; the run, or the error to answer.
asio::awaitable<std::variant<std::shared_ptr<GenerationRun>, api::ApiError>> start_run(
    ServerContext& ctx, RouteCall& call, const Prepared& p, const api::SamplingRequest& s, const int64_t& max_tokens,
    const int64_t& n_logprobs) {
  if (auto refused = admit_request(ctx, call, p.n_chars)) co_return *refused;
  auto executor = co_await asio::this_coro::executor;
  auto run = std::make_shared<GenerationRun>(executor, p.model->llm().tokenizer, n_logprobs);
  if (auto e = submit_all(*run, *p.model, p, s, max_tokens, n_logprobs)) co_return *e;
  co_return run;
}

// The response: streamed (the run becomes the body) or collected.
asio::awaitable<HttpResponse> respond(ServerContext& ctx, RouteCall& call, const std::shared_ptr<GenerationRun>& run,
                                      const Prepared& p, const api::SamplingRequest& s, bool chat, bool logprobs,
                                      const std::string& echo_prefix) {
  const std::string id = request_id(chat ? "chatcmpl-" : "cmpl-", call);
  const int64_t created = static_cast<int64_t>(std::time(nullptr));
  const std::string model = p.model->name();
  const size_t n_choices = p.prompts.size() * static_cast<size_t>(s.n);
  if (ctx.usage) ctx.usage->add(call.caller.key_id, model, 1, p.n_chars);
  if (s.stream) {
    std::vector<std::string> first;
    if (chat) {
      for (size_t i = 0; i < n_choices; ++i) first.push_back(api::chat_chunk(id, created, model, static_cast<int64_t>(i), true, "", std::nullopt, ""));
    }
    auto format = [id, created, model, chat](const Delta& d) -> std::string {
      if (!d.status.is_ok()) return api::error_body(api::to_api_error(d.status)).dump();
      if (d.text.empty() && d.finish_reason.empty() && !d.logprob) return "";
      std::optional<std::vector<api::TokenLogprobOut>> lp;
      if (d.logprob) lp = std::vector<api::TokenLogprobOut>{*d.logprob};
      const auto index = static_cast<int64_t>(d.choice);
      return chat ? api::chat_chunk(id, created, model, index, false, d.text, lp, d.finish_reason)
                  : api::completion_chunk(id, created, model, index, d.text, lp, d.finish_reason);
    };
    std::function<std::string()> last;
    if (s.include_usage) {
      GenerationRun* raw = run.get();
      last = [raw, id, created, model, chat, p] {
        return api::usage_chunk(id, created, model, chat ? "chat.completion.chunk" : "text_completion",
                                usage_of(raw->deltas(), p));
      };
    }
    run->set_stream(format, std::move(first), std::move(last));
    HttpResponse r;
    r.content_type = "text/event-stream";
    r.stream = run;
    co_return r;
  }
  co_await run->finish(call.request.client_gone);
  auto choices = choices_of(run->deltas(), n_choices, logprobs);
  if (auto* e = std::get_if<api::ApiError>(&choices)) co_return error_response(*e);
  auto& list = std::get<std::vector<api::ChoiceOut>>(choices);
  for (auto& c : list) c.text = echo_prefix + c.text;
  const api::UsageOut usage = usage_of(run->deltas(), p);
  co_return json_response(200, chat ? api::chat_response(id, created, model, list, usage)
                                    : api::completion_response(id, created, model, list, usage));
}

asio::awaitable<HttpResponse> completions(ServerContext& ctx, RouteCall& call) {
  auto parsed = parse_and_prepare(ctx, call, api::parse_completion_request);
  if (auto* e = std::get_if<api::ApiError>(&parsed)) co_return error_response(*e);
  auto& [r, p] = std::get<0>(parsed);
  const text::LlmTokenizer& tok = *p.model->llm().tokenizer;
  for (const std::string& text : r.prompts) {
    p.prompts.push_back(prompt_tokens(tok, text));
    p.n_chars += api::count_code_points(text);
  }
  for (auto& ids : r.prompt_tokens) {
    p.n_chars += static_cast<int64_t>(ids.size());
    p.prompts.push_back(std::move(ids));
  }
  for (const auto& ids : p.prompts) {
    if (auto e = check_token_ids(ids, tok.n_vocab())) co_return error_response(*e);
  }
  if (r.echo && p.prompts.size() * static_cast<size_t>(r.sampling.n) != 1) {
    co_return error_response({Code::kInvalidArgument, "'echo' is supported for one prompt and n = 1", "echo",
                              "unsupported_parameter"});
  }
  const int64_t n_logprobs = r.logprobs ? *r.logprobs : -1;
  const int64_t max_tokens = r.sampling.max_tokens.value_or(16);  // OpenAI's default for completions
  auto started = co_await start_run(ctx, call, p, r.sampling, max_tokens, n_logprobs);
  if (auto* e = std::get_if<api::ApiError>(&started)) co_return error_response(*e);
  auto& run = std::get<std::shared_ptr<GenerationRun>>(started);
  const std::string echo = r.echo ? (r.prompts.empty() ? tok.decode(p.prompts[0], true) : r.prompts[0]) : "";
  const bool chat = false, logprobs = r.logprobs.has_value();
  co_return co_await respond(ctx, call, run, p, r.sampling, chat, logprobs, echo);
}

asio::awaitable<HttpResponse> chat_completions(ServerContext& ctx, RouteCall& call) {
  auto parsed = parse_and_prepare(ctx, call, api::parse_chat_request);
  if (auto* e = std::get_if<api::ApiError>(&parsed)) co_return error_response(*e);
  auto& [r, p] = std::get<0>(parsed);
  const text::LlmTokenizer& tok = *p.model->llm().tokenizer;
  std::vector<runtime::ChatMessage> messages;
  for (const auto& m : r.messages) {
    messages.push_back({m.role, m.content});
    p.n_chars += api::count_code_points(m.content);
  }
  const std::string bos = tok.bos_id() >= 0 ? tok.token_to_piece(tok.bos_id()) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.token_to_piece(tok.eos_id()) : "";
  auto rendered = runtime::apply_chat_template(p.model->chat_format(), messages, bos, eos);
  if (!rendered.is_ok()) {
    api::ApiError e = api::to_api_error(rendered.status());
    e.param = "messages";
    co_return error_response(e);
  }
  const std::string& prompt = rendered.value();
  // A rendered prompt that starts with the BOS text gets it from there, not added again.
  const bool has_bos = !bos.empty() && prompt.starts_with(bos);
  p.prompts.push_back(tok.encode(prompt, /*add_special=*/!has_bos, /*parse_special=*/true));
  if (auto e = check_token_ids(p.prompts[0], tok.n_vocab())) co_return error_response(*e);
  api::SamplingRequest s = r.sampling;
  for (std::string& stop : runtime::chat_stop_strings(p.model->chat_format())) s.stop.push_back(std::move(stop));
  const int64_t n_logprobs = r.logprobs ? r.top_logprobs : -1;
  const int64_t max_tokens = s.max_tokens.value_or(-1);  // -1: the rest of the context
  auto started = co_await start_run(ctx, call, p, s, max_tokens, n_logprobs);
  if (auto* e = std::get_if<api::ApiError>(&started)) co_return error_response(*e);
  auto& run = std::get<std::shared_ptr<GenerationRun>>(started);
  const std::string no_echo;
  const bool chat = true;
  co_return co_await respond(ctx, call, run, p, s, chat, r.logprobs, no_echo);
}

// {"content" | "prompt": str, "add_special"?: true, "parse_special"?: true, "with_pieces"?: false, "model"?}
// → {"tokens": [...]} (with_pieces: [{"id", "piece"}]). The model may be omitted when one generator is
// served.
ModelOrError generator_for(const ServerContext& ctx, const json& body) {
  if (body.contains("model") && body["model"].is_string()) {
    auto ref = api::parse_model_ref(body["model"].get<std::string>(), "model");
    if (auto* e = std::get_if<api::ApiError>(&ref)) return *e;
    return find_generator(ctx, std::get<api::ModelRef>(ref));
  }
  std::vector<std::shared_ptr<store::ServedModel>> generators;
  for (const auto& info : ctx.repository->list()) {
    if (info.served && info.served->is_generator()) generators.push_back(info.served);
  }
  if (generators.size() == 1) return generators.front();
  return api::ApiError{Code::kInvalidArgument,
                       std::to_string(generators.size()) + " generators are served; name one with \"model\"", "model",
                       "missing_field"};
}

// A /tokenize or /detokenize body: a JSON object whose first present member of `fields` holds a value of
// `type` (else `missing`), that member, and the generator the body names.
struct TokenizerCall {
  json body;
  const char* field;
  std::shared_ptr<store::ServedModel> model;
};
std::variant<TokenizerCall, api::ApiError> tokenizer_call(const ServerContext& ctx, RouteCall& call,
                                                          std::initializer_list<const char*> fields, json::value_t type,
                                                          api::ApiError missing) {
  auto body = api::parse_json_body(call.request.body, ctx.options.limits.json_depth);
  if (auto* e = std::get_if<api::ApiError>(&body)) return *e;
  json& j = std::get<json>(body);
  const auto field = std::find_if(fields.begin(), fields.end(), [&](const char* f) { return j.contains(f); });
  if (!j.is_object() || field == fields.end() || j[*field].type() != type) return missing;
  ModelOrError found = generator_for(ctx, j);
  if (auto* e = std::get_if<api::ApiError>(&found)) return *e;
  TokenizerCall out{std::move(j), *field, std::get<std::shared_ptr<store::ServedModel>>(found)};
  call.model_label = out.model->name();
  return out;
}

asio::awaitable<HttpResponse> tokenize(ServerContext& ctx, RouteCall& call) {
  auto found = tokenizer_call(ctx, call, {"content", "prompt"}, json::value_t::string,
                              {Code::kInvalidArgument, "the body needs \"content\" (a string)", "content", "missing_field"});
  if (auto* e = std::get_if<api::ApiError>(&found)) co_return error_response(*e);
  const auto& [j, field, model] = std::get<TokenizerCall>(found);
  const text::LlmTokenizer& tok = *model->llm().tokenizer;
  const std::vector<int32_t> ids =
      tok.encode(j[field].get<std::string>(), j.value("add_special", true), j.value("parse_special", true));
  json tokens = json::array();
  for (int32_t id : ids) {
    if (j.value("with_pieces", false)) tokens.push_back({{"id", id}, {"piece", tok.token_to_piece(id)}});
    else tokens.push_back(id);
  }
  co_return json_response(200, json{{"tokens", tokens}, {"count", ids.size()}, {"model", model->name()},
                                    {"max_model_len", model->generator().max_context()}});
}

asio::awaitable<HttpResponse> detokenize(ServerContext& ctx, RouteCall& call) {
  auto found = tokenizer_call(ctx, call, {"tokens"}, json::value_t::array,
                              {Code::kInvalidArgument, "the body needs \"tokens\" (a list of ids)", "tokens", "missing_field"});
  if (auto* e = std::get_if<api::ApiError>(&found)) co_return error_response(*e);
  const auto& [j, field, model] = std::get<TokenizerCall>(found);
  const text::LlmTokenizer& tok = *model->llm().tokenizer;
  std::vector<int32_t> ids;
  for (const json& t : j["tokens"]) {
    if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.n_vocab()) {
      co_return error_response({Code::kInvalidArgument, "tokens must be ids in [0, " + std::to_string(tok.n_vocab()) + ")",
                                "tokens", "invalid_value"});
    }
    ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
  }
  co_return json_response(200, json{{"content", tok.decode(ids, j.value("skip_special", false))}});
}

}  // namespace

// /v1/embeddings with a generator: one job per input, mean-pooled final hidden states (unit length).
asio::awaitable<std::variant<std::vector<std::vector<float>>, api::ApiError>> generator_embeddings(
    ServerContext& ctx, RouteCall& call, const std::shared_ptr<store::ServedModel>& model,
    const std::vector<std::string>& inputs) {
  const text::LlmTokenizer& tok = *model->llm().tokenizer;
  int64_t n_chars = 0;
  for (const auto& t : inputs) n_chars += api::count_code_points(t);
  if (auto refused = admit_request(ctx, call, n_chars)) co_return *refused;
  auto executor = co_await asio::this_coro::executor;
  auto run = std::make_shared<GenerationRun>(executor, model->llm().tokenizer, -1);
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto job = std::make_shared<scheduler::LlmJob>();
    job->prompt = prompt_tokens(tok, inputs[i]);
    job->embed = true;
    if (auto e = check_token_ids(job->prompt, tok.n_vocab())) co_return *e;
    Status s = run->submit(model->generator(), i, job);
    if (!s.is_ok()) co_return submit_error(s);
  }
  co_await run->finish(call.request.client_gone);
  std::vector<std::vector<float>> rows(inputs.size());
  for (const Delta& d : run->deltas()) {
    if (!d.status.is_ok()) co_return api::to_api_error(d.status);
    if (d.done) rows[d.choice] = d.embedding;
  }
  if (ctx.usage) ctx.usage->add(call.caller.key_id, model->name(), 1, n_chars);
  co_return rows;
}

void add_generation_routes(Router<RouteHandler>& router) {
  router.add({"POST", "/v1/completions", Access::kInfer, "OpenAI completions with a generator (SSE when stream)", completions});
  router.add({"POST", "/v1/chat/completions", Access::kInfer, "OpenAI chat completions with a generator (SSE when stream)",
              chat_completions});
  router.add({"POST", "/tokenize", Access::kInfer, "Token ids of a text under a generator's tokenizer", tokenize});
  router.add({"POST", "/detokenize", Access::kInfer, "The text of token ids under a generator's tokenizer", detokenize});
}

}  // namespace lmaas::serve
