// The flags that describe a data file (shared by train and eval), and the DataSpec they make.
#pragma once

#include <string>

#include "config_values.h"
#include "train/dataset_reader.h"

namespace lmaas::cli {

void add_data_flags(ConfigValues& values, CLI::App* cmd);
// A DataSpec for `path` from the merged options (format, header, delimiter, columns, …).
Result<train::DataSpec> data_spec_from(const nlohmann::json& options, const std::string& path);

}  // namespace lmaas::cli
