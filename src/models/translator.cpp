#include "models/translator.h"

#include <cmath>

#include "models/lstm_translator.h"
#include "models/transformer_translator.h"
#include "nn/init.h"
#include "ops/ops.h"

namespace lmaas::models {
namespace {

Status bad(const std::string& what) { return Status(Code::kInvalidArgument, "translator architecture: " + what); }

Status check_config(const TranslatorConfig& c) {
  if (c.arch != "transformer" && c.arch != "lstm")
    return bad("arch must be \"transformer\" or \"lstm\", got \"" + c.arch + "\"");
  if (c.src_vocab_size < 4 || c.tgt_vocab_size < 4) return bad("vocabulary sizes must be at least 4");
  if (c.d_model <= 0) return bad("d_model must be positive");
  if (c.arch == "transformer" && (c.n_heads <= 0 || c.d_model % c.n_heads != 0))
    return bad("d_model " + std::to_string(c.d_model) + " must be a positive multiple of n_heads " +
               std::to_string(c.n_heads));
  if (c.arch == "lstm" && (c.hidden_size < 2 || c.hidden_size % 2 != 0))
    return bad("hidden_size must be even (the bidirectional encoder has half per direction), got " +
               std::to_string(c.hidden_size));
  if (c.arch == "lstm" && c.tie_output && c.d_model != c.hidden_size)
    return bad("tie_output needs d_model == hidden_size for lstm (" + std::to_string(c.d_model) + " vs " +
               std::to_string(c.hidden_size) + "); set tie_output false or make them equal");
  if (c.dim_feedforward <= 0 || c.encoder_layers < 1 || c.decoder_layers < 1)
    return bad("dim_feedforward, encoder_layers and decoder_layers must be positive");
  if (c.dropout < 0 || c.dropout >= 1) return bad("dropout must be in [0, 1)");
  if (c.positions != "sinusoidal" && c.positions != "learned")
    return bad("positions must be \"sinusoidal\" or \"learned\", got \"" + c.positions + "\"");
  if (c.share_embeddings && c.src_vocab_size != c.tgt_vocab_size)
    return bad("share_embeddings needs one vocabulary (src_vocab_size " + std::to_string(c.src_vocab_size) +
               " != tgt_vocab_size " + std::to_string(c.tgt_vocab_size) + ")");
  if (c.max_len < 2) return bad("max_len must be at least 2");
  for (int32_t id : {c.pad_id, c.bos_id, c.eos_id})
    if (id < 0 || id >= c.tgt_vocab_size || id >= c.src_vocab_size) return bad("special ids must be inside both vocabularies");
  return Status::ok();
}

}  // namespace

Result<TranslatorConfig> translator_config_from_json(const nlohmann::json& j) {
  TranslatorConfig c;
  try {
    c.arch = j.value("arch", c.arch);
    if (c.arch == "lstm") c.encoder_layers = c.decoder_layers = 2;
    c.src_vocab_size = j.at("src_vocab_size").get<int64_t>();
    c.tgt_vocab_size = j.at("tgt_vocab_size").get<int64_t>();
    c.d_model = j.value("d_model", c.d_model);
    c.n_heads = j.value("n_heads", c.n_heads);
    c.dim_feedforward = j.value("dim_feedforward", c.dim_feedforward);
    c.hidden_size = j.value("hidden_size", c.arch == "lstm" ? c.d_model : c.hidden_size);
    c.encoder_layers = j.value("encoder_layers", c.encoder_layers);
    c.decoder_layers = j.value("decoder_layers", c.decoder_layers);
    c.dropout = j.value("dropout", c.dropout);
    c.norm_first = j.value("norm_first", c.norm_first);
    c.positions = j.value("positions", c.positions);
    c.share_embeddings = j.value("share_embeddings", c.share_embeddings);
    c.tie_output = j.value("tie_output", c.tie_output);
    c.max_len = j.value("max_len", c.max_len);
    c.pad_id = j.value("pad_id", c.pad_id);
    c.bos_id = j.value("bos_id", c.bos_id);
    c.eos_id = j.value("eos_id", c.eos_id);
    c.seed = j.value("seed", c.seed);
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  Status s = check_config(c);
  if (!s.is_ok()) return s;
  return c;
}

nlohmann::json translator_config_to_json(const TranslatorConfig& c) {
  nlohmann::json j = {{"arch", c.arch},
                      {"src_vocab_size", c.src_vocab_size},
                      {"tgt_vocab_size", c.tgt_vocab_size},
                      {"d_model", c.d_model},
                      {"encoder_layers", c.encoder_layers},
                      {"decoder_layers", c.decoder_layers},
                      {"dropout", c.dropout},
                      {"share_embeddings", c.share_embeddings},
                      {"tie_output", c.tie_output},
                      {"max_len", c.max_len},
                      {"pad_id", c.pad_id},
                      {"bos_id", c.bos_id},
                      {"eos_id", c.eos_id},
                      {"seed", c.seed}};
  if (c.arch == "lstm") {
    j["hidden_size"] = c.hidden_size;
  } else {
    j["n_heads"] = c.n_heads, j["dim_feedforward"] = c.dim_feedforward;
    j["norm_first"] = c.norm_first, j["positions"] = c.positions;
  }
  return j;
}

std::pair<std::shared_ptr<nn::Embedding>, std::shared_ptr<nn::Embedding>> Translator::register_embeddings(Rng& rng) {
  const TranslatorConfig& c = config_;
  auto init = [&](const nn::Embedding& embedding) {
    Tensor w = embedding.weight();
    nn::init::normal(w, rng, 0.0, 1.0 / std::sqrt(static_cast<double>(c.d_model)));
    float* row = w.data<float>() + static_cast<int64_t>(c.pad_id) * c.d_model;
    std::fill(row, row + c.d_model, 0.0f);
  };
  if (c.share_embeddings) {
    auto shared = register_module("embedding", std::make_shared<nn::Embedding>(c.src_vocab_size, c.d_model, rng, c.pad_id));
    init(*shared);
    return {shared, shared};
  }
  auto src = register_module("src_embedding", std::make_shared<nn::Embedding>(c.src_vocab_size, c.d_model, rng, c.pad_id));
  auto tgt = register_module("tgt_embedding", std::make_shared<nn::Embedding>(c.tgt_vocab_size, c.d_model, rng, c.pad_id));
  init(*src);
  init(*tgt);
  return {src, tgt};
}

Tensor Translator::padding_mask(const Tensor& ids) const {
  Tensor c = ids.contiguous(), out = Tensor::empty(ids.shape(), DType::kU8);
  const int32_t* p = c.data<int32_t>();
  uint8_t* m = out.data<uint8_t>();
  for (int64_t i = 0; i < c.numel(); ++i) m[i] = p[i] == config_.pad_id;
  return out;
}

Tensor Translator::real_token_loss(const Tensor& h, const Tensor& tgt_out, double label_smoothing,
                                   const std::function<Tensor(const Tensor&)>& project) const {
  Tensor expected = tgt_out.contiguous();
  std::vector<int32_t> rows, targets;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const int32_t t = expected.data<int32_t>()[i];
    if (t != config_.pad_id) rows.push_back(static_cast<int32_t>(i)), targets.push_back(t);
  }
  const auto n = static_cast<int64_t>(rows.size());
  Tensor real = ops::gather_rows(ops::reshape(h, {expected.numel(), h.size(-1)}), Tensor::from_vector(rows, {n}));
  return ops::cross_entropy(project(real), Tensor::from_vector(targets, {n}), config_.pad_id, label_smoothing);
}

void Translator::select_rows(DecoderState& state, const Tensor& rows, const Tensor& memory_rows) {
  auto pick = [](Tensor& t, const Tensor& which) {
    if (!t.defined()) return;
    Shape shape = t.shape();
    shape[0] = which.size(0);
    t = ops::reshape(ops::gather_rows(ops::reshape(t, {t.size(0), t.numel() / t.size(0)}), which), shape);
  };
  for (Tensor& t : state.rows) pick(t, rows);
  if (!memory_rows.defined()) return;
  for (Tensor& t : state.memory) pick(t, memory_rows);
  const Tensor& mask = state.memory_key_padding_mask;
  Tensor picked = Tensor::empty({memory_rows.size(0), mask.size(1)}, DType::kU8);
  const int32_t* r = memory_rows.data<int32_t>();
  for (int64_t i = 0; i < memory_rows.size(0); ++i)
    std::copy_n(mask.data<uint8_t>() + r[i] * mask.size(1), mask.size(1), picked.data<uint8_t>() + i * mask.size(1));
  state.memory_key_padding_mask = picked;
}

Result<std::unique_ptr<Translator>> make_translator(const TranslatorConfig& config) {
  Status s = check_config(config);
  if (!s.is_ok()) return s;
  if (config.arch == "lstm") return std::unique_ptr<Translator>(std::make_unique<LstmTranslator>(config));
  return std::unique_ptr<Translator>(std::make_unique<TransformerTranslator>(config));
}

}  // namespace lmaas::models
