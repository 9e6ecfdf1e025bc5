// Fuzz target for the GGUF reader: parse arbitrary bytes; for a file that parses, call every typed getter
// on every key, read every tensor byte (so ASan sees any view outside the input), and check the round trip
// reader -> writer -> reader (a file the reader accepts is one the writer can reproduce). A broken
// invariant aborts, which the fuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"

namespace {

using lmaas::GgufFile;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "gguf_fuzz: invariant broken: %s\n", what);
    std::abort();
  }
}

void exercise_getters(const GgufFile& file) {
  for (const lmaas::GgufKeyValue& kv : file.metadata()) {
    (void)file.get_string(kv.key);
    (void)file.get_u32(kv.key);
    (void)file.get_i64(kv.key);
    (void)file.get_u64(kv.key);
    (void)file.get_f32(kv.key);
    (void)file.get_bool(kv.key);
    (void)file.get_array_size(kv.key);
    (void)file.get_string_array(kv.key);
    (void)file.get_f32_array(kv.key);
    (void)file.get_i32_array(kv.key);
    check(file.find(kv.key) == &kv.value, "find() returns the key's value");
  }
}

uint8_t read_tensors(const GgufFile& file) {
  uint8_t sum = 0;
  for (const lmaas::GgufTensor& t : file.tensors()) {
    check(file.find_tensor(t.name) == &t, "find_tensor() returns the tensor");
    for (uint64_t i = 0; i < t.n_bytes; ++i) sum ^= t.data[i];
  }
  return sum;
}

void check_round_trip(const GgufFile& file) {
  if (file.alignment() > lmaas::GgufWriter::kMaxAlignment) return;
  lmaas::GgufWriter writer(file.alignment());
  for (const lmaas::GgufKeyValue& kv : file.metadata()) {
    if (kv.key != "general.alignment") writer.add_value(kv.key, kv.value);
  }
  for (const lmaas::GgufTensor& t : file.tensors()) {
    writer.add_tensor(t.name, t.type, t.dims, {t.data, static_cast<size_t>(t.n_bytes)});
  }
  lmaas::Result<std::string> bytes = writer.serialize();
  check(bytes.is_ok(), "the writer accepts what the reader accepted");
  lmaas::Result<GgufFile> again = GgufFile::parse(std::move(bytes).value(), "rewritten");
  check(again.is_ok(), "the reader accepts what the writer wrote");
  check(again.value().tensors().size() == file.tensors().size(), "tensor count survives the round trip");
  check(again.value().alignment() == file.alignment(), "alignment survives the round trip");
  check(read_tensors(again.value()) == read_tensors(file), "tensor bytes survive the round trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lmaas::Result<GgufFile> file =
      GgufFile::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
  if (!file.is_ok()) {
    check(!file.status().message().empty(), "errors carry a message");
    return 0;
  }
  exercise_getters(file.value());
  (void)read_tensors(file.value());
  check_round_trip(file.value());
  return 0;
}
