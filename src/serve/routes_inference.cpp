// Inference routes: the task API (/v1/classify, /v1/sentiment, /v1/translations), OpenAI's /v1/embeddings
// and KServe v2 infer (classifiers and translators). Each parses and validates its body (api/), finds the served model version, and runs the texts
// as one Job through that model's batching queue.
#include <algorithm>
#include <chrono>

#include "api/classify.h"
#include "api/json_body.h"
#include "api/kserve.h"
#include "api/translation.h"
#include "serve/job_wait.h"
#include "serve/routes.h"
#include "text/utf8.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// The request's deadline: the x-request-timeout-ms header (1 ms .. 10 min) or --request-timeout-ms.
scheduler::Clock::time_point deadline_for(const ServerContext& ctx, const HttpRequest& request) {
  int64_t ms = ctx.options.request_timeout_ms;
  const auto given = request.header("x-request-timeout-ms");
  if (!given.empty() && given.size() <= 9 && std::all_of(given.begin(), given.end(), ::isdigit))
    ms = std::clamp<int64_t>(std::stoll(std::string(given)), 1, 600000);
  return scheduler::Clock::now() + std::chrono::milliseconds(ms);
}

struct RunResult {
  std::shared_ptr<store::ServedModel> model;
  std::vector<std::vector<float>> outputs;
  std::vector<std::string> text_outputs;  // translations
};

const scheduler::DecodeSettings kNoDecodeSettings{};

template <typename T>
const api::ApiError* error_of(const std::variant<T, api::ApiError>& v) {
  return std::get_if<api::ApiError>(&v);
}

using ModelOrError = std::variant<std::shared_ptr<store::ServedModel>, api::ApiError>;

// A 400 when the model cannot run this kind of job (a classifier asked to translate, a generator asked
// to classify, ...).
std::optional<api::ApiError> task_mismatch(const store::ServedModel& model, scheduler::JobKind kind) {
  const bool wants_translator = kind == scheduler::JobKind::kTranslate;
  if (!model.is_generator() && wants_translator == model.is_translator()) return std::nullopt;
  const char* what = model.is_generator() ? "text generator" : model.is_translator() ? "translation model" : "classifier";
  const char* use = model.is_generator()    ? "; use /v1/completions or /v1/chat/completions with it"
                    : wants_translator      ? "; /v1/translations needs a translation model"
                                            : "; use /v1/translations (or KServe infer) with it";
  return api::ApiError{Code::kInvalidArgument, "model '" + model.name() + "' is a " + what + use, "model",
                       "wrong_model_task"};
}

// Runs the texts (moved from) through the model's queue. Every argument is a reference to a caller's
// named object: GCC 12 mishandles coroutine parameters built from temporaries.
asio::awaitable<std::variant<RunResult, api::ApiError>> run_on_model(ServerContext& ctx, RouteCall& call,
                                                                     const std::shared_ptr<store::ServedModel>& model,
                                                                     scheduler::JobKind kind, std::vector<std::string>& texts,
                                                                     const scheduler::DecodeSettings& decode) {
  if (auto mismatch = task_mismatch(*model, kind)) co_return *mismatch;
  const std::string& name = model->name();
  call.model_label = name;
  int64_t n_chars = 0;
  for (const auto& t : texts) n_chars += api::count_code_points(t);
  const int64_t n_requests = call.request_counted ? 0 : 1;
  if (auto refused = admit_request(ctx, call, n_chars)) co_return *refused;
  auto job = std::make_shared<scheduler::Job>();
  job->kind = kind;
  job->decode = decode;
  job->texts = std::move(texts);
  job->deadline = deadline_for(ctx, call.request);
  job->abandoned = call.request.client_gone;
  Status s = co_await run_job(model->queue(), job);
  ctx.metrics->queue_time.with({name}).observe(job->queue_seconds);
  if (!s.is_ok()) co_return api::to_api_error(s);
  if (ctx.usage) ctx.usage->add(call.caller.key_id, name, n_requests, n_chars);
  co_return RunResult{model, std::move(job->outputs), std::move(job->text_outputs)};
}

// Finds the model `ref` names, then run_on_model.
asio::awaitable<std::variant<RunResult, api::ApiError>> run_texts(ServerContext& ctx, RouteCall& call, const api::ModelRef& ref,
                                                                  scheduler::JobKind kind, std::vector<std::string>& texts,
                                                                  const scheduler::DecodeSettings& decode) {
  ModelOrError found = find_model(ctx, ref);
  if (auto* e = error_of(found)) co_return *e;
  auto& model = std::get<std::shared_ptr<store::ServedModel>>(found);
  co_return co_await run_on_model(ctx, call, model, kind, texts, decode);
}

asio::awaitable<HttpResponse> classify(ServerContext& ctx, RouteCall& call) {
  auto req = parse_body_as(ctx, call.request, api::parse_classify_request);
  if (auto* e = error_of(req)) co_return error_response(*e);
  auto& r = std::get<api::ClassifyRequest>(req);
  auto run = co_await run_texts(ctx, call, r.model, scheduler::JobKind::kClassify, r.inputs, kNoDecodeSettings);
  if (auto* e = error_of(run)) co_return error_response(*e);
  auto& result = std::get<RunResult>(run);
  co_return json_response(200, api::classify_response(result.model->name(), result.model->version(),
                                                      result.model->session().labels(), result.outputs, r.top_k));
}

// Chinese when the text holds a Han character, English otherwise.
bool looks_chinese(const std::string& text) {
  for (size_t pos = 0; pos < text.size();) {
    const char32_t c = text::next_code_point(text, pos);
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)) return true;
  }
  return false;
}

asio::awaitable<HttpResponse> sentiment(ServerContext& ctx, RouteCall& call) {
  auto req = parse_body_as(ctx, call.request, api::parse_sentiment_request);
  if (auto* e = error_of(req)) co_return error_response(*e);
  auto& r = std::get<api::SentimentRequest>(req);
  // Group the inputs by language, run each group on its model, write the rows back in input order.
  std::vector<std::string> language(r.inputs.size());
  for (size_t i = 0; i < r.inputs.size(); ++i)
    language[i] = !r.language.empty() ? r.language : (looks_chinese(r.inputs[i]) ? "zh" : "en");
  struct Row {
    const RunResult* result = nullptr;
    size_t index = 0;  // within result->outputs
  };
  std::vector<Row> rows(r.inputs.size());
  std::vector<RunResult> results;
  results.reserve(2);  // never reallocated: rows point into it
  // Named locals only around co_await: GCC 12 mishandles temporaries with destructors in co_await
  // expressions and range-for initialisers inside coroutines.
  static const char* const kLanguages[] = {"en", "zh"};
  for (const char* lang_cstr : kLanguages) {
    const std::string lang = lang_cstr;
    std::vector<std::string> texts;
    std::vector<size_t> where;
    for (size_t i = 0; i < r.inputs.size(); ++i)
      if (language[i] == lang) texts.push_back(r.inputs[i]), where.push_back(i);
    if (texts.empty()) continue;
    const api::ModelRef ref{lang == "zh" ? ctx.options.sentiment_zh : ctx.options.sentiment_en, std::nullopt};
    auto run = co_await run_texts(ctx, call, ref, scheduler::JobKind::kClassify, texts, kNoDecodeSettings);
    if (auto* e = error_of(run)) co_return error_response(*e);
    results.push_back(std::move(std::get<RunResult>(run)));
    for (size_t j = 0; j < where.size(); ++j) rows[where[j]] = Row{&results.back(), j};
  }
  call.model_label = "sentiment";
  std::string out;
  api::JsonWriter w(out);
  w.begin_object().key("object").value("list").key("data").begin_array();
  for (size_t i = 0; i < rows.size(); ++i) {
    const store::ServedModel& model = *rows[i].result->model;
    w.begin_object().key("index").value(uint64_t{i});
    api::write_classification(w, model.session().labels(), rows[i].result->outputs[rows[i].index], 0);
    w.key("language").value(language[i]).key("model").value(model.name() + "/" + std::to_string(model.version()));
    w.end_object();
  }
  w.end_array().end_object();
  co_return json_response(200, std::move(out));
}

std::string base64_floats(const std::vector<float>& v) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  const size_t n = v.size() * sizeof(float);
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t b = (uint32_t{p[i]} << 16) | (i + 1 < n ? uint32_t{p[i + 1]} << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += kAlphabet[(b >> 18) & 63];
    out += kAlphabet[(b >> 12) & 63];
    out += i + 1 < n ? kAlphabet[(b >> 6) & 63] : '=';
    out += i + 2 < n ? kAlphabet[b & 63] : '=';
  }
  return out;
}

asio::awaitable<HttpResponse> embeddings(ServerContext& ctx, RouteCall& call) {
  auto body = api::parse_json_body(call.request.body, ctx.options.limits.json_depth);
  if (auto* e = error_of(body)) co_return error_response(*e);
  const json& b = std::get<json>(body);
  auto model = api::required_string(b, "model");
  if (auto* e = error_of(model)) co_return error_response(*e);
  auto ref = api::parse_model_ref(std::get<std::string>(model), "model");
  if (auto* e = error_of(ref)) co_return error_response(*e);
  auto inputs = api::text_inputs(b, "input", ctx.options.limits);
  if (auto* e = error_of(inputs)) co_return error_response(*e);
  auto format = api::optional_string(b, "encoding_format");
  if (auto* e = error_of(format)) co_return error_response(*e);
  const std::string fmt = std::get<std::string>(format).empty() ? "float" : std::get<std::string>(format);
  if (fmt != "float" && fmt != "base64")
    co_return error_response({Code::kInvalidArgument, "'encoding_format' is \"" + fmt + "\"; expected \"float\" or \"base64\"",
                              "encoding_format", "invalid_field"});
  int64_t n_chars = 0;
  for (const auto& t : std::get<std::vector<std::string>>(inputs)) n_chars += api::count_code_points(t);
  ModelOrError found = find_model(ctx, std::get<api::ModelRef>(ref));
  if (auto* e = error_of(found)) co_return error_response(*e);
  auto& served = std::get<std::shared_ptr<store::ServedModel>>(found);
  RunResult result;
  if (served->is_generator()) {  // a pretrained LM: its mean-pooled final hidden states
    call.model_label = served->name();
    auto rows = co_await generator_embeddings(ctx, call, served, std::get<std::vector<std::string>>(inputs));
    if (auto* e = error_of(rows)) co_return error_response(*e);
    result = RunResult{served, std::move(std::get<std::vector<std::vector<float>>>(rows)), {}};
  } else {
    auto run = co_await run_on_model(ctx, call, served, scheduler::JobKind::kEmbed,
                                     std::get<std::vector<std::string>>(inputs), kNoDecodeSettings);
    if (auto* e = error_of(run)) co_return error_response(*e);
    result = std::move(std::get<RunResult>(run));
  }
  json data = json::array();
  for (size_t i = 0; i < result.outputs.size(); ++i) {
    json e = {{"object", "embedding"}, {"index", i}};
    if (fmt == "base64") e["embedding"] = base64_floats(result.outputs[i]);
    else e["embedding"] = result.outputs[i];
    data.push_back(std::move(e));
  }
  // lmaas models count characters, not a tokenizer's tokens: usage reports code points.
  co_return json_response(200, json{{"object", "list"}, {"model", result.model->name()}, {"data", std::move(data)},
                                    {"usage", {{"prompt_tokens", n_chars}, {"total_tokens", n_chars}}}});
}

asio::awaitable<HttpResponse> kserve_infer(ServerContext& ctx, RouteCall& call) {
  auto req = parse_body_as(ctx, call.request, api::parse_kserve_infer);
  if (auto* e = error_of(req)) co_return error_response(*e);
  auto& r = std::get<api::KserveInferRequest>(req);
  auto parsed_ref = path_model_ref(call);
  if (auto* e = error_of(parsed_ref)) co_return error_response(*e);
  const api::ModelRef& ref = std::get<api::ModelRef>(parsed_ref);
  std::vector<std::string> texts = r.texts;
  ModelOrError found = find_model(ctx, ref);
  if (auto* e = error_of(found)) co_return error_response(*e);
  auto& model = std::get<std::shared_ptr<store::ServedModel>>(found);
  // The served model decides what infer means: classification or translation.
  const scheduler::JobKind kind = model->is_translator() ? scheduler::JobKind::kTranslate : scheduler::JobKind::kClassify;
  auto run = co_await run_on_model(ctx, call, model, kind, texts, kNoDecodeSettings);
  if (auto* e = error_of(run)) co_return error_response(*e);
  auto& result = std::get<RunResult>(run);
  if (result.model->is_translator())
    co_return json_response(200, api::kserve_translation_response(result.model->name(), result.model->version(), r.id,
                                                                  result.text_outputs));
  co_return json_response(200, api::kserve_infer_response(result.model->name(), result.model->version(), r,
                                                           result.model->session().labels(), result.outputs));
}

asio::awaitable<HttpResponse> translations(ServerContext& ctx, RouteCall& call) {
  auto req = parse_body_as(ctx, call.request, api::parse_translate_request);
  if (auto* e = error_of(req)) co_return error_response(*e);
  auto& r = std::get<api::TranslateRequest>(req);
  ModelOrError found = find_model(ctx, r.model);
  if (auto* e = error_of(found)) co_return error_response(*e);
  auto& model = std::get<std::shared_ptr<store::ServedModel>>(found);
  if (model->is_translator()) {
    const json& config = model->config();
    if (auto e = api::check_languages(r, config.value("source_language", ""), config.value("target_language", "")))
      co_return error_response(*e);
  }
  const scheduler::DecodeSettings decode{r.beam_size, r.max_tokens};
  auto run = co_await run_on_model(ctx, call, model, scheduler::JobKind::kTranslate, r.inputs, decode);
  if (auto* e = error_of(run)) co_return error_response(*e);
  auto& result = std::get<RunResult>(run);
  co_return json_response(200, api::translate_response(result.model->name(), result.model->version(),
                                                       result.text_outputs, result.outputs));
}

}  // namespace

void add_inference_routes(Router<RouteHandler>& router) {
  router.add({"POST", "/v1/classify", Access::kInfer, "Classify texts with a model: label, score, class probabilities", classify});
  router.add({"POST", "/v1/sentiment", Access::kInfer, "Sentiment of texts, routed to the English or Chinese model", sentiment});
  router.add({"POST", "/v1/translations", Access::kInfer, "Translate texts with a translation model (beam search)",
              translations});
  router.add({"POST", "/v1/embeddings", Access::kInfer, "OpenAI embeddings: a classifier's pooled representation", embeddings});
  router.add({"POST", "/v2/models/{model}/infer", Access::kInfer, "KServe v2 inference (BYTES text input)", kserve_infer});
  router.add({"POST", "/v2/models/{model}/versions/{version}/infer", Access::kInfer, "KServe v2 inference on a version",
              kserve_infer});
}

}  // namespace lmaas::serve
