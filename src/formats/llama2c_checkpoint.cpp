// llama2.c checkpoints: see llama2c_checkpoint.h.
#include "formats/llama2c_checkpoint.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace lmaas {

namespace {

constexpr uint32_t kMagic = 0x616b3432;  // "ak42" read as a little-endian u32
constexpr size_t kV1HeaderBytes = 256;
// Larger sizes than any real model; keeps every product below far from int64 overflow.
constexpr int64_t kMaxSize = int64_t{1} << 24;

int32_t read_i32(std::span<const uint8_t> bytes, size_t offset) {
  int32_t v = 0;
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

Status corrupt(const std::string& source, const std::string& what) {
  return Status(Code::kDataLoss, fmt::format("{}: not a valid llama2.c checkpoint: {}", source, what));
}

Status check_header(const Llama2cHeader& h, const std::string& source) {
  const std::pair<const char*, int32_t> fields[] = {{"dim", h.dim},           {"hidden_dim", h.hidden_dim},
                                                    {"n_layers", h.n_layers}, {"n_heads", h.n_heads},
                                                    {"n_kv_heads", h.n_kv_heads}, {"vocab_size", h.vocab_size},
                                                    {"seq_len", h.seq_len}};
  for (const auto& [name, value] : fields) {
    if (value <= 0 || value > kMaxSize) {
      return corrupt(source, fmt::format("header field {} = {}; expected 1..{}", name, value, kMaxSize));
    }
  }
  if (h.dim % h.n_heads != 0 || (h.dim / h.n_heads) % 2 != 0) {
    return corrupt(source, fmt::format("dim {} is not n_heads {} × an even head size", h.dim, h.n_heads));
  }
  if (h.n_heads % h.n_kv_heads != 0) {
    return corrupt(source, fmt::format("n_kv_heads {} does not divide n_heads {}", h.n_kv_heads, h.n_heads));
  }
  return Status::ok();
}

// Lays out the checkpoint's tensors in file order from `offset`, checking each fits in the bytes.
class TensorLayout {
 public:
  TensorLayout(std::span<const uint8_t> bytes, size_t offset, const std::string& source)
      : bytes_(bytes), offset_(offset), source_(source) {}

  // Adds `count` matrices [n_rows, n_cols] named by `name_of(i)`, or skips them when name_of is null.
  template <typename NameOf>
  Status add(int64_t count, int64_t n_rows, int64_t n_cols, NameOf name_of, std::vector<Llama2cTensor>* out) {
    for (int64_t i = 0; i < count; ++i) {
      const auto n_bytes = static_cast<size_t>(n_rows * n_cols) * sizeof(float);
      if (n_bytes > bytes_.size() - offset_) {
        return corrupt(source_, fmt::format("the file ends at byte {} inside tensor {} (bytes {}..{})", bytes_.size(),
                                            name_of(i), offset_, offset_ + n_bytes));
      }
      if (out != nullptr) {
        out->push_back({name_of(i), n_rows, n_cols, reinterpret_cast<const float*>(bytes_.data() + offset_)});
      }
      offset_ += n_bytes;
    }
    return Status::ok();
  }
  size_t offset() const { return offset_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_;
  const std::string& source_;
};

auto layer_name(const char* suffix) {
  return [suffix](int64_t i) { return fmt::format("blk.{}.{}.weight", i, suffix); };
}
auto single_name(const char* name) {
  return [name](int64_t) { return std::string(name); };
}

}  // namespace

bool looks_like_llama2c(std::span<const uint8_t> bytes) {
  if (bytes.size() < 7 * sizeof(int32_t)) return false;
  if (read_i32(bytes, 0) == static_cast<int32_t>(kMagic)) return true;
  Llama2cHeader h;
  h.dim = read_i32(bytes, 0);
  h.hidden_dim = read_i32(bytes, 4);
  h.n_layers = read_i32(bytes, 8);
  h.n_heads = read_i32(bytes, 12);
  h.n_kv_heads = read_i32(bytes, 16);
  h.vocab_size = std::abs(read_i32(bytes, 20));
  h.seq_len = read_i32(bytes, 24);
  return check_header(h, "").is_ok();
}

Result<Llama2cCheckpoint> parse_llama2c_checkpoint(std::span<const uint8_t> bytes, const std::string& source) {
  if (reinterpret_cast<uintptr_t>(bytes.data()) % alignof(float) != 0) {
    return Status(Code::kInvalidArgument, fmt::format("{}: checkpoint bytes are not 4-byte aligned", source));
  }
  if (bytes.size() < 7 * sizeof(int32_t)) {
    return corrupt(source, fmt::format("{} bytes is shorter than the 28-byte header", bytes.size()));
  }
  Llama2cCheckpoint ckpt;
  Llama2cHeader& h = ckpt.header;
  size_t fields_at = 0;
  size_t data_at = 7 * sizeof(int32_t);
  if (static_cast<uint32_t>(read_i32(bytes, 0)) == kMagic) {
    if (bytes.size() < kV1HeaderBytes) {
      return corrupt(source, fmt::format("{} bytes is shorter than the 256-byte header", bytes.size()));
    }
    h.version = read_i32(bytes, 4);
    if (h.version != 1) {
      return Status(Code::kUnimplemented,
                    fmt::format("{}: llama2.c checkpoint version {} is not supported (only the float32 versions 0 and 1; "
                                "convert int8 exports from their float32 source)",
                                source, h.version));
    }
    fields_at = 8;
    data_at = kV1HeaderBytes;
  }
  h.dim = read_i32(bytes, fields_at);
  h.hidden_dim = read_i32(bytes, fields_at + 4);
  h.n_layers = read_i32(bytes, fields_at + 8);
  h.n_heads = read_i32(bytes, fields_at + 12);
  h.n_kv_heads = read_i32(bytes, fields_at + 16);
  h.vocab_size = read_i32(bytes, fields_at + 20);
  h.seq_len = read_i32(bytes, fields_at + 24);
  if (h.version == 0) {
    h.shared_classifier = h.vocab_size > 0;
    if (h.vocab_size < 0) h.vocab_size = -h.vocab_size;
  } else {
    const uint8_t shared = bytes[fields_at + 28];
    if (shared > 1) return corrupt(source, fmt::format("shared_classifier flag = {}; expected 0 or 1", shared));
    h.shared_classifier = shared == 1;
  }
  LMAAS_RETURN_IF_ERROR(check_header(h, source));

  const int64_t dim = h.dim, hidden = h.hidden_dim, layers = h.n_layers, vocab = h.vocab_size;
  const int64_t head = dim / h.n_heads;
  const int64_t kv_dim = head * h.n_kv_heads;
  TensorLayout layout(bytes, data_at, source);
  auto& out = ckpt.tensors;
  const auto add = [&](int64_t count, int64_t rows, int64_t cols, auto name_of) {
    return layout.add(count, rows, cols, name_of, &out);
  };
  if (h.version == 0) {
    LMAAS_RETURN_IF_ERROR(add(1, vocab, dim, single_name("token_embd.weight")));
    LMAAS_RETURN_IF_ERROR(add(layers, 1, dim, layer_name("attn_norm")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, dim, layer_name("attn_q")));
    LMAAS_RETURN_IF_ERROR(add(layers, kv_dim, dim, layer_name("attn_k")));
    LMAAS_RETURN_IF_ERROR(add(layers, kv_dim, dim, layer_name("attn_v")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, dim, layer_name("attn_output")));
    LMAAS_RETURN_IF_ERROR(add(layers, 1, dim, layer_name("ffn_norm")));
    LMAAS_RETURN_IF_ERROR(add(layers, hidden, dim, layer_name("ffn_gate")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, hidden, layer_name("ffn_down")));
    LMAAS_RETURN_IF_ERROR(add(layers, hidden, dim, layer_name("ffn_up")));
    LMAAS_RETURN_IF_ERROR(add(1, 1, dim, single_name("output_norm.weight")));
    // The precomputed RoPE tables (cos, sin) are not needed: skip them.
    LMAAS_RETURN_IF_ERROR(layout.add(2, h.seq_len, head / 2, single_name("rope tables"), nullptr));
  } else {
    LMAAS_RETURN_IF_ERROR(add(layers, 1, dim, layer_name("attn_norm")));
    LMAAS_RETURN_IF_ERROR(add(layers, 1, dim, layer_name("ffn_norm")));
    LMAAS_RETURN_IF_ERROR(add(1, 1, dim, single_name("output_norm.weight")));
    LMAAS_RETURN_IF_ERROR(add(1, vocab, dim, single_name("token_embd.weight")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, dim, layer_name("attn_q")));
    LMAAS_RETURN_IF_ERROR(add(layers, kv_dim, dim, layer_name("attn_k")));
    LMAAS_RETURN_IF_ERROR(add(layers, kv_dim, dim, layer_name("attn_v")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, dim, layer_name("attn_output")));
    LMAAS_RETURN_IF_ERROR(add(layers, hidden, dim, layer_name("ffn_gate")));
    LMAAS_RETURN_IF_ERROR(add(layers, dim, hidden, layer_name("ffn_down")));
    LMAAS_RETURN_IF_ERROR(add(layers, hidden, dim, layer_name("ffn_up")));
  }
  if (!h.shared_classifier) LMAAS_RETURN_IF_ERROR(add(1, vocab, dim, single_name("output.weight")));
  if (h.version == 0 && layout.offset() != bytes.size()) {
    return corrupt(source, fmt::format("{} bytes after the last tensor (the header says dim {}, {} layers, vocab {}{}); "
                                       "the file does not match its header",
                                       bytes.size() - layout.offset(), dim, layers, vocab,
                                       h.shared_classifier ? ", shared classifier" : ""));
  }
  return ckpt;
}

}  // namespace lmaas
