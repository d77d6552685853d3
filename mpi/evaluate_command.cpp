// `driftrec-mpi evaluate STORE ...` (mpi/evaluate_command.hpp).
#include "mpi/evaluate_command.hpp"

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/options.hpp"
#include "mpi/evaluate_job.hpp"

namespace driftrec::mpi {

void add_evaluate_command(CLI::App& app, const Comm& c) {
  auto* cmd = app.add_subcommand("evaluate", "Temporal evaluation of every baseline and model, across the MPI ranks");
  cmd->footer(
      "The options of `driftrec evaluate`; the rows are split across the ranks (each rank fits and scores its "
      "rows on its own threads), and rank 0 gathers every row's per-pair values and runs the same bootstrap, so "
      "the report equals the single process's bit for bit except the per-model timings. Rank 0 prints the "
      "table and writes --json. Example:\n  mpirun -np 2 driftrec-mpi evaluate ml.h5 --threads 1 --json report.json");
  struct Args {
    pipeline::EvaluateRequest request;
    std::string ks = "10,20", json;
    bool quiet = false;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  cli::add_evaluate_options(*cmd, {q, a->ks, a->json});
  cmd->add_option("--threads", q.threads, "OpenMP threads per rank (0: OpenMP's default)")->default_val(0);
  cli::add_device_option(*cmd, q.device);
  cmd->add_flag("--quiet", a->quiet, "No progress lines on stderr (rank 0's: one per fit of its rows)");
  cmd->callback([a, c] {
    run_phase(c, [&] { a->request.ks = cli::parse_ks(a->ks); });
    if (!a->quiet && c.root())
      a->request.progress = [last = std::string()](const char* stage, std::uint64_t done, std::uint64_t total) mutable {
        // Stages of the fits only, not the epochs inside them (fit_progress's "stage: ...").
        const std::string s = stage;
        if (s == last || s.find(':') != std::string::npos) return;
        last = s;
        fmt::print(stderr, "rank 0: {} ({}/{} fits)\n", s, done, total);
        std::fflush(stderr);
      };
    const EvaluateJobSummary s = evaluate_store(c, a->request);
    run_phase(c, [&] {
      if (!c.root()) return;
      cli::print_evaluation(s.summary, a->json);
      std::string ranks;
      for (int r = 0; r < s.ranks; ++r) {
        std::string rows;
        for (std::size_t m = 0; m < s.models.size(); ++m)
          if (s.owner[m] == r) rows += (rows.empty() ? "" : ", ") + s.models[m];
        ranks += fmt::format("\n  rank {}: {:.1f} s: {}", r, s.rank_seconds[r], rows.empty() ? "(no rows)" : rows);
      }
      fmt::print("on {} ranks (wall time of each rank's rows):{}\n", s.ranks, ranks);
    });
  });
}

}  // namespace driftrec::mpi
