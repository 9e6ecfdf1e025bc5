// The flags that describe a data file (shared by train and eval), and the DataSpec (classification) or
// ParallelSpec (translation) they make.
#pragma once

#include <string>

#include "config_values.h"
#include "train/dataset_reader.h"
#include "train/parallel_reader.h"

namespace lmaas::cli {

void add_data_flags(ConfigValues& values, CLI::App* cmd);
// A DataSpec for `path` from the merged options (format, header, delimiter, columns, …).
Result<train::DataSpec> data_spec_from(const nlohmann::json& options, const std::string& path);
// invalid_utf8 (error | replace) and bad_lines (error | skip) from the merged options.
Status line_policies_from(const nlohmann::json& options, train::InvalidUtf8& invalid_utf8, train::BadLines& bad_lines);

// Translation data: --source-column / --target-column (the one-file form).
void add_parallel_flags(ConfigValues& values, CLI::App* cmd);
// One delimited file (`target_path` empty) or two aligned files.
Result<train::ParallelSpec> parallel_spec_from(const nlohmann::json& options, const std::string& path,
                                               const std::string& target_path);

}  // namespace lmaas::cli
