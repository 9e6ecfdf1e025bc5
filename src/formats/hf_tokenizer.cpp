// read_hf_tokenizer (see hf_tokenizer.h): the files, the token table (model.vocab + added_tokens), the
// post-processor's special tokens and those of tokenizer_config.json / generation_config.json. The
// model, normalizer and pre-tokenizer are hf_tokenizer_models.cpp's.
#include "formats/hf_tokenizer.h"

#include <filesystem>
#include <limits>
#include <optional>

#include "base/file_util.h"
#include "formats/hf_tokenizer_internal.h"

namespace lmaas {
namespace hf_detail {

Result<std::string> type_of(const JsonFile& file, const Json& object, const std::string& path) {
  if (!object.is_object()) {
    return file.error(Code::kDataLoss, path, "is " + show(object) + R"(, expected an object with a "type")");
  }
  const Json* type = member(object, "type");
  if (type == nullptr) return file.error(Code::kDataLoss, path + ".type", "is missing, expected a string");
  return as_string(file, *type, path + ".type");
}

}  // namespace hf_detail

namespace {

using hf_detail::Json;
using hf_detail::TokenTable;
using text::LlmTokenType;
using text::LlmVocab;
using text::LlmVocabType;

// An id at `path` that must name a token of a table of `n` tokens.
Result<int32_t> token_id(const JsonFile& file, const Json& value, const std::string& path, size_t n) {
  LMAAS_ASSIGN_OR_RETURN(const int64_t id, as_int(file, value, path));
  if (id < 0 || static_cast<size_t>(id) >= n) {
    return file.error(Code::kDataLoss, path,
                      "is " + std::to_string(id) + ", expected a token id 0.." + std::to_string(n - 1) +
                          " (ids run 0..n-1 over model.vocab and added_tokens, with no hole)");
  }
  return static_cast<int32_t>(id);
}

// Puts `text` at `id` (`path` names where it came from).
Status place(const JsonFile& file, const std::string& path, int32_t id, const std::string& text,
             LlmTokenType type, std::vector<bool>& filled, TokenTable& table) {
  const auto i = static_cast<size_t>(id);
  if (filled[i] && table.tokens[i] != text) {
    return file.error(Code::kDataLoss, path,
                      "id " + std::to_string(id) + " is '" + text + "' here but '" + table.tokens[i] +
                          "' in model.vocab, expected one text per id");
  }
  const auto [it, inserted] = table.ids.emplace(text, id);
  if (!inserted && it->second != id) {
    return file.error(Code::kDataLoss, path,
                      "'" + text + "' has id " + std::to_string(id) + " here but " +
                          std::to_string(it->second) + " elsewhere, expected one id per text");
  }
  filled[i] = true;
  table.tokens[i] = text;
  table.types[i] = type;
  return Status::ok();
}

Result<TokenTable> read_table(const JsonFile& file, const Json& model) {
  const Json* vocab = member(model, "vocab");
  if (vocab == nullptr || !vocab->is_object() || vocab->empty()) {
    return file.error(Code::kDataLoss, "model.vocab",
                      "is " + (vocab ? show(*vocab) : "missing") + ", expected an object of token → id");
  }
  const Json* added = member(file.root, "added_tokens");
  if (added != nullptr && !added->is_array()) {
    return file.error(Code::kDataLoss, "added_tokens", "is " + show(*added) + ", expected a list");
  }
  const size_t bound = vocab->size() + (added ? added->size() : 0);  // no id can be higher without a hole
  TokenTable table;
  table.tokens.resize(bound);
  table.types.resize(bound, LlmTokenType::kNormal);
  table.ids.reserve(bound);
  std::vector<bool> filled(bound);
  for (const auto& [text, id_value] : vocab->items()) {
    const std::string path = "model.vocab[" + show(Json(text)) + "]";
    LMAAS_ASSIGN_OR_RETURN(const int32_t id, token_id(file, id_value, path, bound));
    LMAAS_RETURN_IF_ERROR(place(file, path, id, text, LlmTokenType::kNormal, filled, table));
  }
  for (size_t i = 0; added != nullptr && i < added->size(); ++i) {
    const Json& entry = (*added)[i];
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const Json* id_value = member(entry, "id");
    const Json* content = member(entry, "content");
    if (id_value == nullptr || content == nullptr) {
      return file.error(Code::kDataLoss, path,
                        "is " + show(entry) + R"(, expected {"id": ..., "content": ...})");
    }
    LMAAS_ASSIGN_OR_RETURN(const int32_t id, token_id(file, *id_value, path + ".id", bound));
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, *content, path + ".content"));
    LMAAS_ASSIGN_OR_RETURN(const bool special, hf_detail::bool_or(file, entry, path, "special", false));
    LMAAS_RETURN_IF_ERROR(place(
        file, path, id, text, special ? LlmTokenType::kControl : LlmTokenType::kUserDefined, filled, table));
  }
  size_t n = bound;
  while (n > 0 && !filled[n - 1]) --n;
  for (size_t id = 0; id < n; ++id) {
    if (filled[id]) continue;
    return file.error(
        Code::kDataLoss, "model.vocab",
        "id " + std::to_string(id) + " is in neither model.vocab nor added_tokens, expected ids 0.." +
            std::to_string(n - 1) + " with no hole (HF tokenizers renumbers the added tokens past one)");
  }
  table.tokens.resize(n);
  table.types.resize(n);
  return table;
}

// The tokens the post-processor puts before (first) and after (last) the text; -1 for none.
struct Template {
  int32_t first = -1;
  int32_t last = -1;
};

// special_tokens[name].ids of a TemplateProcessing (one id), else the token whose text is `name`.
Result<int32_t> template_token(const JsonFile& file, const Json& processor, const std::string& path,
                               const std::string& name, const TokenTable& table) {
  const Json* specials = member(processor, "special_tokens");
  const Json* entry = specials ? member(*specials, name.c_str()) : nullptr;
  if (entry == nullptr) {
    const int32_t id = table.find(name);
    if (id < 0)
      return file.error(Code::kDataLoss, path, "'" + name + "' is neither in special_tokens nor a token");
    return id;
  }
  const std::string ids_path = path + ".special_tokens[" + show(Json(name)) + "].ids";
  const Json* ids = member(*entry, "ids");
  if (ids == nullptr || !ids->is_array() || ids->size() != 1) {
    return file.error(Code::kUnimplemented, ids_path,
                      "is " + (ids ? show(*ids) : "missing") + ", lmaas supports exactly one id");
  }
  return token_id(file, (*ids)[0], ids_path + "[0]", table.tokens.size());
}

Status read_template(const JsonFile& file, const Json& processor, const std::string& path,
                     const TokenTable& table, Template& out) {
  const Json* single = member(processor, "single");
  if (single == nullptr || !single->is_array()) {
    return file.error(Code::kDataLoss, path + ".single",
                      "is " + (single ? show(*single) : "missing") + ", expected a list");
  }
  int n_before = 0;
  int n_after = 0;
  bool seen_text = false;
  for (size_t i = 0; i < single->size(); ++i) {
    const Json& item = (*single)[i];
    const std::string item_path = path + ".single[" + std::to_string(i) + "]";
    if (member(item, "Sequence") != nullptr) {
      seen_text = true;
      continue;
    }
    const Json* special = member(item, "SpecialToken");
    const Json* name = special ? member(*special, "id") : nullptr;
    if (name == nullptr) {
      return file.error(
          Code::kDataLoss, item_path,
          "is " + show(item) + R"(, expected {"SpecialToken": {"id": ...}} or {"Sequence": ...})");
    }
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, *name, item_path + ".SpecialToken.id"));
    LMAAS_ASSIGN_OR_RETURN(const int32_t id, template_token(file, processor, path, text, table));
    (seen_text ? out.last : out.first) = id;
    ++(seen_text ? n_after : n_before);
  }
  if (n_before > 1 || n_after > 1) {
    return file.error(Code::kUnimplemented, path + ".single",
                      "adds several tokens on one side of the text, lmaas adds at most one");
  }
  return Status::ok();
}

// BertProcessing / RobertaProcessing: "cls": [text, id] before, "sep": [text, id] after.
Status read_cls_sep(const JsonFile& file, const Json& processor, const std::string& path, size_t n,
                    Template& out) {
  for (const auto& [key, slot] : {std::pair<const char*, int32_t*>{"cls", &out.first}, {"sep", &out.last}}) {
    const Json* pair = member(processor, key);
    const std::string pair_path = path + "." + key;
    if (pair == nullptr || !pair->is_array() || pair->size() != 2) {
      return file.error(Code::kDataLoss, pair_path,
                        "is " + (pair ? show(*pair) : "missing") + R"(, expected ["text", id])");
    }
    LMAAS_ASSIGN_OR_RETURN(*slot, token_id(file, (*pair)[1], pair_path + "[1]", n));
  }
  return Status::ok();
}

Status read_post_processor(const JsonFile& file, const Json* processor, const std::string& path,
                           const TokenTable& table, Template& out) {
  if (processor == nullptr) return Status::ok();
  LMAAS_ASSIGN_OR_RETURN(const std::string type, hf_detail::type_of(file, *processor, path));
  if (type == "Sequence") {
    const Json* list = member(*processor, "processors");
    if (list == nullptr || !list->is_array()) {
      return file.error(Code::kDataLoss, path + ".processors",
                        "is " + (list ? show(*list) : "missing") + ", expected a list");
    }
    for (size_t i = 0; i < list->size(); ++i) {
      LMAAS_RETURN_IF_ERROR(read_post_processor(file, &(*list)[i],
                                                path + ".processors[" + std::to_string(i) + "]", table, out));
    }
    return Status::ok();
  }
  if (type == "TemplateProcessing") return read_template(file, *processor, path, table, out);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return read_cls_sep(file, *processor, path, table.tokens.size(), out);
  }
  if (type == "ByteLevel") return Status::ok();  // offsets only
  return file.error(Code::kUnimplemented, path + ".type",
                    "is '" + type +
                        "', lmaas supports TemplateProcessing, "
                        "BertProcessing, RobertaProcessing, ByteLevel, Sequence");
}

// tokenizer_config.json: the flags to apply after the post-processor's.
struct ConfigFlags {
  std::optional<bool> add_bos;
  std::optional<bool> add_eos;
};

Status read_config(const JsonFile& file, const TokenTable& table, LlmVocab& vocab, ConfigFlags& flags,
                   std::string& chat_template) {
  const std::pair<const char*, int32_t*> named[] = {
      {"bos_token", &vocab.bos_id},  {"eos_token", &vocab.eos_id}, {"unk_token", &vocab.unk_id},
      {"pad_token", &vocab.pad_id},  {"cls_token", &vocab.cls_id}, {"sep_token", &vocab.sep_id},
      {"mask_token", &vocab.mask_id}};
  for (const auto& [key, id] : named) {
    const Json* value = member(file.root, key);
    if (value == nullptr) continue;
    const Json* content = value->is_object() ? member(*value, "content") : value;
    const std::string path = std::string(key) + (value->is_object() ? ".content" : "");
    LMAAS_ASSIGN_OR_RETURN(const std::string text, as_string(file, content ? *content : Json(), path));
    *id = table.find(text);
    if (*id < 0) return file.error(Code::kDataLoss, path, "'" + text + "' is not a token of tokenizer.json");
  }
  for (const auto& [key, flag] :
       {std::pair{"add_bos_token", &flags.add_bos}, {"add_eos_token", &flags.add_eos}}) {
    if (const Json* value = member(file.root, key)) {
      LMAAS_ASSIGN_OR_RETURN(*flag, as_bool(file, *value, key));
    }
  }
  const Json* templates = member(file.root, "chat_template");
  if (templates == nullptr || templates->is_string()) {
    if (templates != nullptr) chat_template = templates->get<std::string>();
    return Status::ok();
  }
  if (!templates->is_array()) {
    return file.error(Code::kDataLoss, "chat_template",
                      "is " + show(*templates) + R"(, expected a string or [{"name", "template"}])");
  }
  for (size_t i = 0; i < templates->size(); ++i) {
    const Json* name = member((*templates)[i], "name");
    const Json* text = member((*templates)[i], "template");
    const std::string path = "chat_template[" + std::to_string(i) + "]";
    if (name == nullptr || text == nullptr) {
      return file.error(Code::kDataLoss, path,
                        "is " + show((*templates)[i]) + R"(, expected {"name": ..., "template": ...})");
    }
    LMAAS_ASSIGN_OR_RETURN(const std::string name_text, as_string(file, *name, path + ".name"));
    if (name_text == "default") {
      LMAAS_ASSIGN_OR_RETURN(chat_template, as_string(file, *text, path + ".template"));
    }
  }
  return Status::ok();
}

// generation_config.json's eos_token_id: one id or a list.
Status read_generation_config(const JsonFile& file, LlmVocab& vocab) {
  const Json* value = member(file.root, "eos_token_id");
  if (value == nullptr) return Status::ok();
  const Json list = value->is_array() ? *value : Json::array({*value});
  const auto n = static_cast<size_t>(vocab.n_tokens());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string path = value->is_array() ? "eos_token_id[" + std::to_string(i) + "]" : "eos_token_id";
    LMAAS_ASSIGN_OR_RETURN(const int32_t id, token_id(file, list[i], path, n));
    if (vocab.eos_id < 0) vocab.eos_id = id;
    if (id == vocab.eos_id || id == vocab.eot_id || id == vocab.eom_id) continue;
    if (vocab.tokens[static_cast<size_t>(id)] == "<|eom_id|>" && vocab.eom_id < 0) {
      vocab.eom_id = id;
    } else if (vocab.eot_id < 0) {
      vocab.eot_id = id;
    } else if (vocab.eom_id < 0) {
      vocab.eom_id = id;
    }
  }
  return Status::ok();
}

void apply_template(const Template& t, const ConfigFlags& flags, LlmVocab& vocab) {
  const bool wordpiece = vocab.type == LlmVocabType::kWordPiece;
  if (t.first >= 0) {
    if (vocab.bos_id < 0 || wordpiece) vocab.bos_id = t.first;
    if (wordpiece && vocab.cls_id < 0) vocab.cls_id = t.first;
    vocab.add_bos = true;
  }
  if (t.last >= 0) {
    if (!wordpiece && (vocab.eos_id < 0 || vocab.eos_id == t.last)) {
      vocab.eos_id = t.last;
      vocab.add_eos = true;
    } else {
      vocab.sep_id = t.last;
      vocab.add_sep = true;
    }
  }
  if (flags.add_bos) vocab.add_bos = *flags.add_bos;
  if (flags.add_eos) vocab.add_eos = *flags.add_eos;
}

Result<std::string> model_type(const JsonFile& file, const Json& model) {
  const Json* type = member(model, "type");
  if (type == nullptr) {  // files written before "type" existed: BPE is the one with merges
    if (member(model, "merges") != nullptr) return std::string("BPE");
    return file.error(Code::kDataLoss, "model.type", "is missing, expected BPE or WordPiece");
  }
  LMAAS_ASSIGN_OR_RETURN(std::string name, as_string(file, *type, "model.type"));
  if (name != "BPE" && name != "WordPiece") {
    return file.error(
        Code::kUnimplemented, "model.type",
        "is '" + name + "', lmaas runs BPE and WordPiece tokenizers (not Unigram or WordLevel)");
  }
  return name;
}

std::optional<std::string> optional_path(const std::filesystem::path& dir, const char* name) {
  std::error_code error;
  const std::filesystem::path path = dir / name;
  if (!std::filesystem::exists(path, error)) return std::nullopt;
  return path.string();
}

}  // namespace

Result<HfTokenizerFiles> read_hf_tokenizer(const std::string& dir) {
  const std::filesystem::path folder(dir);
  HfTokenizerFiles out;
  LlmVocab& vocab = out.vocab;
  vocab.source = (folder / "tokenizer.json").string();
  LMAAS_ASSIGN_OR_RETURN(const JsonFile file, read_json_file(vocab.source));
  const Json* model = member(file.root, "model");
  if (model == nullptr || !model->is_object()) {
    return file.error(Code::kDataLoss, "model",
                      "is " + (model ? show(*model) : "missing") + ", expected an object");
  }
  LMAAS_ASSIGN_OR_RETURN(const std::string type, model_type(file, *model));
  LMAAS_ASSIGN_OR_RETURN(const TokenTable table, read_table(file, *model));
  LMAAS_RETURN_IF_ERROR(hf_detail::read_model(file, type, table, vocab));
  Template tmpl;
  LMAAS_RETURN_IF_ERROR(
      read_post_processor(file, member(file.root, "post_processor"), "post_processor", table, tmpl));
  ConfigFlags flags;
  if (const auto path = optional_path(folder, "tokenizer_config.json")) {
    LMAAS_ASSIGN_OR_RETURN(const JsonFile config, read_json_file(*path));
    LMAAS_RETURN_IF_ERROR(read_config(config, table, vocab, flags, out.chat_template));
  }
  apply_template(tmpl, flags, vocab);
  if (const auto path = optional_path(folder, "generation_config.json")) {
    LMAAS_ASSIGN_OR_RETURN(const JsonFile generation, read_json_file(*path));
    LMAAS_RETURN_IF_ERROR(read_generation_config(generation, vocab));
  }
  if (const auto path = optional_path(folder, "chat_template.jinja"); path && out.chat_template.empty()) {
    LMAAS_ASSIGN_OR_RETURN(out.chat_template, read_file(*path));
  }
  LMAAS_RETURN_IF_ERROR(vocab.validate());
  return out;
}

}  // namespace lmaas
