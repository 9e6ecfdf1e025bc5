// RequestLimits: the bounds every request is held to. Each is a `lmaas serve` flag; a request over one
// gets a 4xx whose error names the limit (param) and its value.
#pragma once

#include <cstdint>

namespace lmaas::api {

struct RequestLimits {
  int64_t body_bytes = 1 << 20;        // --max-body-bytes
  int64_t header_bytes = 16 << 10;     // --max-header-bytes (request line + all headers)
  int64_t json_depth = 32;             // --max-json-depth (nesting of arrays/objects)
  int64_t inputs_per_request = 256;    // --max-inputs
  int64_t chars_per_input = 20000;     // --max-input-chars (Unicode code points)
};

}  // namespace lmaas::api
