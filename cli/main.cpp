// driftrec: predict how users' interests evolve. See `driftrec --help`.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "core/version.hpp"
#include "graph/types.hpp"

int main(int argc, char** argv) {
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
  driftrec::cli::add_demo(app);
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
  } catch (const std::exception& e) {
    fmt::print(stderr, "driftrec: internal error: {}\n", e.what());
    // After a failed write (disk full) HDF5 may still hold a file it could not close;
    // its exit handler would try again and crash. Leave without running exit handlers.
    std::fflush(nullptr);
    std::_Exit(1);
  }
  return 0;
}
