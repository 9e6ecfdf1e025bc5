// lmaas tokenize: the token ids a pretrained model's tokenizer gives each line of stdin, space-separated,
// one output line per input line (`--raw`: all of stdin as one text, newlines included). The model file
// may be a GGUF file (vocabulary-only files too) or a llama2.c checkpoint (its tokenizer beside it, or
// --tokenizer). By default only the text's own tokens are printed (no BOS/EOS), as tokenizer test
// vectors list them; --add-special adds what the model adds when it encodes a prompt, --parse-special
// reads control tokens written in the text ("<s>", "<|endoftext|>") as those tokens.
#include <cstdio>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "models/llm_loader.h"

namespace lmaas::cli {
namespace {

struct TokenizeArgs {
  std::string model, tokenizer;
  bool raw = false, add_special = false, parse_special = false, pieces = false;
};

void print_ids(const text::LlmTokenizer& tokenizer, std::string_view text, const TokenizeArgs& args) {
  const std::vector<int32_t> ids = tokenizer.encode(text, args.add_special, args.parse_special);
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) line += ' ';
    line += std::to_string(ids[i]);
    if (args.pieces) line += ":" + nlohmann::json(tokenizer.token_to_piece(ids[i])).dump(-1, ' ', false,
                                                                                         nlohmann::json::error_handler_t::replace);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
}

int run_tokenize(const TokenizeArgs& args) {
  auto tokenizer = models::load_llm_tokenizer(args.model, {args.tokenizer});
  if (!tokenizer.is_ok()) throw Error(tokenizer.status());
  const text::LlmTokenizer& tok = *tokenizer.value();
  if (args.raw) {
    const std::string all((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    print_ids(tok, all, args);
  } else {
    for (std::string line; std::getline(std::cin, line);) print_ids(tok, line, args);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<TokenizeArgs>();
  CLI::App* cmd = app.add_subcommand("tokenize", "Token ids of stdin's lines under a pretrained model's tokenizer");
  cmd->add_option("--model", args->model, "GGUF file (vocabulary-only is enough) or llama2.c checkpoint")->required();
  cmd->add_option("--tokenizer", args->tokenizer, "llama2.c tokenizer file (default: tokenizer.bin or tok<vocab>.bin beside the checkpoint)");
  cmd->add_flag("--raw", args->raw, "tokenize all of stdin as one text (newlines included) instead of line by line");
  cmd->add_flag("--add-special", args->add_special, "add the BOS/EOS tokens the model adds to a prompt");
  cmd->add_flag("--parse-special", args->parse_special, "read control tokens written in the text as those tokens");
  cmd->add_flag("--pieces", args->pieces, "print id:\"piece\" pairs");
  cmd->callback([args, &exit_code] { exit_code = run_tokenize(*args); });
}

}  // namespace lmaas::cli
