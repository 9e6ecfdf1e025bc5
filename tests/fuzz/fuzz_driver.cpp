// Standalone driver for a libFuzzer target, for compilers without libFuzzer (GCC) and for CTest's
// fuzz_smoke label: replays every seed file given (files or directories), then a bounded, deterministic
// set of mutations of each seed: every truncation, byte flips, overwrites of every 4- and 8-byte window
// with extreme counts and type ids, and seeded random multi-byte edits. Prints the number of runs.
//   <target> [--random N] <seed file or dir>...
// Exit status 0 when every input ran; a broken invariant aborts inside the target.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

// Seeds above this size get sampled positions instead of every position.
constexpr size_t kMaxExhaustiveBytes = 4096;

struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

uint64_t g_runs = 0;

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  ++g_runs;
}

template <typename T>
void overwrite(std::string s, size_t pos, T value) {
  if (pos + sizeof(T) > s.size()) return;
  std::memcpy(s.data() + pos, &value, sizeof(T));
  run(s);
}

// Positions to mutate: all of them for small seeds, an even sample for big ones.
std::vector<size_t> positions(size_t size) {
  std::vector<size_t> out;
  size_t step = size <= kMaxExhaustiveBytes ? 1 : size / kMaxExhaustiveBytes;
  for (size_t i = 0; i < size; i += step) out.push_back(i);
  return out;
}

void mutate_deterministically(const std::string& seed) {
  for (size_t n : positions(seed.size())) run(seed.substr(0, n));
  for (size_t i : positions(seed.size())) {
    for (uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string s = seed;
      s[i] = static_cast<char>(static_cast<uint8_t>(s[i]) ^ mask);
      run(s);
    }
    for (uint32_t v : {0u, 1u, 5u, 9u, 13u, 0x80000000u, 0xFFFFFFFFu}) overwrite(seed, i, v);
    for (uint64_t v : {uint64_t{1} << 32, uint64_t{1} << 60, uint64_t{1} << 63, ~uint64_t{0}})
      overwrite(seed, i, v);
  }
}

void mutate_randomly(const std::string& seed, SplitMix64& rng, int n_runs) {
  for (int r = 0; r < n_runs; ++r) {
    std::string s = seed;
    int n_edits = 1 + static_cast<int>(rng.below(4));
    for (int e = 0; e < n_edits && !s.empty(); ++e) {
      size_t pos = rng.below(s.size());
      switch (rng.below(4)) {
        case 0:
          s[pos] = static_cast<char>(rng.next());
          break;
        case 1:
          s.erase(pos, 1 + rng.below(16));
          break;
        case 2:
          s.insert(pos, s.substr(rng.below(s.size()), 1 + rng.below(16)));
          break;
        default:
          s.resize(pos);
          break;
      }
    }
    run(s);
  }
}

bool read_seed(const fs::path& path, std::vector<std::string>* seeds) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz_driver: cannot read %s\n", path.c_str());
    return false;
  }
  seeds->emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int n_random = 20000;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--random" && i + 1 < argc) {
      n_random = std::atoi(argv[++i]);
      continue;
    }
    std::error_code ec;
    if (fs::is_directory(arg, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());  // a fixed order keeps runs reproducible
      for (const fs::path& f : files) {
        if (!read_seed(f, &seeds)) return 2;
      }
    } else if (!read_seed(arg, &seeds)) {
      return 2;
    }
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "usage: %s [--random N] <seed file or dir>...\n", argv[0]);
    return 2;
  }
  SplitMix64 rng{1};
  run("");
  for (const std::string& seed : seeds) {
    run(seed);
    mutate_deterministically(seed);
    mutate_randomly(seed, rng, n_random);
  }
  std::printf("fuzz_driver: %zu seeds, %llu runs, no crash\n", seeds.size(),
              static_cast<unsigned long long>(g_runs));
  return 0;
}
