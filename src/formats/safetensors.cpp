// safetensors reader and writer (see safetensors.h for the format and the invariants).
// Reading: length prefix -> JSON header (nlohmann, with a callback that records the key order and catches
// duplicate keys, which nlohmann would otherwise merge silently) -> per-entry checks -> a coverage check
// over the entries sorted by offset -> one aligned copy per tensor. Every exception is caught at the API.
#include "formats/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/file_util.h"

namespace lmaas {
namespace {

using Json = nlohmann::json;

// Tensor bytes are copied as they are: the host must share the file's little-endian byte order.
static_assert(std::endian::native == std::endian::little, "safetensors I/O assumes a little-endian host");

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr size_t kLengthPrefixBytes = 8;
// A valid header nests 3 deep ({name: {shape: [...]}}); deeper input is rejected while parsing, before
// any recursive walk over it (such as dump()) could exhaust the stack.
constexpr int kMaxHeaderDepth = 16;

// Every dtype of the format with its element size in bytes (0: a sub-byte type, not read by lmaas).
struct FormatDType {
  std::string_view name;
  size_t n_bytes;
};
constexpr FormatDType kFormatDTypes[] = {
    {"F64", 8},     {"F32", 4},     {"F16", 2},     {"BF16", 2},    {"I64", 8},     {"I32", 4},
    {"I16", 2},     {"I8", 1},      {"U64", 8},     {"U32", 4},     {"U16", 2},     {"U8", 1},
    {"BOOL", 1},    {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"F8_E8M0", 1}, {"C64", 8},     {"F4", 0},
    {"F6_E2M3", 0}, {"F6_E3M2", 0}};

std::optional<DType> dtype_from_name(std::string_view name) {
  for (DType d : {DType::kF32, DType::kF64, DType::kI32, DType::kI64, DType::kU8, DType::kBF16}) {
    if (dtype_name(d) == name) return d;
  }
  return std::nullopt;
}

// A JSON rendering of `value` for messages: quoted and escaped, cut to `max_chars`.
std::string brief(const Json& value, size_t max_chars = 60) {
  std::string s = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
  return s;
}
std::string quote_json(std::string_view text) { return brief(Json(std::string(text)), 80); }

// Describes a JSON value's type for messages ("a string", "an array", ...).
std::string type_of(const Json& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number_float()) return "a non-integer number";
  std::string name = value.type_name();
  bool vowel = !name.empty() && std::string_view("aeiou").find(name[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + name;
}

// `text` with bytes outside printable ASCII written as \xNN: parser messages quote raw input, which may
// not be UTF-8, and our messages end up in JSON error bodies.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    out += byte >= 0x20 && byte < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", byte);
  }
  return out;
}

Status corrupt(const std::string& source, const std::string& message) {
  return Status(Code::kDataLoss, fmt::format("safetensors '{}': {}", source, message));
}

// Reads a non-negative JSON integer; nullopt for anything else (floats, negatives, bools, strings).
std::optional<uint64_t> as_u64(const Json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    if (v >= 0) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

// ---- header JSON ----

// Filled by the parser callback: top-level keys in file order, and the first duplicate key seen at the
// top level or inside an entry (nlohmann keeps only the last of duplicate keys).
struct HeaderKeys {
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::string current_entry;
  std::set<std::string> entry_fields;
  std::string duplicate_message;
};

struct HeaderTooDeep {};  // thrown by the parser callback to stop at once; caught in parse_header_json

Result<Json> parse_header_json(std::string_view text, const std::string& source, HeaderKeys* keys) {
  auto on_event = [keys](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxHeaderDepth) throw HeaderTooDeep{};
    if (event == Json::parse_event_t::object_start && depth == 1) keys->entry_fields.clear();
    if (event != Json::parse_event_t::key || !keys->duplicate_message.empty()) return true;
    const std::string& key = parsed.get_ref<const std::string&>();
    if (depth == 1) {
      if (!keys->seen.insert(key).second)
        keys->duplicate_message = fmt::format("duplicate tensor name {}", quote_json(key));
      keys->order.push_back(key);
      keys->current_entry = key;
    } else if (depth == 2 && !keys->entry_fields.insert(key).second) {
      keys->duplicate_message =
          fmt::format("entry {}: duplicate field {}", quote_json(keys->current_entry), quote_json(key));
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), on_event);
  } catch (const Json::exception& e) {
    return corrupt(source,
                   fmt::format("header ({} bytes) is not valid JSON: {}", text.size(), printable(e.what())));
  } catch (const HeaderTooDeep&) {
    return corrupt(source, fmt::format("header JSON nests deeper than {} levels", kMaxHeaderDepth));
  }
  if (!header.is_object()) {
    return corrupt(source, fmt::format("header is {}, expected a JSON object mapping tensor names to entries",
                                       type_of(header)));
  }
  if (!keys->duplicate_message.empty()) return corrupt(source, keys->duplicate_message);
  return header;
}

Status parse_metadata(const Json& value, const std::string& source, std::map<std::string, std::string>* out) {
  if (!value.is_object()) {
    return corrupt(source, fmt::format("field \"__metadata__\" is {} ({}), expected an object of strings",
                                       type_of(value), brief(value)));
  }
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) {
      return corrupt(source, fmt::format("\"__metadata__\" key {} is {} ({}), expected a string",
                                         quote_json(key), type_of(item), brief(item)));
    }
    (*out)[key] = item.get<std::string>();
  }
  return Status::ok();
}

// ---- one header entry ----

struct Entry {
  std::string name;
  FormatDType dtype;
  Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Where an entry's messages point: "safetensors 'file': tensor "name": ...".
struct EntryContext {
  const std::string& source;
  const std::string& name;
  Status fail(const std::string& message, Code code = Code::kDataLoss) const {
    return Status(code, fmt::format("safetensors '{}': tensor {}: {}", source, quote_json(name), message));
  }
};

Result<FormatDType> parse_dtype(const Json& entry, const EntryContext& ctx) {
  auto it = entry.find("dtype");
  if (it == entry.end()) return ctx.fail("missing field \"dtype\"");
  if (!it->is_string())
    return ctx.fail(fmt::format("field \"dtype\" is {} ({}), expected a string", type_of(*it), brief(*it)));
  const std::string& name = it->get_ref<const std::string&>();
  for (const FormatDType& d : kFormatDTypes) {
    if (d.name != name) continue;
    if (d.n_bytes == 0) {
      return ctx.fail(fmt::format("field \"dtype\" is \"{}\", a sub-byte type lmaas does not read", name),
                      Code::kUnimplemented);
    }
    return d;
  }
  return ctx.fail(fmt::format("field \"dtype\" is {}, not a safetensors dtype (expected one of F64, F32, F16, "
                              "BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2, F8_E8M0, C64)",
                              quote_json(name)));
}

// The dtype of a tensor lmaas loads into a Tensor: kUnimplemented for the format's other types.
Result<DType> tensor_dtype(const Entry& entry, const std::string& source) {
  if (auto dtype = dtype_from_name(entry.dtype.name)) return *dtype;
  return EntryContext{source, entry.name}.fail(
      fmt::format("field \"dtype\" is \"{}\", which lmaas does not support (supported: F32, F64, I32, I64, U8, "
                  "BF16); convert the file first",
                  entry.dtype.name),
      Code::kUnimplemented);
}

// The shape, and in *n_bytes its byte size for `dtype`; rejects dimensions whose product overflows.
Result<Shape> parse_shape(const Json& entry, FormatDType dtype, const EntryContext& ctx, uint64_t* n_bytes) {
  auto it = entry.find("shape");
  if (it == entry.end()) return ctx.fail("missing field \"shape\"");
  if (!it->is_array())
    return ctx.fail(
        fmt::format("field \"shape\" is {} ({}), expected an array of integers", type_of(*it), brief(*it)));
  Shape shape;
  uint64_t product = 1;  // of the non-zero dimensions, so that strides can never overflow either
  bool has_zero = false;
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& dim = (*it)[i];
    std::optional<uint64_t> d = as_u64(dim);
    if (!d || *d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return ctx.fail(
          fmt::format("field \"shape\" dimension {} is {}, expected a non-negative integer", i, brief(dim)));
    }
    if (*d == 0) has_zero = true;
    if (*d != 0 && (__builtin_mul_overflow(product, *d, &product) ||
                    product > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
      return ctx.fail(fmt::format("field \"shape\" {} has more elements than fit in 64 bits", brief(*it)));
    }
    shape.push_back(static_cast<int64_t>(*d));
  }
  uint64_t numel = has_zero ? 0 : product;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype.n_bytes), n_bytes)) {
    return ctx.fail(fmt::format("field \"shape\" {} of {} needs more bytes than fit in 64 bits", brief(*it),
                                dtype.name));
  }
  return shape;
}

Status parse_offsets(const Json& entry, uint64_t buffer_bytes, const EntryContext& ctx, Entry* out) {
  auto it = entry.find("data_offsets");
  if (it == entry.end()) return ctx.fail("missing field \"data_offsets\"");
  if (!it->is_array() || it->size() != 2) {
    return ctx.fail(fmt::format("field \"data_offsets\" is {} ({}), expected an array [begin, end]",
                                type_of(*it), brief(*it)));
  }
  std::optional<uint64_t> begin = as_u64((*it)[0]), end = as_u64((*it)[1]);
  if (!begin || !end) {
    return ctx.fail(
        fmt::format("field \"data_offsets\" is {}, expected two non-negative integers", brief(*it)));
  }
  if (*begin > *end) {
    return ctx.fail(fmt::format("field \"data_offsets\" is [{}, {}]: begin is after end", *begin, *end));
  }
  if (*end > buffer_bytes) {
    return ctx.fail(
        fmt::format("field \"data_offsets\" is [{}, {}]: end is beyond the {}-byte data buffer "
                    "(file truncated?)",
                    *begin, *end, buffer_bytes));
  }
  out->begin = *begin;
  out->end = *end;
  return Status::ok();
}

Result<Entry> parse_entry(const std::string& name, const Json& value, uint64_t buffer_bytes,
                          const std::string& source) {
  EntryContext ctx{source, name};
  if (!value.is_object()) {
    return ctx.fail(fmt::format("entry is {} ({}), expected an object with dtype, shape and data_offsets",
                                type_of(value), brief(value)));
  }
  Entry entry;
  entry.name = name;
  LMAAS_ASSIGN_OR_RETURN(entry.dtype, parse_dtype(value, ctx));
  uint64_t n_bytes = 0;
  LMAAS_ASSIGN_OR_RETURN(entry.shape, parse_shape(value, entry.dtype, ctx, &n_bytes));
  LMAAS_RETURN_IF_ERROR(parse_offsets(value, buffer_bytes, ctx, &entry));
  if (entry.end - entry.begin != n_bytes) {
    return ctx.fail(fmt::format("field \"data_offsets\" [{}, {}] spans {} bytes, but shape {} of {} needs {}",
                                entry.begin, entry.end, entry.end - entry.begin, shape_str(entry.shape),
                                entry.dtype.name, n_bytes));
  }
  return entry;
}

// The tensors must tile the buffer exactly: sorted by offset, each begins where the previous ended.
Status check_coverage(const std::vector<Entry>& entries, uint64_t buffer_bytes, const std::string& source) {
  std::vector<const Entry*> sorted;
  for (const Entry& e : entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  const Entry* previous = nullptr;
  for (const Entry* e : sorted) {
    if (e->begin < cursor) {
      return corrupt(source, fmt::format("tensor {} data_offsets [{}, {}] overlap tensor {} [{}, {}]",
                                         quote_json(e->name), e->begin, e->end, quote_json(previous->name),
                                         previous->begin, previous->end));
    }
    if (e->begin > cursor) {
      return corrupt(source,
                     fmt::format("tensor {} data_offsets [{}, {}] leave bytes [{}, {}) of the buffer unused",
                                 quote_json(e->name), e->begin, e->end, cursor, e->begin));
    }
    cursor = e->end;
    previous = e;
  }
  if (cursor != buffer_bytes) {
    return corrupt(source, fmt::format("the tensors cover {} bytes but the data buffer holds {}: {} trailing "
                                       "bytes are unused",
                                       cursor, buffer_bytes, buffer_bytes - cursor));
  }
  return Status::ok();
}

// Splits `bytes` into the header text and the data buffer, checking the length prefix.
Status split_file(std::string_view bytes, const std::string& source, std::string_view* header,
                  std::string_view* buffer) {
  if (bytes.size() < kLengthPrefixBytes) {
    return corrupt(
        source, fmt::format("file is {} bytes, shorter than the 8-byte header length prefix", bytes.size()));
  }
  uint64_t n = 0;
  for (size_t i = 0; i < kLengthPrefixBytes; ++i)
    n |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (n > kSafetensorsMaxHeaderBytes) {
    return corrupt(source, fmt::format("header length is {} bytes, over the {}-byte limit", n,
                                       kSafetensorsMaxHeaderBytes));
  }
  if (n > bytes.size() - kLengthPrefixBytes) {
    return corrupt(
        source,
        fmt::format("header length is {} bytes, but only {} bytes follow the prefix (file truncated?)", n,
                    bytes.size() - kLengthPrefixBytes));
  }
  *header = bytes.substr(kLengthPrefixBytes, n);
  *buffer = bytes.substr(kLengthPrefixBytes + n);
  return Status::ok();
}

// The validated header: entries in file order, metadata, and the data buffer they point into.
struct ParsedHeader {
  std::vector<Entry> entries;
  std::map<std::string, std::string> metadata;
  std::string_view buffer;
};

Result<ParsedHeader> parse_header(std::string_view bytes, const std::string& source) {
  std::string_view header_text;
  ParsedHeader out;
  LMAAS_RETURN_IF_ERROR(split_file(bytes, source, &header_text, &out.buffer));
  HeaderKeys keys;
  LMAAS_ASSIGN_OR_RETURN(Json header, parse_header_json(header_text, source, &keys));
  for (const std::string& name : keys.order) {
    const Json& value = header.at(name);
    if (name == kMetadataKey) {
      LMAAS_RETURN_IF_ERROR(parse_metadata(value, source, &out.metadata));
      continue;
    }
    LMAAS_ASSIGN_OR_RETURN(Entry entry, parse_entry(name, value, out.buffer.size(), source));
    out.entries.push_back(std::move(entry));
  }
  LMAAS_RETURN_IF_ERROR(check_coverage(out.entries, out.buffer.size(), source));
  return out;
}

Result<TensorMap> parse_unchecked(std::string_view bytes, const std::string& source) {
  LMAAS_ASSIGN_OR_RETURN(ParsedHeader parsed, parse_header(bytes, source));
  TensorMap map;
  map.metadata = std::move(parsed.metadata);
  map.tensors.reserve(parsed.entries.size());
  for (Entry& e : parsed.entries) {
    LMAAS_ASSIGN_OR_RETURN(DType dtype, tensor_dtype(e, source));
    Tensor t = Tensor::empty(e.shape, dtype);  // fresh, 64-byte aligned
    if (e.end > e.begin) std::memcpy(t.raw_data(), parsed.buffer.data() + e.begin, e.end - e.begin);
    map.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  return map;
}

// ---- writing ----

// `text` as a JSON string literal; fails when it is not valid UTF-8.
Result<std::string> json_string(std::string_view text, std::string_view what) {
  try {
    return Json(std::string(text)).dump();
  } catch (const Json::exception&) {
    return Status(Code::kInvalidArgument,
                  fmt::format("safetensors: {} {} is not valid UTF-8", what, quote_json(text)));
  }
}

// A format dtype's element size; 0 for an unknown or sub-byte one.
size_t element_bytes(std::string_view dtype) {
  for (const FormatDType& d : kFormatDTypes)
    if (d.name == dtype) return d.n_bytes;
  return 0;
}

// Fails on names or dtypes a file cannot hold: the reserved name, a duplicate, an unknown or sub-byte dtype,
// or bytes that are not the shape's worth.
Status check_writable(std::span<const SafetensorsEntry> tensors) {
  std::set<std::string_view> names;
  for (const SafetensorsEntry& t : tensors) {
    if (t.name == kMetadataKey) {
      return Status(Code::kInvalidArgument,
                    "safetensors: \"__metadata__\" is reserved and cannot name a tensor");
    }
    if (!names.insert(t.name).second) {
      return Status(Code::kInvalidArgument,
                    fmt::format("safetensors: duplicate tensor name {}", quote_json(t.name)));
    }
    const size_t n_bytes = element_bytes(t.dtype);
    if (n_bytes == 0) {
      return Status(Code::kInvalidArgument, fmt::format("safetensors: tensor {} has dtype {}, which lmaas cannot write",
                                                        quote_json(t.name), quote_json(t.dtype)));
    }
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(std::max<int64_t>(d, 0));
    if (n * n_bytes != t.bytes.size()) {
      return Status(Code::kInvalidArgument,
                    fmt::format("safetensors: tensor {} of shape [{}] {} needs {} bytes, got {}", quote_json(t.name),
                                fmt::join(t.shape, ","), t.dtype, n * n_bytes, t.bytes.size()));
    }
  }
  return Status::ok();
}

// The header JSON (unpadded) for tensors at the given [begin, end) offsets.
Result<std::string> build_header(std::span<const SafetensorsEntry> tensors,
                                 const std::map<std::string, std::string>& metadata,
                                 const std::vector<std::pair<uint64_t, uint64_t>>& offsets) {
  std::string header = "{";
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) {
      LMAAS_ASSIGN_OR_RETURN(std::string k, json_string(key, "metadata key"));
      LMAAS_ASSIGN_OR_RETURN(std::string v, json_string(value, "metadata value"));
      header += (header.back() == '{' ? "" : ",") + k + ":" + v;
    }
    header += "}";
  }
  for (size_t i = 0; i < tensors.size(); ++i) {
    LMAAS_ASSIGN_OR_RETURN(std::string key, json_string(tensors[i].name, "tensor name"));
    header += fmt::format("{}{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          header.back() == '{' ? "" : ",", key, tensors[i].dtype, fmt::join(tensors[i].shape, ","),
                          offsets[i].first, offsets[i].second);
  }
  return header + "}";
}

// A file as written: the length prefix and padded header, then each tensor's bytes in data order.
struct Serialized {
  std::string head;
  std::vector<std::string_view> data;
  std::vector<Tensor> owners;  // the contiguous tensors `data` views, when serialized from a TensorMap

  std::vector<std::string_view> chunks() const {
    std::vector<std::string_view> out{head};
    for (std::string_view bytes : data)
      if (!bytes.empty()) out.push_back(bytes);
    return out;
  }
};

Result<Serialized> serialize_entries(std::span<const SafetensorsEntry> tensors,
                                     const std::map<std::string, std::string>& metadata) {
  LMAAS_RETURN_IF_ERROR(check_writable(tensors));
  // Data order: largest element size first (stable), so each tensor is aligned to its element size.
  std::vector<size_t> layout(tensors.size());
  for (size_t i = 0; i < layout.size(); ++i) layout[i] = i;
  std::stable_sort(layout.begin(), layout.end(), [&tensors](size_t a, size_t b) {
    return element_bytes(tensors[a].dtype) > element_bytes(tensors[b].dtype);
  });
  std::vector<std::pair<uint64_t, uint64_t>> offsets(tensors.size());
  uint64_t cursor = 0;
  for (size_t i : layout) {
    offsets[i] = {cursor, cursor + tensors[i].bytes.size()};
    cursor = offsets[i].second;
  }
  LMAAS_ASSIGN_OR_RETURN(std::string header, build_header(tensors, metadata, offsets));
  header.append((8 - header.size() % 8) % 8, ' ');
  Serialized out;
  for (size_t i = 0; i < kLengthPrefixBytes; ++i)
    out.head.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  out.head += header;
  for (size_t i : layout) out.data.push_back(tensors[i].bytes);
  return out;
}

Result<Serialized> serialize_checked(const TensorMap& map) {
  std::vector<Tensor> owners;
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, tensor] : map.tensors) {
    if (!tensor.defined()) {
      return Status(Code::kInvalidArgument, fmt::format("safetensors: tensor {} is undefined", quote_json(name)));
    }
    const Tensor& t = owners.emplace_back(tensor.contiguous());
    entries.push_back({name, std::string(dtype_name(t.dtype())), t.shape(),
                       {static_cast<const char*>(t.raw_data()), t.nbytes()}});
  }
  LMAAS_ASSIGN_OR_RETURN(Serialized out, serialize_entries(entries, map.metadata));
  out.owners = std::move(owners);
  return out;
}

}  // namespace

const Tensor* TensorMap::find(std::string_view name) const {
  for (const auto& [n, t] : tensors) {
    if (n == name) return &t;
  }
  return nullptr;
}

Result<TensorMap> parse_safetensors(std::string_view bytes, const std::string& source_name) {
  try {
    return parse_unchecked(bytes, source_name);
  } catch (const std::bad_alloc&) {
    return Status(Code::kResourceExhausted,
                  fmt::format("safetensors '{}': out of memory while loading", source_name));
  } catch (const std::exception& e) {
    return Status(Code::kInternal,
                  fmt::format("safetensors '{}': unexpected error: {}", source_name, e.what()));
  }
}

const SafetensorsEntry* SafetensorsIndex::find(std::string_view name) const {
  for (const SafetensorsEntry& e : tensors) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

Result<SafetensorsIndex> index_safetensors(std::string_view bytes, const std::string& source_name) {
  try {
    LMAAS_ASSIGN_OR_RETURN(ParsedHeader parsed, parse_header(bytes, source_name));
    SafetensorsIndex index;
    index.metadata = std::move(parsed.metadata);
    for (Entry& e : parsed.entries) {
      index.tensors.push_back({std::move(e.name), std::string(e.dtype.name), std::move(e.shape),
                               parsed.buffer.substr(e.begin, e.end - e.begin)});
    }
    return index;
  } catch (const std::exception& e) {
    return Status(Code::kInternal, fmt::format("safetensors '{}': unexpected error: {}", source_name, e.what()));
  }
}

Result<TensorMap> read_safetensors(const std::string& path) {
  Result<std::string> bytes = read_file(path);
  if (!bytes.is_ok()) return bytes.status();
  return parse_safetensors(bytes.value(), path);
}

std::string serialize_safetensors(const TensorMap& map) {
  const Serialized file = serialize_checked(map).value();
  std::string out;
  for (std::string_view chunk : file.chunks()) out += chunk;
  return out;
}

Status write_safetensors_entries(const std::string& path, std::span<const SafetensorsEntry> tensors,
                                 const std::map<std::string, std::string>& metadata) {
  try {
    Result<Serialized> file = serialize_entries(tensors, metadata);
    if (!file.is_ok())
      return Status(file.status().code(), file.status().message() + " (writing '" + path + "')");
    return write_file_atomic(path, file.value().chunks());
  } catch (const std::exception& e) {
    return Status(Code::kInternal, fmt::format("safetensors: writing '{}' failed: {}", path, e.what()));
  }
}

Status write_safetensors(const std::string& path, const TensorMap& map) {
  try {
    Result<Serialized> file = serialize_checked(map);
    if (!file.is_ok())
      return Status(file.status().code(), file.status().message() + " (writing '" + path + "')");
    return write_file_atomic(path, file.value().chunks());
  } catch (const std::exception& e) {
    return Status(Code::kInternal, fmt::format("safetensors: writing '{}' failed: {}", path, e.what()));
  }
}

}  // namespace lmaas
