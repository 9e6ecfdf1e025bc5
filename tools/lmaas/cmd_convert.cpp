// lmaas convert / lmaas quantize: rewrite a pretrained LLaMA-family model as a GGUF file, as an lmaas
// generator directory (config.json + model.gguf, models/llm_bundle.h), or as a Hugging Face checkpoint
// directory (models/llm_hf_writer.h). --format picks one; by default an output ending in .gguf is a GGUF file
// and anything else an lmaas directory.
//   lmaas convert --input stories260K.bin --output stories260K.gguf            llama2.c → GGUF (f32)
//   lmaas convert --input model.gguf --output models/my-llm/1 --type q8_0      → an lmaas model directory
//   lmaas convert --input model.gguf --output model-q8.gguf --type q8_0        any supported type
//   lmaas convert --input model.gguf --output hf-dir --format hf [--type bf16]  → config.json + safetensors +
//                                                                               tokenizer.json
//   lmaas quantize model-f16.gguf model-q4_0.gguf q4_0                         llama-quantize's shape
//   lmaas convert --random-llama --output bench.gguf --type f16 [--dim 768 …]  random weights (benchmarks)
//                 [--tokenizer ggml-vocab-llama-spm.gguf]                     … carrying a real tokenizer
// Every weight matrix gets --type (default: the input's, f32 for llama2.c; f16 for a quantized input written as
// Hugging Face, which holds only f32/f16/bf16); norms stay f32; the tokenizer and chat template travel with the
// model, so the output runs in lmaas and in llama.cpp or transformers alike.
#include <cstdio>

#include "base/thread_pool.h"
#include "commands.h"
#include "models/llm_bundle.h"
#include "models/llm_hf_writer.h"
#include "models/llm_loader.h"
#include "models/llm_writer.h"

namespace lmaas::cli {
namespace {

struct ConvertArgs {
  std::string input, output, tokenizer, type, name, format;
  int64_t max_shard_mb = 5000;
  bool random = false;
  models::LlamaConfig random_config;
  uint64_t seed = 1;
  int threads = 0;
};

kernels::WeightType parse_type(const std::string& name) {
  for (kernels::WeightType t : {kernels::WeightType::kF32, kernels::WeightType::kF16, kernels::WeightType::kBF16,
                                kernels::WeightType::kQ8_0, kernels::WeightType::kQ4_0}) {
    if (kernels::weight_type_name(t) == name) return t;
  }
  throw Error(Code::kInvalidArgument, "--type " + name + ": expected one of f32, f16, bf16, q8_0, q4_0");
}

// --format, or what the output's name implies.
std::string output_format(const ConvertArgs& args) {
  if (args.format.empty()) return args.output.size() > 5 && args.output.ends_with(".gguf") ? "gguf" : "lmaas";
  if (args.format != "gguf" && args.format != "lmaas" && args.format != "hf") {
    throw Error(Code::kInvalidArgument, "--format " + args.format + ": expected gguf, lmaas or hf");
  }
  return args.format;
}

int run_convert(ConvertArgs args) {
  if (args.threads > 0) set_num_threads(args.threads);
  const std::string format = output_format(args);
  models::LlmWriteOptions options;
  std::shared_ptr<models::LlamaModel> model;
  text::LlmVocab vocab;
  if (args.random) {
    models::LlamaConfig& c = args.random_config;
    // A real tokenizer (a vocabulary-only GGUF is enough) makes prompts as long as that model's would be.
    std::shared_ptr<const text::LlmTokenizer> tokenizer;
    if (!args.tokenizer.empty()) {
      auto loaded = models::load_llm_tokenizer(args.tokenizer);
      if (!loaded.is_ok()) throw Error(loaded.status());
      tokenizer = loaded.value();
      c.n_vocab = static_cast<int>(tokenizer->n_vocab());
    }
    c.head_dim = c.n_heads > 0 ? c.dim / c.n_heads : 0;
    if (c.n_kv_heads == 0) c.n_kv_heads = c.n_heads;
    const Status valid = c.validate();
    if (!valid.is_ok()) throw Error(valid);
    models::RandomLlama random = models::random_llama(c, args.seed);
    model = random.model;
    vocab = tokenizer ? tokenizer->vocab() : std::move(random.vocab);
    options.type = parse_type(args.type.empty() ? "f16" : args.type);
    options.name = args.name.empty() ? "random-llama" : args.name;
  } else {
    if (args.input.empty()) throw Error(Code::kInvalidArgument, "--input is required (or --random-llama)");
    auto loaded = models::load_llm(args.input, {args.tokenizer});
    if (!loaded.is_ok()) throw Error(loaded.status());
    model = loaded.value().model;
    vocab = loaded.value().tokenizer->vocab();
    options.type = args.type.empty() ? model->weights().layers.at(0).wq.type : parse_type(args.type);
    if (args.type.empty() && format == "hf" && kernels::block_size(options.type) > 1) options.type = kernels::WeightType::kF16;
    options.name = args.name.empty() ? loaded.value().name : args.name;
    options.chat_template = loaded.value().chat_template;
  }
  Status written;
  if (format == "gguf") {
    written = models::write_llama_gguf(args.output, *model, vocab, options);
  } else if (format == "lmaas") {
    written = models::write_llm_bundle(args.output, *model, vocab, options);
  } else {
    if (args.max_shard_mb <= 0) throw Error(Code::kInvalidArgument, "--max-shard-mb must be positive");
    written = models::write_llama_hf(args.output, *model, vocab,
                                     {options.type, options.chat_template, args.max_shard_mb * 1'000'000});
  }
  if (!written.is_ok()) throw Error(written);
  std::fprintf(stderr, "wrote %s: %lld parameters, weights %s\n", args.output.c_str(),
               static_cast<long long>(model->n_params()), std::string(kernels::weight_type_name(options.type)).c_str());
  return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<ConvertArgs>();
  models::LlamaConfig& c = args->random_config;
  // A LLaMA of about 110M parameters (tied embeddings) unless told otherwise.
  c.dim = 768;
  c.hidden_dim = 2048;
  c.n_layers = 12;
  c.n_heads = 12;
  c.n_vocab = 32000;
  c.context_length = 2048;
  CLI::App* cmd = app.add_subcommand(
      "convert", "Write a pretrained LLaMA-family model (GGUF, llama2.c, Hugging Face) as GGUF, lmaas or Hugging Face");
  cmd->add_option("--input,-i", args->input,
                  "GGUF file, llama2.c checkpoint, Hugging Face checkpoint or lmaas generator directory");
  cmd->add_option("--output,-o", args->output, "file or directory to write (atomically)")->required();
  cmd->add_option("--format", args->format,
                  "gguf (a file) | lmaas (a model directory) | hf (a Hugging Face checkpoint directory); default: "
                  "gguf when --output ends in .gguf, else lmaas");
  cmd->add_option("--max-shard-mb", args->max_shard_mb, "--format hf: largest safetensors file, in MB (10^6 bytes)")
      ->capture_default_str();
  cmd->add_option("--type", args->type, "weight type: f32 | f16 | bf16 | q8_0 | q4_0 (default: the input's)");
  cmd->add_option("--tokenizer", args->tokenizer,
                  "llama2.c tokenizer file (default: beside the checkpoint); with --random-llama, the tokenizer "
                  "to carry instead of a synthetic one (GGUF or llama2.c; --vocab follows it)");
  cmd->add_option("--name", args->name, "general.name of the output");
  cmd->add_flag("--random-llama", args->random, "random weights instead of --input (for benchmarks)");
  cmd->add_option("--dim", c.dim, "--random-llama: embedding width")->capture_default_str();
  cmd->add_option("--ff", c.hidden_dim, "--random-llama: feed-forward width")->capture_default_str();
  cmd->add_option("--layers", c.n_layers, "--random-llama: blocks")->capture_default_str();
  cmd->add_option("--heads", c.n_heads, "--random-llama: attention heads")->capture_default_str();
  cmd->add_option("--kv-heads", c.n_kv_heads, "--random-llama: key/value heads (default: --heads)");
  cmd->add_option("--vocab", c.n_vocab, "--random-llama: vocabulary size")->capture_default_str();
  cmd->add_option("--context", c.context_length, "--random-llama: context length")->capture_default_str();
  cmd->add_option("--seed", args->seed, "--random-llama: seed")->capture_default_str();
  cmd->add_option("--threads,-t", args->threads, "threads (default: all cores)");
  cmd->callback([args, &exit_code] { exit_code = run_convert(*args); });

  auto q = std::make_shared<ConvertArgs>();
  CLI::App* quantize = app.add_subcommand("quantize", "Rewrite a GGUF or llama2.c model with another weight type");
  quantize->add_option("input", q->input, "model file")->required();
  quantize->add_option("output", q->output, "GGUF file to write")->required();
  quantize->add_option("type", q->type, "f32 | f16 | bf16 | q8_0 | q4_0")->required();
  quantize->add_option("--threads,-t", q->threads, "threads (default: all cores)");
  quantize->callback([q, &exit_code] { exit_code = run_convert(*q); });
}

}  // namespace lmaas::cli
