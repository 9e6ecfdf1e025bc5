// load_llm: see llm_loader.h. The GGUF metadata → config mapping lives in llm_gguf_config.cpp.
#include "models/llm_loader.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "base/mapped_file.h"
#include "kernels/cpu/quant.h"
#include "formats/gguf.h"
#include "formats/gguf_vocab.h"
#include "formats/hf_tokenizer.h"
#include "formats/llama2c_checkpoint.h"
#include "models/llm_bundle.h"
#include "models/llm_gguf_config.h"
#include "models/llm_hf_checkpoint.h"
#include "text/llama2c_tokenizer.h"

namespace lmaas::models {

namespace k = lmaas::kernels;

namespace {

// The llama2.c tokenizer beside a checkpoint: tokenizer.bin, else tok<vocab>.bin.
std::string find_llama2c_tokenizer(const std::string& checkpoint, int64_t n_vocab) {
  const std::filesystem::path dir = std::filesystem::path(checkpoint).parent_path();
  for (const std::string& name : {std::string("tokenizer.bin"), fmt::format("tok{}.bin", n_vocab)}) {
    const auto candidate = dir / name;
    if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return {};
}

bool is_gguf(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0;
}

using TokenizerPtr = std::shared_ptr<const text::LlmTokenizer>;

Result<TokenizerPtr> make_tokenizer(text::LlmVocab vocab) {
  LMAAS_ASSIGN_OR_RETURN(text::LlmTokenizer tokenizer, text::LlmTokenizer::create(std::move(vocab)));
  return std::make_shared<const text::LlmTokenizer>(std::move(tokenizer));
}

Result<TokenizerPtr> gguf_tokenizer(const GgufFile& file) {
  LMAAS_ASSIGN_OR_RETURN(text::LlmVocab vocab, vocab_from_gguf(file));
  return make_tokenizer(std::move(vocab));
}

// The tokenizer of a llama2.c checkpoint: options.tokenizer_path, or the file beside the checkpoint.
Result<TokenizerPtr> llama2c_tokenizer(const std::string& checkpoint, int64_t n_vocab, const LlmLoadOptions& options) {
  std::string path = options.tokenizer_path;
  if (path.empty()) path = find_llama2c_tokenizer(checkpoint, n_vocab);
  if (path.empty()) {
    return Status(Code::kNotFound, fmt::format("{}: a llama2.c checkpoint needs its tokenizer: none of tokenizer.bin, "
                                               "tok{}.bin is beside it; pass the tokenizer file (--tokenizer)",
                                               checkpoint, n_vocab));
  }
  LMAAS_ASSIGN_OR_RETURN(text::LlmVocab vocab, text::read_llama2c_tokenizer(path, static_cast<int32_t>(n_vocab)));
  return make_tokenizer(std::move(vocab));
}

Result<LoadedLlm> load_llama2c(std::shared_ptr<const MappedFile> file, const LlmLoadOptions& options) {
  const std::string& path = file->path();
  LMAAS_ASSIGN_OR_RETURN(Llama2cCheckpoint ckpt, parse_llama2c_checkpoint(file->bytes(), path));
  const LlamaConfig config = llama_config_from_llama2c(ckpt.header);
  NamedWeights named;
  for (const Llama2cTensor& t : ckpt.tensors) named[t.name] = {k::WeightType::kF32, t.n_rows, t.n_cols, t.data};
  LMAAS_ASSIGN_OR_RETURN(LlamaWeights weights, llama_weights_from_named(config, find_in(named)));
  weights.owners.push_back(file);

  LoadedLlm out;
  LMAAS_ASSIGN_OR_RETURN(out.tokenizer, llama2c_tokenizer(path, config.n_vocab, options));
  out.model = std::make_shared<LlamaModel>(config, std::move(weights));
  out.format = "llama2c";
  out.name = std::filesystem::path(path).stem().string();
  return out;
}

Result<LoadedLlm> load_gguf(const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::open(path));
  auto file = std::make_shared<const GgufFile>(std::move(gguf));
  LMAAS_ASSIGN_OR_RETURN(LlamaConfig config, llama_config_from_gguf(*file));

  NamedWeights named;
  for (const GgufTensor& t : file->tensors()) {
    // Only a tensor the model uses needs a supported type (null data marks the others).
    const auto type = k::weight_type_from_gguf(static_cast<uint32_t>(t.type));
    const int64_t n_cols = t.dims.empty() ? 1 : t.dims[0];
    const int64_t n_rows = n_cols == 0 ? 0 : t.n_elements / n_cols;
    named[std::string(t.name)] = {type.value_or(k::WeightType::kF32), n_rows, n_cols, type ? t.data : nullptr};
  }
  auto weights = llama_weights_from_named(config, find_in(named));
  if (!weights.is_ok()) {
    return Status(weights.status().code(), fmt::format("{}: {}", path, weights.status().message()));
  }
  weights.value().owners.push_back(file);

  LoadedLlm out;
  LMAAS_ASSIGN_OR_RETURN(out.tokenizer, gguf_tokenizer(*file));
  out.model = std::make_shared<LlamaModel>(config, std::move(weights.value()));
  out.format = "gguf";
  LMAAS_ASSIGN_OR_RETURN(out.name, file->get_string_or("general.name", std::filesystem::path(path).stem().string()));
  LMAAS_ASSIGN_OR_RETURN(out.chat_template, file->get_string_or("tokenizer.chat_template", ""));
  return out;
}

Result<TokenizerPtr> hf_tokenizer(const std::string& dir) {
  LMAAS_ASSIGN_OR_RETURN(HfTokenizerFiles files, read_hf_tokenizer(dir));
  return make_tokenizer(std::move(files.vocab));
}

Result<LoadedLlm> load_hf(const std::string& dir) {
  LMAAS_ASSIGN_OR_RETURN(HfConfig config, read_hf_config(dir));
  LMAAS_ASSIGN_OR_RETURN(LlamaWeights weights, llama_weights_from_hf(dir, config));
  LMAAS_ASSIGN_OR_RETURN(HfTokenizerFiles files, read_hf_tokenizer(dir));
  LoadedLlm out;
  out.chat_template = std::move(files.chat_template);
  LMAAS_ASSIGN_OR_RETURN(out.tokenizer, make_tokenizer(std::move(files.vocab)));
  out.model = std::make_shared<LlamaModel>(config.llama, std::move(weights));
  out.format = "hf";
  out.name = std::filesystem::path(dir).lexically_normal().filename().string();
  if (out.name.empty()) out.name = std::filesystem::path(dir).lexically_normal().parent_path().filename().string();
  return out;
}

}  // namespace

LlamaConfig llama_config_from_llama2c(const Llama2cHeader& h) {
  LlamaConfig config;
  config.n_vocab = h.vocab_size;
  config.dim = h.dim;
  config.hidden_dim = h.hidden_dim;
  config.n_layers = h.n_layers;
  config.n_heads = h.n_heads;
  config.n_kv_heads = h.n_kv_heads;
  config.head_dim = h.dim / h.n_heads;
  config.context_length = h.seq_len;
  config.rms_eps = 1e-5f;  // llama2.c's fixed value
  config.rope_style = k::ref::RopeStyle::kAdjacentPairs;
  return config;
}

namespace {

// A model path resolved to the file to read: a generator directory becomes the file (and tokenizer) its
// bundle names; the file is mapped and its format recognised (a GGUF file's mapping is left to GgufFile).
struct ModelFile {
  enum class Format { kGguf, kLlama2c, kHf };
  std::string path;
  LlmLoadOptions options;
  Format format = Format::kGguf;
  std::shared_ptr<const MappedFile> llama2c;  // the mapped checkpoint for kLlama2c
};

Result<ModelFile> open_model_file(const std::string& path, const LlmLoadOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec) && is_hf_checkpoint(path)) {
    return ModelFile{path, options, ModelFile::Format::kHf, nullptr};
  }
  if (std::filesystem::is_directory(path, ec)) {  // an lmaas generator directory (llm_bundle.h)
    LMAAS_ASSIGN_OR_RETURN(std::optional<LlmBundle> bundle, read_llm_bundle(path));
    if (!bundle) {
      return Status(Code::kInvalidArgument, path + ": not a generator directory (no config.json with task "
                                                   "\"generation\", no .gguf file) nor a Hugging Face checkpoint "
                                                   "(config.json with model.safetensors)");
    }
    LlmLoadOptions with_tokenizer = options;
    if (with_tokenizer.tokenizer_path.empty()) with_tokenizer.tokenizer_path = bundle->tokenizer;
    return open_model_file(bundle->file, with_tokenizer);
  }
  LMAAS_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  ModelFile f{path, options, ModelFile::Format::kGguf, nullptr};
  if (is_gguf(mapped.bytes())) return f;
  if (!looks_like_llama2c(mapped.bytes())) {
    return Status(Code::kInvalidArgument,
                  fmt::format("{}: not a model file lmaas reads (expected a GGUF file or a llama2.c checkpoint)", path));
  }
  f.format = ModelFile::Format::kLlama2c;
  f.llama2c = std::make_shared<const MappedFile>(std::move(mapped));
  return f;
}

}  // namespace

Result<std::shared_ptr<const text::LlmTokenizer>> load_llm_tokenizer(const std::string& path,
                                                                     const LlmLoadOptions& options) {
  LMAAS_ASSIGN_OR_RETURN(ModelFile f, open_model_file(path, options));
  if (f.format == ModelFile::Format::kHf) return hf_tokenizer(f.path);
  if (f.format == ModelFile::Format::kGguf) {
    LMAAS_ASSIGN_OR_RETURN(GgufFile file, GgufFile::open(f.path));
    return gguf_tokenizer(file);
  }
  LMAAS_ASSIGN_OR_RETURN(Llama2cCheckpoint ckpt, parse_llama2c_checkpoint(f.llama2c->bytes(), f.path));
  return llama2c_tokenizer(f.path, ckpt.header.vocab_size, f.options);
}

Result<LoadedLlm> load_llm(const std::string& path, const LlmLoadOptions& options) {
  LMAAS_ASSIGN_OR_RETURN(ModelFile f, open_model_file(path, options));
  if (f.format == ModelFile::Format::kHf) return load_hf(f.path);
  if (f.format == ModelFile::Format::kGguf) return load_gguf(f.path);
  return load_llama2c(std::move(f.llama2c), f.options);
}

}  // namespace lmaas::models
