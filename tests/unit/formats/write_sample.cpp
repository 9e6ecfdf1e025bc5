// write_sample: writes a small .safetensors file with our writer so that tests/tools/check_safetensors.py
// (an independent Python parser) can check it. The expected sums/values live in this folder's
// CMakeLists.txt; keep the two in step.
//   write_sample OUT_PATH            the sample file
//   write_sample OUT_PATH --truncate the same file minus its last 3 bytes (the checker must reject it)
#include <cstdio>
#include <cstring>
#include <string>

#include "base/file_util.h"
#include "formats/safetensors.h"

namespace {

lmaas::TensorMap sample_map() {
  using lmaas::Tensor;
  lmaas::TensorMap map;
  map.metadata = {{"format", "lmaas-sample"}, {"note", "h\xC3\xA9llo \xE2\x9C\x93"}};
  auto add = [&map](const char* name, Tensor t) { map.tensors.emplace_back(name, std::move(t)); };
  add("mask", Tensor::from_vector<uint8_t>({0, 1, 255, 7, 3}, {5}));                        // sum 266
  add("weight", Tensor::from_vector<float>({0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f}, {2, 3}));  // sum 7.5
  add("bias", Tensor::from_vector<double>({1.25, -2.5, 4.0}, {3}));                         // sum 2.75
  add("ids", Tensor::from_vector<int64_t>({1, -2, 3, int64_t{1} << 40}, {4}));  // sum 1099511627778
  add("counts", Tensor::from_vector<int32_t>({-7, 100, 2147483647, -2147483647 - 1}, {2, 2}));  // sum 92
  add("half", Tensor::from_vector<float>({1.0f, -0.5f, 3.0f}, {3}).to(lmaas::DType::kBF16));    // sum 3.5
  add("scalar", Tensor::from_vector<float>({42.0f}, {}));                                       // sum 42
  add("empty", Tensor::zeros({0, 4}));                                                          // sum 0
  // A non-contiguous view: the file must hold its values in logical (row-major) order 1,4,2,5,3,6.
  add("transposed", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose(0, 1));
  return map;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (argc == 3 && std::strcmp(argv[2], "--truncate") != 0) || argc > 3) {
    std::fprintf(stderr, "usage: write_sample OUT_PATH [--truncate]\n");
    return 2;
  }
  std::string path = argv[1];
  lmaas::TensorMap map = sample_map();
  lmaas::Status status = lmaas::write_safetensors(path, map);
  if (status.is_ok() && argc == 3) {
    std::string bytes = lmaas::serialize_safetensors(map);
    status = lmaas::write_file_atomic(path, std::string_view(bytes).substr(0, bytes.size() - 3));
  }
  if (!status.is_ok()) {
    std::fprintf(stderr, "write_sample: %s\n", status.to_string().c_str());
    return 1;
  }
  return 0;
}
