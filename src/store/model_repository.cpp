#include "store/model_repository.h"

#include <malloc.h>

#include <algorithm>
#include <filesystem>

#include "formats/model_bundle.h"

namespace lmaas::store {

namespace fs = std::filesystem;

const char* model_state_name(ModelState state) {
  switch (state) {
    case ModelState::kLoading: return "loading";
    case ModelState::kReady: return "ready";
    case ModelState::kFailed: return "failed";
    case ModelState::kUnloading: return "unloading";
  }
  return "unknown";
}

ServedModel::ServedModel(std::string name, int64_t version, std::string dir,
                         std::unique_ptr<runtime::ClassifierSession> session,
                         const scheduler::BatchQueueOptions& queue_options)
    : name_(std::move(name)), version_(version), dir_(std::move(dir)), session_(std::move(session)) {
  const runtime::ClassifierSession* s = session_.get();
  const int64_t batch = std::max<int64_t>(1, queue_options.max_batch_texts);
  queue_ = std::make_unique<scheduler::BatchQueue>(
      name_ + "/" + std::to_string(version_), queue_options,
      [s, batch](scheduler::JobKind kind, const scheduler::DecodeSettings&, const std::vector<std::string_view>& views)
          -> Result<scheduler::BatchOutput> {
        if (kind == scheduler::JobKind::kTranslate)
          return Status(Code::kInvalidArgument, "this model is a classifier, not a translator");
        return scheduler::BatchOutput{kind == scheduler::JobKind::kEmbed ? s->embed(views, batch) : s->predict(views, batch),
                                      {}};
      });
}

ServedModel::ServedModel(std::string name, int64_t version, std::string dir,
                         std::unique_ptr<runtime::TranslatorSession> translator,
                         const scheduler::BatchQueueOptions& queue_options)
    : name_(std::move(name)), version_(version), dir_(std::move(dir)), translator_(std::move(translator)) {
  const runtime::TranslatorSession* t = translator_.get();
  queue_ = std::make_unique<scheduler::BatchQueue>(
      name_ + "/" + std::to_string(version_), queue_options,
      [t](scheduler::JobKind kind, const scheduler::DecodeSettings& decode, const std::vector<std::string_view>& views)
          -> Result<scheduler::BatchOutput> {
        if (kind != scheduler::JobKind::kTranslate)
          return Status(Code::kInvalidArgument, "this model is a translator, not a classifier");
        runtime::TranslateOptions options;
        if (decode.beam_size > 0) options.search.beam_size = decode.beam_size;
        options.search.max_tokens = decode.max_tokens;
        scheduler::BatchOutput out;
        for (auto& n_best : t->translate(views, options)) {
          out.rows.push_back({static_cast<float>(n_best.front().score)});
          out.texts.push_back(std::move(n_best.front().text));
        }
        return out;
      });
}

ServedModel::ServedModel(std::string name, int64_t version, std::string dir, models::LoadedLlm llm,
                         std::string chat_template, const scheduler::LlmSchedulerOptions& options)
    : name_(std::move(name)), version_(version), dir_(std::move(dir)), llm_(std::move(llm)) {
  // The chat format: the config's name, else recognised from the model's template (ChatML otherwise).
  if (!chat_template.empty()) {
    chat_format_ = runtime::chat_format_from_name(chat_template).value();
  } else if (!llm_.chat_template.empty()) {
    chat_format_ = runtime::detect_chat_format(llm_.chat_template);
  }
  generator_ = std::make_unique<scheduler::LlmScheduler>(name_ + "/" + std::to_string(version_), llm_.model,
                                                         llm_.tokenizer, options);
  const models::LlamaConfig& c = llm_.model->config();
  generator_config_ = {{"task", "generation"},
                       {"format", llm_.format},
                       {"architecture", c.arch},
                       {"n_params", llm_.model->n_params()},
                       {"weight_type", std::string(kernels::weight_type_name(llm_.model->weights().layers.at(0).wq.type))},
                       {"context_length", generator_->max_context()},
                       {"n_vocab", c.n_vocab},
                       {"chat_format", std::string(runtime::chat_format_name(chat_format_))}};
}

ModelRepository::ModelRepository(std::string root, scheduler::BatchQueueOptions queue_options,
                                 GeneratorOptions generator_options)
    : root_(std::move(root)), queue_options_(std::move(queue_options)), generator_options_(std::move(generator_options)) {}

ModelRepository::~ModelRepository() = default;

namespace {

// Positive decimal directory names only ("1", "12"); others ("tmp", "1.ckpt") are not versions.
std::optional<int64_t> parse_version(const std::string& s) {
  if (s.empty() || s.size() > 18 || s[0] == '0') return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
  return std::stoll(s);
}

std::vector<std::pair<int64_t, std::string>> versions_on_disk(const fs::path& dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    if (auto v = parse_version(entry.path().filename().string())) out.emplace_back(*v, entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<std::string> ModelRepository::names_on_disk() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec))
    if (entry.is_directory(ec) && entry.path().filename().string()[0] != '.') names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

Status ModelRepository::load_all() {
  std::error_code ec;
  if (!fs::is_directory(root_, ec))
    return Status(Code::kNotFound, "model repository '" + root_ + "' is not a directory (expected <root>/<name>/<version>/)");
  for (const auto& name : names_on_disk()) {
    Status s = load(name);
    (void)s;  // recorded as the versions' states; one bad model does not stop the others
  }
  return Status::ok();
}

void ModelRepository::set_state(const std::string& name, int64_t version, ModelState state, std::string reason,
                                std::shared_ptr<ServedModel> served) {
  std::lock_guard lock(mu_);
  auto& info = models_[name][version];
  info.name = name;
  info.version = version;
  info.state = state;
  info.reason = std::move(reason);
  info.served = std::move(served);
}

Result<std::shared_ptr<ServedModel>> ModelRepository::load_version(const std::string& name, int64_t version,
                                                                   const std::string& dir) {
  LMAAS_ASSIGN_OR_RETURN(std::optional<models::LlmBundle> spec, models::read_llm_bundle(dir));
  if (spec) {
    if (!spec->chat_template.empty()) {
      auto format = runtime::chat_format_from_name(spec->chat_template);
      if (!format.is_ok()) return Status(Code::kInvalidArgument, dir + "/config.json: " + format.status().message());
    }
    LMAAS_ASSIGN_OR_RETURN(models::LoadedLlm llm, models::load_llm(spec->file, {spec->tokenizer}));
    scheduler::LlmSchedulerOptions options =
        generator_options_.with_hooks ? generator_options_.with_hooks(name) : generator_options_.scheduler;
    if (spec->context > 0) options.max_context = spec->context;
    if (spec->max_running > 0) options.max_running = static_cast<int>(spec->max_running);
    return std::make_shared<ServedModel>(name, version, dir, std::move(llm), spec->chat_template, options);
  }
  auto config = read_bundle_config(dir);
  if (config.is_ok() && config.value()["task"] == "translation") {
    auto translator = runtime::TranslatorSession::load(dir);
    if (!translator.is_ok()) return translator.status();
    return std::make_shared<ServedModel>(name, version, dir, std::move(translator.value()), queue_options_);
  }
  auto session = runtime::ClassifierSession::load(dir);
  if (!session.is_ok()) return session.status();
  return std::make_shared<ServedModel>(name, version, dir, std::move(session.value()), queue_options_);
}

Status ModelRepository::load(const std::string& name) {
  std::lock_guard load_lock(load_mu_);
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
    return Status(Code::kInvalidArgument, "model name '" + name + "' is not a directory name");
  const fs::path dir = fs::path(root_) / name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status(Code::kNotFound, "model '" + name + "' is not in the repository: " + dir.string() + " is missing");
  const auto on_disk = versions_on_disk(dir);
  int n_loaded = 0;
  std::string failures;
  for (const auto& [version, vdir] : on_disk) {
    std::shared_ptr<ServedModel> old;
    {
      std::lock_guard lock(mu_);
      auto m = models_.find(name);
      if (m != models_.end())
        if (auto v = m->second.find(version); v != m->second.end()) old = v->second.served;
    }
    if (!old) set_state(name, version, ModelState::kLoading, "", nullptr);
    auto loaded = load_version(name, version, vdir);
    if (loaded.is_ok()) {
      set_state(name, version, ModelState::kReady, "", std::move(loaded.value()));
      ++n_loaded;
    } else {
      const std::string why = loaded.status().message();
      failures += (failures.empty() ? "" : "; ") + std::string("version ") + std::to_string(version) + ": " + why;
      if (old) set_state(name, version, ModelState::kReady, "reload failed, the previous load serves: " + why, old);
      else set_state(name, version, ModelState::kFailed, why, nullptr);
    }
  }
  {  // versions no longer on disk go
    std::lock_guard lock(mu_);
    auto& versions = models_[name];
    for (auto it = versions.begin(); it != versions.end();) {
      const bool present = std::any_of(on_disk.begin(), on_disk.end(), [&](const auto& p) { return p.first == it->first; });
      it = present ? std::next(it) : versions.erase(it);
    }
  }
  malloc_trim(0);
  if (on_disk.empty()) return Status(Code::kInvalidArgument, "model '" + name + "' has no version directory (" + dir.string() + "/<n>/)");
  if (n_loaded == 0) return Status(Code::kInvalidArgument, "model '" + name + "' did not load: " + failures);
  return Status::ok();
}

Status ModelRepository::unload(const std::string& name) {
  std::lock_guard load_lock(load_mu_);
  std::map<int64_t, ModelVersionInfo> gone;
  {
    std::lock_guard lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return Status(Code::kNotFound, "model '" + name + "' is not loaded");
    for (auto& [v, info] : it->second) info.state = ModelState::kUnloading;
    gone = std::move(it->second);
    models_.erase(it);
  }
  gone.clear();  // in-flight requests keep their ServedModel until they finish
  malloc_trim(0);
  return Status::ok();
}

Result<std::shared_ptr<ServedModel>> ModelRepository::find(const std::string& name, std::optional<int64_t> version) const {
  std::lock_guard lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end() || it->second.empty())
    return Status(Code::kNotFound, "model '" + name + "' is not loaded; GET /v1/models lists the served models");
  if (version) {
    auto v = it->second.find(*version);
    if (v == it->second.end())
      return Status(Code::kNotFound, "model '" + name + "' has no version " + std::to_string(*version));
    if (!v->second.served)
      return Status(Code::kUnavailable, "model '" + name + "' version " + std::to_string(*version) + " is " +
                                            model_state_name(v->second.state) +
                                            (v->second.reason.empty() ? "" : ": " + v->second.reason));
    return v->second.served;
  }
  for (auto v = it->second.rbegin(); v != it->second.rend(); ++v)
    if (v->second.served) return v->second.served;
  const auto& last = it->second.rbegin()->second;
  return Status(Code::kUnavailable, "model '" + name + "' has no ready version (version " + std::to_string(last.version) +
                                        " is " + model_state_name(last.state) +
                                        (last.reason.empty() ? "" : ": " + last.reason) + ")");
}

std::vector<ModelVersionInfo> ModelRepository::list() const {
  std::lock_guard lock(mu_);
  std::vector<ModelVersionInfo> out;
  for (const auto& [name, versions] : models_)
    for (const auto& [v, info] : versions) out.push_back(info);
  return out;
}

bool ModelRepository::all_ready() const {
  std::lock_guard lock(mu_);
  for (const auto& [name, versions] : models_)
    for (const auto& [v, info] : versions)
      if (info.state == ModelState::kLoading) return false;
  return true;
}

int64_t ModelRepository::queued_texts() const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [name, versions] : models_)
    for (const auto& [v, info] : versions)
      if (info.served && info.served->has_queue()) n += info.served->queue().queued_texts();
  return n;
}

int64_t ModelRepository::n_ready() const {
  std::lock_guard lock(mu_);
  int64_t n = 0;
  for (const auto& [name, versions] : models_)
    for (const auto& [v, info] : versions) n += info.served != nullptr;
  return n;
}

}  // namespace lmaas::store
