// driftrec report: one self-contained HTML page about a store (and an evaluate JSON), drawn
// by the Python module: driftrec.report lays out the page and plots with matplotlib's SVG
// backend (a well-kept plotting library; C++ has none of its standing). This command runs
// it in the Python named by $DRIFTREC_PYTHON (default python3 on PATH), passing the
// arguments through; when that Python lacks the module or matplotlib it exits 2 with one
// line saying how to install them.
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"

extern char** environ;

namespace driftrec::cli {

namespace {

// Imports first, so that a missing module is one line and exit 2, not a traceback.
constexpr const char* kBootstrap = R"(import sys
try:
    import driftrec.report.__main__ as report
except ImportError as e:
    sys.stderr.write("driftrec: error: report needs the Python module driftrec and matplotlib in " + sys.executable
                     + " (" + str(e) + "); install both with scripts/python_venv.sh and set "
                     "DRIFTREC_PYTHON=build/venv/bin/python, or pip install '.[report]' from the driftrec source\n")
    sys.exit(2)
sys.exit(report.main(sys.argv[1:]))
)";

}  // namespace

int run_report(const ReportArgs& a) {
  const char* env = std::getenv("DRIFTREC_PYTHON");
  const std::string python = env && *env ? env : "python3";
  std::vector<std::string> args = {python, "-c", kBootstrap, a.store, "--out", a.out};
  for (const auto& u : a.users) args.insert(args.end(), {"--user", u});
  if (!a.evaluation.empty()) args.insert(args.end(), {"--evaluation", a.evaluation});
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
  if (err != 0)
    throw InputError(fmt::format("report needs Python 3 with the driftrec module and matplotlib; cannot run '{}' ({}); "
                                 "set DRIFTREC_PYTHON to such a python (scripts/python_venv.sh builds one)",
                                 python, std::strerror(err)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw InternalError(fmt::format("report: waiting for {}: {}", python, std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  fmt::print(stderr, "driftrec: error: report: {} ended by signal {}\n", python, WTERMSIG(status));
  return 1;
}

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report", "Write one self-contained HTML report (charts and tables) about a store");
  cmd->footer(
      "Sections: the store at a glance (sizes, per-period counts, degree distributions), population label trends "
      "(risers and fallers named), per user: interests per period, the predicted next period and recommended items, "
      "convergence of propagation and training, and with --evaluation each metric per model with its 95% interval. "
      "A section whose data the store lacks says which command computes it. The page needs no network.\n"
      "Runs the Python module driftrec.report (matplotlib) in $DRIFTREC_PYTHON (default: python3).\n\n"
      "Example:\n"
      "  driftrec report ml.h5 --out report.html --user 414 --evaluation eval.json");
  auto a = std::make_shared<ReportArgs>();
  cmd->add_option("store", a->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--out", a->out, "The HTML file to write (replaced)")->required();
  cmd->add_option("--user", a->users, "A user id to show (repeatable; default: the most active and the most changeable)");
  cmd->add_option("--evaluation", a->evaluation, "The JSON of `driftrec evaluate --json FILE`");
  cmd->callback([a] {
    const int rc = run_report(*a);
    if (rc != 0) {
      std::fflush(stdout);
      std::exit(rc);  // the report printed its one-line reason; no HDF5 file is open here
    }
  });
}

}  // namespace driftrec::cli
