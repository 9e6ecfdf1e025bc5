#include "models/classifier.h"

#include "models/bow_classifier.h"
#include "models/cnn_classifier.h"
#include "models/ensemble_classifier.h"
#include "models/nbsvm_classifier.h"
#include "models/text_classifier.h"
#include "ops/ops.h"

namespace lmaas::models {

Tensor Classifier::training_loss(const Tensor& ids, const Tensor& labels) {
  return ops::cross_entropy(forward(ids), labels);
}

Result<nlohmann::json> complete_architecture(nlohmann::json a, int64_t vocab_size, int64_t n_classes, int64_t max_len,
                                             uint64_t seed) {
  if (!a.is_object() || !a.contains("arch") || !a["arch"].is_string())
    return Status(Code::kInvalidArgument, "architecture: no \"arch\" (bow, nbsvm, cnn, rnn, lstm, gru, bilstm, transformer, ensemble)");
  const std::string arch = a["arch"];
  nlohmann::json defaults;
  if (arch == "ensemble") {
    if (!a.contains("members") || !a["members"].is_array() || a["members"].empty())
      return Status(Code::kInvalidArgument, "architecture: ensemble needs a non-empty \"members\" list");
    if (a.contains("seed")) seed = a["seed"].get<uint64_t>();
    for (size_t i = 0; i < a["members"].size(); ++i) {
      nlohmann::json& member = a["members"][i];
      if (member.is_object() && member.value("arch", "") == "ensemble")
        return Status(Code::kInvalidArgument, "architecture: ensemble member " + std::to_string(i) + " is an ensemble");
      auto done = complete_architecture(member, vocab_size, n_classes, max_len, seed + i);
      if (!done.is_ok())
        return Status(done.status().code(), "ensemble member " + std::to_string(i) + ": " + done.status().message());
      member = done.value();
    }
    a["seed"] = seed;
    return a;
  }
  if (arch == "bow") {
    defaults = {{"embedding_dim", 100}, {"dropout", 0.0}, {"sparse_grad", true}};
  } else if (arch == "nbsvm") {
    defaults = {{"alpha", 1.0}};
  } else if (arch == "cnn") {
    defaults = {{"embedding_dim", 128}, {"widths", {3, 4, 5}}, {"filters", 100}, {"dropout", 0.5}};
  } else if (arch == "transformer") {
    const int64_t d = a.value("embedding_dim", a.value("hidden_size", int64_t{128}));
    defaults = {{"embedding_dim", d}, {"hidden_size", d},         {"num_layers", 2},   {"n_heads", 4},
                {"dim_feedforward", 4 * d}, {"dropout", 0.1}, {"padding_idx", 0}, {"max_len", max_len}};
  } else if (parse_encoder_arch(arch).is_ok()) {
    defaults = {{"embedding_dim", 128}, {"hidden_size", 128}, {"num_layers", 1}, {"n_heads", 1},
                {"dim_feedforward", 1}, {"dropout", 0.0},     {"padding_idx", 0}, {"max_len", max_len}};
  } else {
    return Status(Code::kInvalidArgument,
                  "architecture: unknown arch '" + arch + "' (bow, nbsvm, cnn, rnn, lstm, gru, bilstm, transformer, ensemble)");
  }
  defaults["seed"] = seed;
  for (auto it = defaults.begin(); it != defaults.end(); ++it)
    if (!a.contains(it.key())) a[it.key()] = it.value();
  a["vocab_size"] = vocab_size, a["n_classes"] = n_classes;  // always the data's
  return a;
}

int64_t architecture_vocab_size(const nlohmann::json& a) {
  if (!a.is_object()) return -1;
  if (a.value("arch", "") != "ensemble" || !a.contains("members") || !a["members"].is_array())
    return a.value("vocab_size", int64_t{-1});
  int64_t vocab = -1;
  for (const auto& member : a["members"]) {
    const int64_t v = architecture_vocab_size(member);
    if (v < 0 || (vocab >= 0 && v != vocab)) return -1;
    vocab = v;
  }
  return vocab;
}

Result<std::unique_ptr<Classifier>> make_classifier(const nlohmann::json& a) {
  try {
    const std::string arch = a.at("arch").get<std::string>();
    std::unique_ptr<Classifier> model;
    if (arch == "ensemble") {
      std::vector<std::unique_ptr<Classifier>> members;
      for (const auto& member : a.at("members")) {
        auto made = make_classifier(member);
        if (!made.is_ok()) return made.status();
        members.push_back(std::move(made.value()));
      }
      if (members.empty()) return Status(Code::kInvalidArgument, "architecture: ensemble has no members");
      model = std::make_unique<EnsembleClassifier>(std::move(members));
    } else if (arch == "bow") {
      BowConfig c;
      c.vocab_size = a.at("vocab_size").get<int64_t>(), c.embedding_dim = a.at("embedding_dim").get<int64_t>();
      c.n_classes = a.at("n_classes").get<int64_t>(), c.dropout = a.at("dropout").get<double>();
      c.sparse_grad = a.value("sparse_grad", true), c.seed = a.at("seed").get<uint64_t>();
      model = std::make_unique<BowClassifier>(c);
    } else if (arch == "nbsvm") {
      NbsvmConfig c;
      c.vocab_size = a.at("vocab_size").get<int64_t>(), c.n_classes = a.at("n_classes").get<int64_t>();
      c.alpha = a.at("alpha").get<double>(), c.sparse_grad = a.value("sparse_grad", true);
      if (!(c.alpha > 0)) return Status(Code::kInvalidArgument, "architecture: nbsvm alpha must be positive");
      model = std::make_unique<NbsvmClassifier>(c);
    } else if (arch == "cnn") {
      CnnConfig c;
      c.vocab_size = a.at("vocab_size").get<int64_t>(), c.embedding_dim = a.at("embedding_dim").get<int64_t>();
      c.widths = a.at("widths").get<std::vector<int64_t>>(), c.filters = a.at("filters").get<int64_t>();
      c.n_classes = a.at("n_classes").get<int64_t>(), c.dropout = a.at("dropout").get<double>();
      c.seed = a.at("seed").get<uint64_t>();
      model = std::make_unique<CnnClassifier>(c);
    } else {
      auto c = TextClassifier::config_from_json(a);
      if (!c.is_ok()) return c.status();
      model = std::make_unique<TextClassifier>(c.value());
    }
    return model;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kInvalidArgument, std::string("architecture: ") + e.what());
  } catch (const Error& e) {
    return Status(e.code(), std::string("architecture: ") + e.what());
  }
}

}  // namespace lmaas::models
