// lmaas call: the API of a running server from the shell, through the C++ SDK (no SDK needed).
//   lmaas call classify --model sentiment-en "a fine film" "a dull one"   (no texts: one per stdin line)
//   lmaas call sentiment [--language en|zh] TEXT...
//   lmaas call embeddings --model M TEXT...
//   lmaas call models [ID]        lmaas call load NAME        lmaas call unload NAME
// --url (default $LMAAS_BASE_URL, else http://127.0.0.1:8080) and --api-key (default $LMAAS_API_KEY).
// classify/sentiment print one JSON line per text ({"label","score","probabilities"}, as lmaas predict);
// embeddings one JSON array per text; models the server's JSON. A server error prints its status, code
// and message and exits 1.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "lmaas/client.h"

namespace lmaas::cli {
namespace {

struct CallArgs {
  std::string url, api_key, model, language, name;
  int64_t top_k = 0;
  int64_t timeout_ms = 60000;
  std::vector<std::string> texts;
};

std::unique_ptr<Client> connect(const CallArgs& a) {
  ClientOptions o;
  if (!a.url.empty()) o.base_url = a.url;
  o.api_key = a.api_key;
  o.timeout_ms = a.timeout_ms;
  return std::make_unique<Client>(o);
}

// The texts from the command line, else one per line of stdin (empty lines skipped).
std::vector<std::string> texts_of(const CallArgs& a) {
  if (!a.texts.empty()) return a.texts;
  std::vector<std::string> lines;
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  if (lines.empty()) throw Error(Code::kInvalidArgument, "no texts: give them as arguments or one per line on stdin");
  return lines;
}

void print_classifications(const api::ClassifyResponse& r) {
  for (const auto& c : r.data) {
    nlohmann::json probabilities = nlohmann::json::object();
    for (const auto& [label, p] : c.probabilities) probabilities[label] = p;
    nlohmann::json line = {{"label", c.label}, {"score", c.score}, {"probabilities", probabilities}};
    if (!c.top.empty()) {
      line["top"] = nlohmann::json::array();
      for (const auto& [label, p] : c.top) line["top"].push_back({{"label", label}, {"score", p}});
    }
    if (!c.model.empty()) line["model"] = c.model;
    if (!c.language.empty()) line["language"] = c.language;
    std::printf("%s\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
}

void add_connection_options(CLI::App* cmd, CallArgs& a) {
  cmd->add_option("--url", a.url, "the server (default $LMAAS_BASE_URL, else http://127.0.0.1:8080)");
  cmd->add_option("--api-key", a.api_key, "bearer key (default $LMAAS_API_KEY)");
  cmd->add_option("--timeout-ms", a.timeout_ms, "per request (default 60000)")->check(CLI::Range(int64_t{1}, int64_t{3600000}));
}

}  // namespace

void add_call_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CallArgs>();
  CLI::App* call = app.add_subcommand("call", "Call a running lmaas server's API (classify, sentiment, embeddings, models)");
  call->require_subcommand(1);

  CLI::App* classify = call->add_subcommand("classify", "Classify texts: one JSON line per text");
  add_connection_options(classify, *args);
  classify->add_option("--model", args->model, "\"name\" or \"name/version\"")->required();
  classify->add_option("--top-k", args->top_k, "also list the k most probable labels")->check(CLI::Range(0, 1 << 20));
  classify->add_option("texts", args->texts, "texts (none: one per stdin line)");
  classify->callback([args, &exit_code] {
    print_classifications(connect(*args)->classify(args->model, texts_of(*args), args->top_k));
    exit_code = 0;
  });

  CLI::App* sentiment = call->add_subcommand("sentiment", "Sentiment, routed to the English or Chinese model by script");
  add_connection_options(sentiment, *args);
  sentiment->add_option("--language", args->language, "en or zh (default: by each text's script)");
  sentiment->add_option("texts", args->texts, "texts (none: one per stdin line)");
  sentiment->callback([args, &exit_code] {
    print_classifications(connect(*args)->sentiment(texts_of(*args), args->language));
    exit_code = 0;
  });

  CLI::App* embeddings = call->add_subcommand("embeddings", "A model's pooled vector per text: one JSON array per line");
  add_connection_options(embeddings, *args);
  embeddings->add_option("--model", args->model, "\"name\" or \"name/version\"")->required();
  embeddings->add_option("texts", args->texts, "texts (none: one per stdin line)");
  embeddings->callback([args, &exit_code] {
    for (const auto& v : connect(*args)->embeddings(args->model, texts_of(*args)))
      std::printf("%s\n", nlohmann::json(v).dump().c_str());
    exit_code = 0;
  });

  CLI::App* models = call->add_subcommand("models", "The served models (GET /v1/models), or one of them");
  add_connection_options(models, *args);
  models->add_option("id", args->name, "a model name");
  models->callback([args, &exit_code] {
    auto client = connect(*args);
    const nlohmann::json out = args->name.empty() ? client->request("GET", "/v1/models")
                                                  : client->model(args->name).raw;
    std::printf("%s\n", out.dump(2).c_str());
    exit_code = 0;
  });

  for (const bool load : {true, false}) {
    CLI::App* cmd = call->add_subcommand(load ? "load" : "unload",
                                         load ? "Load (or reload) a model of the repository (admin key)"
                                              : "Unload a model (admin key)");
    add_connection_options(cmd, *args);
    cmd->add_option("name", args->name, "the model's name")->required();
    cmd->callback([args, load, &exit_code] {
      auto client = connect(*args);
      if (load) client->load_model(args->name);
      else client->unload_model(args->name);
      std::printf("%s %s\n", load ? "loaded" : "unloaded", args->name.c_str());
      exit_code = 0;
    });
  }
}

}  // namespace lmaas::cli
