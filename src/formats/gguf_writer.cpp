// GgufWriter (see gguf_writer.h): metadata and tensor infos are encoded as they are added; serialize()
// and write() assemble header + metadata + infos + padding, then each tensor's bytes and its padding.
#include "formats/gguf_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "base/file_util.h"

namespace lmaas {
namespace {

constexpr uint32_t kWriteVersion = 3;

template <typename T>
void put(std::string* out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));
  out->append(bytes, sizeof(T));
}

void put_string(std::string* out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out->append(s);
}

Status misuse(std::string message) {
  return Status(Code::kInvalidArgument, "GGUF writer: " + std::move(message));
}

Status check_name(std::string_view what, std::string_view name, size_t max_bytes) {
  if (name.size() > max_bytes) {
    return misuse(fmt::format("{} {} is {} bytes, expected at most {}", what, gguf_quote(name), name.size(),
                              max_bytes));
  }
  if (gguf_find_invalid_utf8(name))
    return misuse(fmt::format("{} {} is not valid UTF-8", what, gguf_quote(name)));
  return Status::ok();
}

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > kMaxAlignment) {
    alignment_ = kGgufDefaultAlignment;
    record(misuse(
        fmt::format("alignment is {}, expected a power of two from 1 to {}", alignment, kMaxAlignment)));
    return;
  }
  if (alignment != kGgufDefaultAlignment) {
    keys_.insert("general.alignment");
    put_string(&metadata_, "general.alignment");
    put<uint32_t>(&metadata_, static_cast<uint32_t>(GgufType::kU32));
    put<uint32_t>(&metadata_, alignment);
    ++n_kv_;
  }
}

void GgufWriter::record(Status status) {
  if (status_.is_ok() && !status.is_ok()) status_ = std::move(status);
}

void GgufWriter::add_array(std::string_view key, std::span<const std::string> v) {
  std::vector<std::string_view> views(v.begin(), v.end());
  add_value(key, GgufValue::string_array(std::move(views)));
}

void GgufWriter::add_array(std::string_view key, std::span<const std::string_view> v) {
  add_value(key, GgufValue::string_array(std::vector<std::string_view>(v.begin(), v.end())));
}

void GgufWriter::add_value(std::string_view key, const GgufValue& value) {
  if (!status_.is_ok()) return;
  Status checked = check_name("key", key, kGgufMaxKeyBytes);
  if (!checked.is_ok()) return record(checked);
  if (key == "general.alignment") {
    return record(misuse("key \"general.alignment\" is set by the writer: pass the alignment to GgufWriter"));
  }
  if (keys_.count(std::string(key)) != 0)
    return record(misuse(fmt::format("duplicate key {}", gguf_quote(key))));
  std::string encoded;
  put_string(&encoded, key);
  put<uint32_t>(&encoded, static_cast<uint32_t>(value.type));
  Status status = encode_value(value, 0, &encoded);
  if (!status.is_ok()) {
    return record(misuse(fmt::format("key {}: {}", gguf_quote(key), status.message())));
  }
  keys_.insert(std::string(key));
  metadata_ += encoded;
  ++n_kv_;
}

// Appends the payload of `value` (without its type id) to *out; checks the value is consistent.
Status GgufWriter::encode_value(const GgufValue& value, int depth, std::string* out) const {
  const auto type_id = static_cast<uint32_t>(value.type);
  if (type_id >= kGgufTypeCount)
    return Status(Code::kInvalidArgument, fmt::format("value type {} is unknown", type_id));
  if (value.type == GgufType::kString) {
    put_string(out, value.text);
    return Status::ok();
  }
  if (value.type != GgufType::kArray) {
    if (value.type == GgufType::kBool && value.bits > 1) {
      return Status(Code::kInvalidArgument, fmt::format("BOOL value is {}, expected 0 or 1", value.bits));
    }
    out->append(reinterpret_cast<const char*>(&value.bits), gguf_type_size(value.type));
    return Status::ok();
  }
  if (depth + 1 > kGgufMaxArrayDepth) {
    return Status(Code::kInvalidArgument,
                  fmt::format("arrays nest deeper than {} levels", kGgufMaxArrayDepth));
  }
  const auto elem_id = static_cast<uint32_t>(value.elem_type);
  if (elem_id >= kGgufTypeCount)
    return Status(Code::kInvalidArgument, fmt::format("element type {} is unknown", elem_id));
  put<uint32_t>(out, elem_id);
  put<uint64_t>(out, value.n_elements);
  if (value.elem_type == GgufType::kString || value.elem_type == GgufType::kArray) {
    size_t n = value.elem_type == GgufType::kString ? value.strings.size() : value.arrays.size();
    if (n != value.n_elements) {
      return Status(Code::kInvalidArgument,
                    fmt::format("array claims {} elements but holds {}", value.n_elements, n));
    }
    for (std::string_view s : value.strings) put_string(out, s);
    for (const GgufValue& inner : value.arrays) {
      if (inner.type != GgufType::kArray)
        return Status(Code::kInvalidArgument, "an ARRAY of ARRAY holds a non-array");
      LMAAS_RETURN_IF_ERROR(encode_value(inner, depth + 1, out));
    }
    return Status::ok();
  }
  size_t size = gguf_type_size(value.elem_type);
  if (value.raw.size() / size != value.n_elements || value.raw.size() % size != 0) {
    return Status(Code::kInvalidArgument,
                  fmt::format("array claims {} {} elements but holds {} bytes", value.n_elements,
                              gguf_type_name(value.elem_type), value.raw.size()));
  }
  if (value.elem_type == GgufType::kBool) {
    for (char c : value.raw) {
      if (static_cast<uint8_t>(c) > 1)
        return Status(Code::kInvalidArgument, "BOOL array element is not 0 or 1");
    }
  }
  out->append(value.raw);
  return Status::ok();
}

void GgufWriter::add_tensor(std::string_view name, GgmlType type, std::span<const int64_t> dims,
                            std::span<const uint8_t> data) {
  if (!status_.is_ok()) return;
  Status checked = check_name("tensor name", name, kGgufMaxTensorNameBytes);
  if (!checked.is_ok()) return record(checked);
  if (!tensor_names_.insert(std::string(name)).second) {
    return record(misuse(fmt::format("duplicate tensor name {}", gguf_quote(name))));
  }
  const GgmlTypeInfo* info = find_ggml_type(static_cast<uint32_t>(type));
  if (info == nullptr) {
    return record(misuse(
        fmt::format("tensor {}: ggml type {} is unknown", gguf_quote(name), static_cast<uint32_t>(type))));
  }
  if (dims.size() > kGgufMaxDims) {
    return record(misuse(fmt::format("tensor {} has {} dimensions, expected at most {}", gguf_quote(name),
                                     dims.size(), kGgufMaxDims)));
  }
  auto size = ggml_shape_size(*info, dims);
  if (!size.is_ok())
    return record(misuse(fmt::format("tensor {}: {}", gguf_quote(name), size.status().message())));
  if (size.value().n_bytes != data.size()) {
    return record(misuse(fmt::format("tensor {}: {} {} needs {} bytes, but {} were given", gguf_quote(name),
                                     info->name, fmt::join(dims, "x"), size.value().n_bytes, data.size())));
  }
  put_string(&tensor_infos_, name);
  put<uint32_t>(&tensor_infos_, static_cast<uint32_t>(dims.size()));
  for (int64_t d : dims) put<uint64_t>(&tensor_infos_, static_cast<uint64_t>(d));
  put<uint32_t>(&tensor_infos_, static_cast<uint32_t>(type));
  put<uint64_t>(&tensor_infos_, data_bytes_);
  tensors_.push_back(Tensor{std::string(name), data_bytes_, data});
  data_bytes_ += data.size() + padding_after(data.size());
}

std::string GgufWriter::head() const {
  std::string out = "GGUF";
  put<uint32_t>(&out, kWriteVersion);
  put<uint64_t>(&out, tensors_.size());
  put<uint64_t>(&out, n_kv_);
  out += metadata_;
  out += tensor_infos_;
  if (!tensors_.empty()) out.append(padding_after(out.size()), '\0');
  return out;
}

Result<std::vector<std::string_view>> GgufWriter::chunks(std::string* head_storage,
                                                         std::string* zeros) const {
  if (!status_.is_ok()) return status_;
  *head_storage = head();
  zeros->assign(alignment_, '\0');
  std::vector<std::string_view> out = {*head_storage};
  for (const Tensor& t : tensors_) {
    out.emplace_back(reinterpret_cast<const char*>(t.data.data()), t.data.size());
    out.push_back(std::string_view(*zeros).substr(0, padding_after(t.data.size())));
  }
  return out;
}

Result<std::string> GgufWriter::serialize() const {
  std::string head_storage, zeros;
  LMAAS_ASSIGN_OR_RETURN(std::vector<std::string_view> parts, chunks(&head_storage, &zeros));
  std::string out;
  for (std::string_view part : parts) out += part;
  return out;
}

Status GgufWriter::write(const std::string& path) const {
  std::string head_storage, zeros;
  LMAAS_ASSIGN_OR_RETURN(std::vector<std::string_view> parts, chunks(&head_storage, &zeros));
  return write_file_atomic(path, parts);
}

}  // namespace lmaas
