#include "models/classifier.h"

#include "models/bow_classifier.h"
#include "models/cnn_classifier.h"
#include "models/text_classifier.h"

namespace lmaas::models {

Result<std::unique_ptr<Classifier>> make_classifier(const nlohmann::json& a) {
  try {
    const std::string arch = a.at("arch").get<std::string>();
    std::unique_ptr<Classifier> model;
    if (arch == "bow") {
      BowConfig c;
      c.vocab_size = a.at("vocab_size").get<int64_t>(), c.embedding_dim = a.at("embedding_dim").get<int64_t>();
      c.n_classes = a.at("n_classes").get<int64_t>(), c.dropout = a.at("dropout").get<double>();
      c.seed = a.at("seed").get<uint64_t>();
      model = std::make_unique<BowClassifier>(c);
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
