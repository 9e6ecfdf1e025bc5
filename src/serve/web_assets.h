// The web console's files (web/), compiled into the binary by cmake/embed_files.cmake: the server needs
// nothing beside it to serve the console.
#pragma once

#include <span>
#include <string_view>

namespace lmaas::serve {

struct WebAsset {
  std::string_view name;   // the file's name in web/, e.g. "app.js"
  std::string_view bytes;
};

std::span<const WebAsset> web_assets();

}  // namespace lmaas::serve
