// Subcommand registration: each cmd_<name>.cpp adds one subcommand to the app. The callback it installs
// returns an exit code through `exit_code`; errors are thrown as lmaas::Error and turned into exit codes
// by main() alone.
#pragma once

#include <CLI/CLI.hpp>

namespace lmaas::cli {

void add_bench_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_predict_command(CLI::App& app, int& exit_code);
void add_keys_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);
void add_call_command(CLI::App& app, int& exit_code);
void add_tokenize_command(CLI::App& app, int& exit_code);
void add_generate_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);

}  // namespace lmaas::cli
