// driftrec: predict how users' interests evolve. See `driftrec --help`.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/version.hpp"
#include "graph/types.hpp"

namespace {

// Everything a command prints goes through stdout's buffer; a write that failed (a full
// disk, a closed pipe) must not end in exit 0 as if the output were there. Flushes it and
// returns `rc`, or 1 after one line naming the error.
int finish_stdout(int rc) {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  if (flushed && !std::ferror(stdout)) return rc;
  const int err = errno;
  fmt::print(stderr, "driftrec: error: write error on standard output{}{}\n", err ? ": " : "",
             err ? std::strerror(err) : "");
  return rc == 0 ? 1 : rc;
}

// CLI11 reports a word that names no subcommand as "A subcommand is required"; say which
// word it was and list the subcommands. The top level has flags only (--help, --version),
// so the first argument not starting with '-' is the subcommand.
bool unknown_subcommand(CLI::App& app, int argc, char** argv) {
  for (int k = 1; k < argc; ++k) {
    const std::string_view word = argv[k];
    if (word.starts_with("-")) continue;
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->check_name(std::string(word))) return false;
    std::string names;
    for (const CLI::App* sub : app.get_subcommands({})) names += (names.empty() ? "" : ", ") + sub->get_name();
    fmt::print(stderr, "driftrec: error: unknown subcommand '{}'; expected one of: {} (see driftrec --help)\n",
               word, names);
    return true;
  }
  return false;
}

int run(int argc, char** argv) {
  CLI::App app{
      "driftrec: a time-sliced user x item graph engine that predicts how users' interests "
      "evolve.\n\nTypical run:\n"
      "  driftrec ingest data/movielens-latest-small/ratings.csv \\\n"
      "      --labels data/movielens-latest-small/movies.csv --slice month -o ml.h5\n"
      "  driftrec info ml.h5\n"
      "Run `driftrec demo` for the whole pipeline on the bundled data.",
      "driftrec"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "driftrec " DRIFTREC_VERSION);
  driftrec::cli::add_ingest(app);
  driftrec::cli::add_info(app);
  driftrec::cli::add_reslice(app);
  driftrec::cli::add_generate(app);
  driftrec::cli::add_factorize(app);
  driftrec::cli::add_recommend(app);
  driftrec::cli::add_propagate(app);
  driftrec::cli::add_evaluate(app);
  driftrec::cli::add_train(app);
  driftrec::cli::add_report(app);
  driftrec::cli::add_export(app);
  driftrec::cli::add_update(app);
  driftrec::cli::add_serve(app);
  driftrec::cli::add_demo(app);
  if (unknown_subcommand(app, argc, argv)) return 2;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const driftrec::InputError& e) {
    fmt::print(stderr, "driftrec: error: {}\n", e.what());
    return 2;
  } catch (const driftrec::NumericalError& e) {
    // A numerical failure the user fixes by changing the parameter the message names.
    fmt::print(stderr, "driftrec: error: {}\n", e.what());
    return 2;
  } catch (const driftrec::InternalError& e) {
    // A failure of the system, not of driftrec (a full disk): the message says what.
    fmt::print(stderr, "driftrec: error: {}\n", e.what());
    std::fflush(nullptr);
    std::_Exit(1);
  } catch (const std::bad_alloc&) {
    // Out of memory: one line naming the command, exit 1. A store being written is left
    // as it was (StoreWriter removes its temporary file while unwinding; tests/fault
    // checks this allocation by allocation). Formatting without allocating: memory may
    // still be short here.
    const char* command = "driftrec";
    for (int k = 1; k < argc; ++k)
      if (argv[k][0] != '-') {
        command = argv[k];
        break;
      }
    std::fprintf(stderr, "driftrec: error: out of memory while running '%s'\n", command);
    std::fflush(nullptr);
    std::_Exit(1);
  } catch (const std::exception& e) {
    if (std::ferror(stdout)) {  // fmt::print throws when stdout's buffer cannot be written out
      const auto* system = dynamic_cast<const std::system_error*>(&e);
      fmt::print(stderr, "driftrec: error: write error on standard output: {}\n",
                 system ? system->code().message() : std::string(e.what()));
      std::_Exit(1);
    }
    fmt::print(stderr, "driftrec: internal error: {}\n", e.what());
    // After a failed write (disk full) HDF5 may still hold a file it could not close;
    // its exit handler would try again and crash. Leave without running exit handlers.
    std::fflush(nullptr);
    std::_Exit(1);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return finish_stdout(run(argc, argv)); }
