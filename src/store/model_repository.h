// ModelRepository: the models a server serves, read from a Triton-style repository directory
//   <root>/<name>/<version>/   (version: a positive integer; each a model directory from `lmaas train`,
//                              or a pretrained generator: a GGUF file or llama2.c checkpoint, models/llm_bundle.h)
// Each loaded version is a ServedModel: its inference session and the BatchQueue whose owner thread
// alone runs that session.
// - States per version: loading, ready, failed (with the reason), unloading. A request for a model without
//   a version gets its highest ready version.
// - load(name) (re)reads <root>/<name> while the old versions keep serving: a version that loads replaces
//   the old one atomically; one that fails keeps the old one serving (its reason says the reload failed),
//   or is marked failed if there was none. Versions gone from disk are unloaded.
// - unload(name) removes every version; a ServedModel is freed when its last in-flight request lets go
//   (requests hold a shared_ptr), and the allocator is asked to return the memory.
// Thread-safe: every method may be called from any thread; loads run on the caller's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "models/llm_bundle.h"
#include "models/llm_loader.h"
#include "runtime/chat_template.h"
#include "runtime/classifier_session.h"
#include "runtime/translator_session.h"
#include "scheduler/batch_queue.h"
#include "scheduler/llm_scheduler.h"

namespace lmaas::store {

enum class ModelState { kLoading, kReady, kFailed, kUnloading };
const char* model_state_name(ModelState state);  // "loading" | "ready" | "failed" | "unloading"

// How a generator (a pretrained decoder-only model) is served: the scheduler's limits, and the metrics
// hooks for its model name (the server fills them; each may be empty).
struct GeneratorOptions {
  scheduler::LlmSchedulerOptions scheduler;
  std::function<scheduler::LlmSchedulerOptions(const std::string& model_name)> with_hooks;
};

// One loaded version: a classifier, a translator or a generator. The queue (scheduler) is declared after
// the sessions so that it stops (draining its jobs) before the session it runs is destroyed.
class ServedModel {
 public:
  ServedModel(std::string name, int64_t version, std::string dir, std::unique_ptr<runtime::ClassifierSession> session,
              const scheduler::BatchQueueOptions& queue_options);
  ServedModel(std::string name, int64_t version, std::string dir,
              std::unique_ptr<runtime::TranslatorSession> translator,
              const scheduler::BatchQueueOptions& queue_options);
  ServedModel(std::string name, int64_t version, std::string dir, models::LoadedLlm llm, std::string chat_template,
              const scheduler::LlmSchedulerOptions& options);
  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::string& dir() const { return dir_; }
  bool is_translator() const { return translator_ != nullptr; }
  bool is_generator() const { return generator_ != nullptr; }
  const char* task() const { return is_generator() ? "generation" : is_translator() ? "translation" : "classification"; }
  // The generator's model and tokenizer; only when is_generator().
  const models::LoadedLlm& llm() const { return llm_; }
  scheduler::LlmScheduler& generator() { return *generator_; }
  // The chat format (runtime/chat_template.h) chat requests are rendered with.
  runtime::ChatFormat chat_format() const { return chat_format_; }
  // The classifier; only when !is_translator().
  const runtime::ClassifierSession& session() const { return *session_; }
  // The translator; only when is_translator().
  const runtime::TranslatorSession& translator() const { return *translator_; }
  const nlohmann::json& config() const {
    return generator_ ? generator_config_ : translator_ ? translator_->config() : session_->config();
  }
  // The batching queue of a classifier or translator (a generator has its scheduler instead).
  scheduler::BatchQueue& queue() { return *queue_; }
  bool has_queue() const { return queue_ != nullptr; }

 private:
  std::string name_;
  int64_t version_;
  std::string dir_;
  std::unique_ptr<runtime::ClassifierSession> session_;
  std::unique_ptr<runtime::TranslatorSession> translator_;
  models::LoadedLlm llm_;
  runtime::ChatFormat chat_format_ = runtime::ChatFormat::kFallback;
  nlohmann::json generator_config_;
  std::unique_ptr<scheduler::BatchQueue> queue_;
  std::unique_ptr<scheduler::LlmScheduler> generator_;
};

struct ModelVersionInfo {
  std::string name;
  int64_t version = 0;
  ModelState state = ModelState::kLoading;
  std::string reason;  // why it failed (or why a reload failed while the old version serves)
  std::shared_ptr<ServedModel> served;  // null unless ready
};

class ModelRepository {
 public:
  ModelRepository(std::string root, scheduler::BatchQueueOptions queue_options, GeneratorOptions generator_options = {});
  ~ModelRepository();

  // Reads every model under the root; models that fail are recorded as failed, not fatal.
  // An unreadable root is an error.
  Status load_all();
  // (Re)loads one model from <root>/<name>; kNotFound if that directory is missing, kInvalidArgument if it
  // holds no loadable version (the old versions keep serving either way).
  Status load(const std::string& name);
  // kNotFound for a model not in the repository.
  Status unload(const std::string& name);

  // The served version: the given one, or the highest ready one. kNotFound names the model (and version);
  // kUnavailable when it exists but is not ready (loading, failed: with the reason).
  Result<std::shared_ptr<ServedModel>> find(const std::string& name, std::optional<int64_t> version = std::nullopt) const;
  // Every known version, by name then version.
  std::vector<ModelVersionInfo> list() const;
  // Model names on disk under the root (for the repository index), sorted.
  std::vector<std::string> names_on_disk() const;
  bool all_ready() const;  // true when no version is loading (failed ones do not hold readiness back)
  int64_t n_ready() const;
  int64_t queued_texts() const;  // over every loaded version's queue
  const std::string& root() const { return root_; }

 private:
  Result<std::shared_ptr<ServedModel>> load_version(const std::string& name, int64_t version, const std::string& dir);
  void set_state(const std::string& name, int64_t version, ModelState state, std::string reason,
                 std::shared_ptr<ServedModel> served);

  const std::string root_;
  const scheduler::BatchQueueOptions queue_options_;
  const GeneratorOptions generator_options_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<int64_t, ModelVersionInfo>> models_;
  std::mutex load_mu_;  // one load/unload at a time
};

}  // namespace lmaas::store
