// lmaas: the one binary. main() parses the command line and is the only place that maps errors to
// exit codes: 0 ok, 1 runtime failure, 2 usage error.
#include <cstdio>

#include "base/status.h"
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lmaas — language models as a service: train, evaluate, deploy and serve text models"};
  app.set_version_flag("--version", "lmaas 0.1.0");
  app.require_subcommand(1);
  int exit_code = 0;
  lmaas::cli::add_bench_command(app, exit_code);
  lmaas::cli::add_demo_command(app, exit_code);
  lmaas::cli::add_train_command(app, exit_code);
  lmaas::cli::add_eval_command(app, exit_code);
  lmaas::cli::add_predict_command(app, exit_code);
  lmaas::cli::add_keys_command(app, exit_code);
  lmaas::cli::add_serve_command(app, exit_code);
  lmaas::cli::add_call_command(app, exit_code);
  lmaas::cli::add_tokenize_command(app, exit_code);
  lmaas::cli::add_generate_command(app, exit_code);
  lmaas::cli::add_convert_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help/--version print and succeed; anything else is a usage error
  } catch (const lmaas::Error& e) {
    std::fprintf(stderr, "lmaas: error: %s (%s)\n", e.what(), lmaas::code_name(e.code()));
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lmaas: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
