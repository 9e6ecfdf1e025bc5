// llama2.c tokenizer.bin reader (see llama2c_tokenizer.h).
#include "text/llama2c_tokenizer.h"

#include <cstring>

#include "base/file_util.h"

namespace lmaas::text {
namespace {

template <typename T>
T load(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

Status data_loss(const std::string& source, const std::string& message) {
  return Status(Code::kDataLoss, "llama2.c tokenizer '" + source + "': " + message);
}

bool is_byte_piece(std::string_view piece) {
  return piece.size() == 6 && piece.substr(0, 3) == "<0x" && piece[5] == '>' &&
         piece.find_first_not_of("0123456789ABCDEFabcdef", 3) == 5;
}

// The SentencePiece piece llama2.c exported as `text`.
std::string restore_piece(std::string_view text, int32_t id) {
  if ((id == 1 && text == "\n<s>\n") || (id == 2 && text == "\n</s>\n"))
    text = text.substr(1, text.size() - 2);
  std::string piece;
  piece.reserve(text.size() + 8);
  for (char c : text) {
    if (c == ' ') {
      piece.append("\xE2\x96\x81");
    } else {
      piece.push_back(c);
    }
  }
  return piece;
}

LlmTokenType type_of(const std::string& piece, int32_t id) {
  if (id == 0) return LlmTokenType::kUnknown;
  if (id == 1 || id == 2) return LlmTokenType::kControl;
  return is_byte_piece(piece) ? LlmTokenType::kByte : LlmTokenType::kNormal;
}

}  // namespace

Result<LlmVocab> parse_llama2c_tokenizer(std::string_view bytes, int32_t vocab_size,
                                         const std::string& source) {
  if (vocab_size < 1) {
    return Status(Code::kInvalidArgument, "llama2.c tokenizer '" + source + "': vocab_size is " +
                                              std::to_string(vocab_size) + ", expected at least 1");
  }
  if (bytes.size() < 4) {
    return data_loss(source, "header: file is " + std::to_string(bytes.size()) +
                                 " bytes, expected at least 4 (i32 max_token_length)");
  }
  const auto max_length = load<int32_t>(bytes, 0);
  if (max_length < 1) {
    return data_loss(source,
                     "header: max_token_length is " + std::to_string(max_length) + ", expected at least 1");
  }
  LlmVocab vocab;
  vocab.type = LlmVocabType::kSpm;
  vocab.source = source;
  vocab.tokens.reserve(static_cast<size_t>(vocab_size));
  size_t offset = 4;
  for (int32_t id = 0; id < vocab_size; ++id) {
    const std::string where = "token " + std::to_string(id) + " at offset " + std::to_string(offset);
    if (bytes.size() - offset < 8) {
      return data_loss(source,
                       where + ": file ends (" + std::to_string(bytes.size()) +
                           " bytes), expected f32 score + i32 length; the file holds fewer than vocab_size=" +
                           std::to_string(vocab_size) + " tokens");
    }
    const auto score = load<float>(bytes, offset);
    const auto length = load<int32_t>(bytes, offset + 4);
    if (length < 1 || length > max_length) {
      return data_loss(source, where + ": length is " + std::to_string(length) + ", expected 1.." +
                                   std::to_string(max_length) + " (max_token_length)");
    }
    offset += 8;
    if (bytes.size() - offset < static_cast<size_t>(length)) {
      return data_loss(source, where + ": text of " + std::to_string(length) +
                                   " bytes runs past the end of the file (" + std::to_string(bytes.size()) +
                                   " bytes)");
    }
    vocab.tokens.push_back(restore_piece(bytes.substr(offset, static_cast<size_t>(length)), id));
    vocab.scores.push_back(score);
    vocab.token_types.push_back(type_of(vocab.tokens.back(), id));
    offset += static_cast<size_t>(length);
  }
  if (offset != bytes.size()) {
    return data_loss(source, std::to_string(bytes.size() - offset) + " bytes follow token " +
                                 std::to_string(vocab_size - 1) + " at offset " + std::to_string(offset) +
                                 ", expected the file to end after vocab_size=" + std::to_string(vocab_size) +
                                 " tokens (does the model header's vocab_size match this tokenizer?)");
  }
  vocab.unk_id = 0;
  vocab.bos_id = vocab_size > 1 ? 1 : -1;
  vocab.eos_id = vocab_size > 2 ? 2 : -1;
  vocab.add_bos = vocab.bos_id >= 0;
  vocab.add_space_prefix = true;
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  return vocab;
}

Result<LlmVocab> read_llama2c_tokenizer(const std::string& path, int32_t vocab_size) {
  LMAAS_ASSIGN_OR_RETURN(const std::string bytes, read_file(path));
  return parse_llama2c_tokenizer(bytes, vocab_size, path);
}

}  // namespace lmaas::text
