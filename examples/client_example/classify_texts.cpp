// classify_texts MODEL TEXT... — classifies texts on a running lmaas server (LMAAS_BASE_URL,
// LMAAS_API_KEY) from four threads sharing one client, and prints "label score text" per text.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <lmaas/client.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: classify_texts MODEL TEXT...\n");
    return 2;
  }
  const std::string model = argv[1];
  const std::vector<std::string> texts(argv + 2, argv + argc);
  lmaas::Client client;  // base URL and key from the environment
  std::vector<std::string> lines(texts.size());
  std::vector<std::string> failures(texts.size());
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < texts.size(); i += 4) {
        try {
          const lmaas::api::ClassifyResponse r = client.classify(model, {texts[i]});
          lines[i] = r.data.at(0).label + " " + std::to_string(r.data.at(0).score) + " " + texts[i];
        } catch (const lmaas::ClientError& e) {
          failures[i] = std::string(e.what()) + " [" + e.error().error_code + ", HTTP " + std::to_string(e.http_status()) + "]";
        }
      }
    });
  for (auto& th : threads) th.join();
  int rc = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!failures[i].empty()) {
      std::fprintf(stderr, "%s\n", failures[i].c_str());
      rc = 1;
    } else {
      std::printf("%s\n", lines[i].c_str());
    }
  }
  return rc;
}
