// GGUF reader (see gguf.h for the layout and the invariants). One pass over the bytes with a cursor that
// never reads past the end: header -> key/values -> general.alignment -> tensor infos -> data section
// placement (bounds and overlaps). Every count is checked against the bytes remaining before anything is
// reserved, so a corrupt count fails on the file's size instead of allocating. Typed metadata getters live
// in gguf_metadata.cpp.
#include "formats/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/mapped_file.h"

namespace lmaas {
namespace {

constexpr std::string_view kMagic = "GGUF";
constexpr uint32_t kMinVersion = 2;
constexpr uint32_t kMaxVersion = 3;
// Smallest encodings, used to bound counts by the bytes that remain: a key/value is at least a key length
// (8), a type (4) and a 1-byte value; a tensor info at least a name length (8), n_dims (4), a type (4) and
// an offset (8); a string an 8-byte length; an array element of an array its type (4) and count (8).
constexpr uint64_t kMinKvBytes = 13;
constexpr uint64_t kMinTensorInfoBytes = 24;
constexpr uint64_t kMinStringBytes = 8;
constexpr uint64_t kMinArrayBytes = 12;

bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

// Parses `bytes` into `out` (see gguf.h). `section_` names the part being read for messages.
class GgufParser {
 public:
  GgufParser(std::span<const uint8_t> bytes, const std::string& source, GgufFile* out)
      : bytes_(bytes), source_(source), out_(out) {}

  Status run() {
    uint64_t n_tensors = 0, n_kv = 0;
    LMAAS_RETURN_IF_ERROR(parse_header(&n_tensors, &n_kv));
    out_->metadata_.reserve(n_kv);
    out_->key_index_.reserve(n_kv);
    for (uint64_t i = 0; i < n_kv; ++i) LMAAS_RETURN_IF_ERROR(parse_kv(i));
    LMAAS_RETURN_IF_ERROR(parse_alignment());
    section_ = "header";
    if (n_tensors > remaining() / kMinTensorInfoBytes) {
      return fail(
          fmt::format("n_tensors is {}, but the {} bytes after the metadata hold at most {} tensor infos",
                      n_tensors, remaining(), remaining() / kMinTensorInfoBytes));
    }
    out_->tensors_.reserve(n_tensors);
    out_->tensor_index_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) LMAAS_RETURN_IF_ERROR(parse_tensor_info(i));
    return place_tensors();
  }

 private:
  size_t remaining() const { return bytes_.size() - pos_; }

  template <typename T>
  bool read(T* out) {
    if (remaining() < sizeof(T)) return false;
    std::memcpy(out, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  std::string_view take(size_t n) {
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }

  Status fail(std::string_view what, Code code = Code::kDataLoss) const {
    return Status(code, fmt::format("GGUF '{}': {}: {}", source_, section_, what));
  }
  Status truncated(std::string_view field, size_t n_needed) const {
    return fail(fmt::format("{} needs {} bytes at offset {}, but the file ends at byte {} (truncated?)",
                            field, n_needed, pos_, bytes_.size()));
  }
  // "value", "value[3]", "value[3][0]": where in a (nested) array value the cursor is.
  std::string value_field() const {
    std::string field = "value";
    for (uint64_t i : path_) field += fmt::format("[{}]", i);
    return field;
  }

  Status parse_header(uint64_t* n_tensors, uint64_t* n_kv) {
    section_ = "header";
    if (bytes_.size() < kMagic.size()) {
      return fail(fmt::format("file is {} bytes, shorter than the 4-byte magic \"GGUF\" (truncated?)",
                              bytes_.size()));
    }
    std::string_view magic = take(kMagic.size());
    if (magic != kMagic)
      return fail(fmt::format("magic is {}, expected \"GGUF\" (not a GGUF file)", gguf_quote(magic)));
    uint32_t version = 0;
    if (!read(&version)) return truncated("version", 4);
    if (version == 0) return fail("version is 0, expected 2 or 3");
    if ((version & 0xFFFF) == 0) {
      return fail(fmt::format("version is {:#010x}, a byte-swapped (big-endian) file; this reader reads "
                              "little-endian GGUF only",
                              version),
                  Code::kUnimplemented);
    }
    if (version < kMinVersion) {
      return fail(
          "version is 1 (32-bit counts, superseded in 2023), expected 2 or 3; convert the file with "
          "a current llama.cpp",
          Code::kUnimplemented);
    }
    if (version > kMaxVersion) {
      return fail(fmt::format("version is {}, newer than the versions this reader supports (2, 3)", version),
                  Code::kUnimplemented);
    }
    out_->version_ = version;
    if (!read(n_tensors)) return truncated("n_tensors", 8);
    if (!read(n_kv)) return truncated("n_kv", 8);
    if (*n_kv > remaining() / kMinKvBytes) {
      return fail(fmt::format("n_kv is {}, but the {} bytes after the header hold at most {} key/values",
                              *n_kv, remaining(), remaining() / kMinKvBytes));
    }
    return Status::ok();
  }

  // A gguf string (u64 length + bytes) into *out; `field` names it in messages.
  Status read_string(std::string_view field, uint64_t max_bytes, std::string_view* out) {
    uint64_t n = 0;
    if (!read(&n)) return truncated(fmt::format("{} length", field), 8);
    if (n > remaining()) {
      return fail(
          fmt::format("{} length is {}, but only {} bytes remain (truncated?)", field, n, remaining()));
    }
    if (n > max_bytes)
      return fail(fmt::format("{} length is {}, expected at most {} bytes", field, n, max_bytes));
    *out = take(n);
    return Status::ok();
  }

  Status parse_kv(uint64_t index) {
    section_ = fmt::format("key {}", index);
    std::string_view key;
    LMAAS_RETURN_IF_ERROR(read_string("key", kGgufMaxKeyBytes, &key));
    section_ = fmt::format("key {} {}", index, gguf_quote(key));
    if (auto bad = gguf_find_invalid_utf8(key)) {
      return fail(fmt::format("key is not valid UTF-8 (bad byte {:#04x} at offset {} of the key)",
                              static_cast<uint8_t>(key[*bad]), *bad));
    }
    auto [it, inserted] = out_->key_index_.emplace(key, out_->metadata_.size());
    if (!inserted) return fail(fmt::format("duplicate key (first defined as key {})", it->second));
    uint32_t type = 0;
    if (!read(&type)) return truncated("value type", 4);
    if (type >= kGgufTypeCount)
      return fail(fmt::format("value type is {}, expected a GGUF type id 0-12", type));
    GgufKeyValue kv;
    kv.key = key;
    path_.clear();
    LMAAS_RETURN_IF_ERROR(parse_value(static_cast<GgufType>(type), 0, &kv.value));
    out_->metadata_.push_back(std::move(kv));
    return Status::ok();
  }

  Status parse_value(GgufType type, int depth, GgufValue* out) {
    out->type = type;
    if (type == GgufType::kString)
      return read_string(value_field(), std::numeric_limits<uint64_t>::max(), &out->text);
    if (type == GgufType::kArray) return parse_array(depth + 1, out);
    size_t size = gguf_type_size(type);
    if (remaining() < size) return truncated(value_field(), size);
    std::memcpy(&out->bits, bytes_.data() + pos_, size);
    pos_ += size;
    if (type == GgufType::kBool && out->bits > 1) {
      return fail(fmt::format("{} is a BOOL of byte value {}, expected 0 or 1", value_field(), out->bits));
    }
    return Status::ok();
  }

  Status parse_array(int depth, GgufValue* out) {
    if (depth > kGgufMaxArrayDepth) {
      return fail(fmt::format("{} nests arrays deeper than {} levels", value_field(), kGgufMaxArrayDepth));
    }
    uint32_t elem = 0;
    if (!read(&elem)) return truncated(value_field() + " element type", 4);
    if (elem >= kGgufTypeCount) {
      return fail(fmt::format("{} element type is {}, expected a GGUF type id 0-12", value_field(), elem));
    }
    out->elem_type = static_cast<GgufType>(elem);
    if (!read(&out->n_elements)) return truncated(value_field() + " element count", 8);
    const uint64_t n = out->n_elements;
    size_t size = gguf_type_size(out->elem_type);
    uint64_t min_bytes = size != 0                             ? size
                         : out->elem_type == GgufType::kString ? kMinStringBytes
                                                               : kMinArrayBytes;
    if (n > remaining() / min_bytes) {
      return fail(
          fmt::format("{} holds {} {} elements of at least {} bytes, but only {} bytes remain "
                      "(truncated?)",
                      value_field(), n, gguf_type_name(out->elem_type), min_bytes, remaining()));
    }
    if (size != 0) {
      out->raw = take(n * size);
      if (out->elem_type != GgufType::kBool) return Status::ok();
      for (uint64_t i = 0; i < n; ++i) {
        if (static_cast<uint8_t>(out->raw[i]) > 1) {
          return fail(fmt::format("{}[{}] is a BOOL of byte value {}, expected 0 or 1", value_field(), i,
                                  static_cast<uint8_t>(out->raw[i])));
        }
      }
      return Status::ok();
    }
    path_.push_back(0);
    if (out->elem_type == GgufType::kString) {
      out->strings.resize(n);
      for (uint64_t i = 0; i < n; ++i) {
        path_.back() = i;
        LMAAS_RETURN_IF_ERROR(
            read_string(value_field(), std::numeric_limits<uint64_t>::max(), &out->strings[i]));
      }
    } else {
      out->arrays.resize(n);
      for (uint64_t i = 0; i < n; ++i) {
        path_.back() = i;
        out->arrays[i].type = GgufType::kArray;
        LMAAS_RETURN_IF_ERROR(parse_array(depth + 1, &out->arrays[i]));
      }
    }
    path_.pop_back();
    return Status::ok();
  }

  Status parse_alignment() {
    auto it = out_->key_index_.find("general.alignment");
    if (it == out_->key_index_.end()) return Status::ok();
    const GgufValue& value = out_->metadata_[it->second].value;
    section_ = fmt::format("key {} \"general.alignment\"", it->second);
    if (value.type != GgufType::kU32) {
      return fail(fmt::format("value type is {}, expected U32", gguf_type_name(value.type)));
    }
    if (!is_power_of_two(value.bits)) {
      return fail(fmt::format("alignment is {}, expected a non-zero power of two", value.bits));
    }
    out_->alignment_ = static_cast<uint32_t>(value.bits);
    return Status::ok();
  }

  Status parse_tensor_info(uint64_t index) {
    section_ = fmt::format("tensor {}", index);
    GgufTensor t;
    LMAAS_RETURN_IF_ERROR(read_string("name", kGgufMaxTensorNameBytes, &t.name));
    section_ = fmt::format("tensor {} {}", index, gguf_quote(t.name));
    if (auto bad = gguf_find_invalid_utf8(t.name)) {
      return fail(fmt::format("name is not valid UTF-8 (bad byte {:#04x} at offset {} of the name)",
                              static_cast<uint8_t>(t.name[*bad]), *bad));
    }
    auto [it, inserted] = out_->tensor_index_.emplace(t.name, out_->tensors_.size());
    if (!inserted) return fail(fmt::format("duplicate tensor name (first used by tensor {})", it->second));
    uint32_t n_dims = 0;
    if (!read(&n_dims)) return truncated("n_dims", 4);
    if (n_dims > kGgufMaxDims)
      return fail(fmt::format("n_dims is {}, expected at most {}", n_dims, kGgufMaxDims));
    for (uint32_t j = 0; j < n_dims; ++j) {
      uint64_t d = 0;
      if (!read(&d)) return truncated(fmt::format("dimension {}", j), 8);
      if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return fail(fmt::format("dimension {} is {}, expected at most 2^63-1", j, d));
      }
      t.dims.push_back(static_cast<int64_t>(d));
    }
    uint32_t type_id = 0;
    if (!read(&type_id)) return truncated("ggml type", 4);
    const GgmlTypeInfo* type = find_ggml_type(type_id);
    if (type == nullptr)
      return fail(fmt::format("ggml type is {}: {}", type_id, describe_invalid_ggml_type(type_id)));
    t.type = type->type;
    t.type_name = type->name;
    auto size = ggml_shape_size(*type, t.dims);
    if (!size.is_ok()) return fail(size.status().message());
    t.n_elements = size.value().n_elements;
    t.n_bytes = size.value().n_bytes;
    if (!read(&t.offset)) return truncated("offset", 8);
    if (t.offset % out_->alignment_ != 0) {
      return fail(
          fmt::format("offset is {}, expected a multiple of the alignment {}", t.offset, out_->alignment_));
    }
    out_->tensors_.push_back(std::move(t));
    return Status::ok();
  }

  // Finds the data section after the padding and checks that every tensor lies inside it, without overlaps.
  Status place_tensors() {
    std::vector<GgufTensor>& tensors = out_->tensors_;
    section_ = "data section";
    const uint64_t size = bytes_.size();
    const uint64_t start = pos_ + (out_->alignment_ - pos_ % out_->alignment_) % out_->alignment_;
    if (!tensors.empty() && start > size) {
      return fail(
          fmt::format("padding to the alignment {} ends at byte {}, but the file is {} bytes (truncated?)",
                      out_->alignment_, start, size));
    }
    out_->data_offset_ = std::min(start, size);
    const uint64_t data_bytes = size - out_->data_offset_;
    for (size_t i = 0; i < tensors.size(); ++i) {
      GgufTensor& t = tensors[i];
      if (t.offset > data_bytes || t.n_bytes > data_bytes - t.offset) {
        section_ = fmt::format("tensor {} {}", i, gguf_quote(t.name));
        return fail(
            fmt::format("offset {} + {} bytes ({} {}) goes past the end of the {}-byte data section "
                        "(truncated?)",
                        t.offset, t.n_bytes, t.type_name, fmt::join(t.dims, "x"), data_bytes));
      }
      t.data = bytes_.data() + out_->data_offset_ + t.offset;
    }
    std::vector<size_t> order;
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (tensors[i].n_bytes > 0) order.push_back(i);
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
    for (size_t k = 1; k < order.size(); ++k) {
      const GgufTensor& prev = tensors[order[k - 1]];
      const GgufTensor& next = tensors[order[k]];
      if (prev.offset + prev.n_bytes > next.offset) {
        section_ = fmt::format("tensor {} {}", order[k], gguf_quote(next.name));
        return fail(fmt::format("bytes [{}, {}) overlap tensor {} {} at [{}, {})", next.offset,
                                next.offset + next.n_bytes, order[k - 1], gguf_quote(prev.name), prev.offset,
                                prev.offset + prev.n_bytes));
      }
    }
    return Status::ok();
  }

  std::span<const uint8_t> bytes_;
  const std::string& source_;
  GgufFile* out_;
  size_t pos_ = 0;
  std::string section_;
  std::vector<uint64_t> path_;  // element indices of the array value being read
};

Result<GgufFile> GgufFile::open(const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  auto owner = std::make_shared<MappedFile>(std::move(mapped));
  GgufFile file;
  file.owner_ = owner;
  file.bytes_ = owner->bytes();
  file.source_name_ = path;
  GgufParser parser(file.bytes_, file.source_name_, &file);
  LMAAS_RETURN_IF_ERROR(parser.run());
  return file;
}

Result<GgufFile> GgufFile::parse(std::string bytes, std::string source_name) {
  auto owner = std::make_shared<const std::string>(std::move(bytes));
  GgufFile file;
  file.owner_ = owner;
  file.bytes_ = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(owner->data()), owner->size());
  file.source_name_ = std::move(source_name);
  GgufParser parser(file.bytes_, file.source_name_, &file);
  LMAAS_RETURN_IF_ERROR(parser.run());
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = key_index_.find(key);
  return it == key_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace lmaas
