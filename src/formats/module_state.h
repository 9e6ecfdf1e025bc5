// Module state as a safetensors file: one tensor per parameter, keyed by the module's dotted parameter
// names (the checkpoint keys), so the file reads in any safetensors reader and loads into PyTorch modules
// that use the same names. Writes are atomic; loads validate names, shapes and dtypes.
#pragma once

#include <map>
#include <string>

#include "base/status.h"
#include "nn/module.h"

namespace lmaas {

Status save_module_state(const nn::Module& module, const std::string& path,
                         const std::map<std::string, std::string>& metadata = {});
// With `strict`, a name missing from the file or present only in the file is an error.
Status load_module_state(nn::Module& module, const std::string& path, bool strict = true);

}  // namespace lmaas
