#include "formats/module_state.h"

#include "formats/safetensors.h"

namespace lmaas {

Status save_module_state(const nn::Module& module, const std::string& path,
                         const std::map<std::string, std::string>& metadata) {
  TensorMap map;
  map.metadata = metadata;
  map.tensors = module.named_state();
  return write_safetensors(path, map);
}

Status load_module_state(nn::Module& module, const std::string& path, bool strict) {
  LMAAS_ASSIGN_OR_RETURN(TensorMap map, read_safetensors(path));
  Status status = module.load_state(map.tensors, strict);
  if (!status.is_ok()) return Status(status.code(), "loading '" + path + "': " + status.message());
  return Status::ok();
}

}  // namespace lmaas
