// Translator: the interface of sequence-to-sequence translation models, their shared config, the
// incremental decoding state, and the factory. Architectures:
//   transformer  TransformerTranslator (transformer_translator.h): encoder–decoder, key/value cache
//   lstm         LstmTranslator (lstm_translator.h): bidirectional LSTM encoder, LSTM decoder with
//                Luong-style attention
// Ids: pad_id pads both sides (ignored by attention and loss); targets start with bos_id and end with eos_id.
// Training runs on one thread; decoding under NoGradGuard in eval mode may run on several threads at once,
// each with its own DecoderState.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/rng.h"
#include "nn/embedding.h"
#include "nn/module.h"

namespace lmaas::models {

struct TranslatorConfig {
  std::string arch = "transformer";  // transformer | lstm
  int64_t src_vocab_size = 0, tgt_vocab_size = 0;
  int64_t d_model = 256;             // transformer width; lstm: embedding width
  int64_t n_heads = 4, dim_feedforward = 1024;  // transformer
  int64_t hidden_size = 512;         // lstm: decoder state (the bidirectional encoder has half per direction)
  int64_t encoder_layers = 3, decoder_layers = 3;
  double dropout = 0.1;
  bool norm_first = true;                // transformer
  std::string positions = "sinusoidal";  // transformer: sinusoidal | learned
  bool share_embeddings = false;         // one table for both sides (needs equal vocab sizes)
  bool tie_output = true;                // output projection = target embedding
  int64_t max_len = 256;                 // longest source or target (in tokens, BOS/EOS included)
  int32_t pad_id = 0, bos_id = 2, eos_id = 3;
  uint64_t seed = 1;
};
// Missing fields take the defaults above (lstm: 2 + 2 layers when the layers are not given); errors
// name the field.
Result<TranslatorConfig> translator_config_from_json(const nlohmann::json& j);
nlohmann::json translator_config_to_json(const TranslatorConfig& c);

// The decoder's incremental state for N rows (sentences × beams). Every tensor has its rows in dim 0:
// `rows` follow the hypotheses (self-attention caches, recurrent states) and are reordered by beam
// search each step; `memory` follows the sentences (encoder outputs, projected keys and values) and
// moves only when a sentence leaves.
struct DecoderState {
  std::vector<Tensor> rows;
  std::vector<Tensor> memory;
  Tensor memory_key_padding_mask;  // U8 [N, Ts]
  int64_t steps = 0;
  int64_t n_rows() const { return memory_key_padding_mask.size(0); }
};

class Translator : public nn::Module {
 public:
  const TranslatorConfig& config() const { return config_; }
  // U8 [B, T], 1 where ids == pad_id (attention's key_padding_mask).
  Tensor padding_mask(const Tensor& ids) const;
  // src ids[B, Ts] → memory [B, Ts, D].
  virtual Tensor encode(const Tensor& src_ids, const Tensor& src_padding_mask) = 0;
  // Teacher-forced logits [B, Tt, V] for decoder inputs tgt_in [B, Tt].
  virtual Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) = 0;
  // Mean label-smoothed cross-entropy of predicting tgt_out[B, Tt] (pad ignored).
  virtual Tensor loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out, double label_smoothing) = 0;
  // Incremental decoding (eval mode, no grad): start from the memory, then feed one token per row per
  // step and read log-probabilities [N, V] of the next token.
  virtual DecoderState start_decoding(const Tensor& memory, const Tensor& src_padding_mask) = 0;
  virtual Tensor decode_step(DecoderState& state, const Tensor& last_tokens) = 0;
  // Keeps rows `rows` (I32 [M], any order, repeats allowed) of state.rows, and rows `memory_rows` of
  // state.memory and the mask (undefined: the memory stays as it is).
  static void select_rows(DecoderState& state, const Tensor& rows, const Tensor& memory_rows);

 protected:
  explicit Translator(const TranslatorConfig& config) : config_(config) {}
  // The source and target embedding tables [vocab, d_model] — one shared table ("embedding") or one per
  // side ("src_embedding", "tgt_embedding") — registered and initialised as fairseq does: N(0, d^-½), so
  // that a √d-scaled embedding has unit variance; the padding row stays zero.
  std::pair<std::shared_ptr<nn::Embedding>, std::shared_ptr<nn::Embedding>> register_embeddings(Rng& rng);
  // Cross-entropy over the real target positions only: `h` [B, Tt, D] are the states under the output
  // projection `project`, which then runs on fewer rows (padding would be ignored by the loss anyway).
  Tensor real_token_loss(const Tensor& h, const Tensor& tgt_out, double label_smoothing,
                         const std::function<Tensor(const Tensor&)>& project) const;

  TranslatorConfig config_;
};

// An untrained model (seeded initialisation) of config.arch.
Result<std::unique_ptr<Translator>> make_translator(const TranslatorConfig& config);

}  // namespace lmaas::models
