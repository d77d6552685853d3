// driftrec factorize: temporal implicit ALS over a store's slices (pipeline/factorize.hpp),
// factors saved under /results/<name>/ (user factors of every period by default, item
// factors of the last).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "pipeline/factorize.hpp"

namespace driftrec::cli {
namespace mf = matrix_factorization;

void add_factorize(CLI::App& app) {
  auto* cmd = app.add_subcommand("factorize", "Implicit ALS per period, tied across time (temporal ALS)");
  cmd->footer(
      "Each period t is fitted on the decayed history G_t = gamma G_(t-1) + W_t, starting from period "
      "t-1's factors, with the drift penalty eta |x_u(t) - x_u(t-1)|^2 on user factors "
      "(Hu, Koren & Volinsky 2008; CG row solves after Takacs et al. 2011).\n"
      "Saved under /results/<name>: user_factors/NNNN (users x factors) and item_factors/NNNN "
      "(items x factors) for the periods kept, parameters as attributes.\n\nExample:\n"
      "  driftrec factorize ml.h5 --factors 64 --eta 1 --gamma 0.5\n"
      "  driftrec recommend ml.h5 --user 414 --k 10");
  struct Args {
    pipeline::FactorizeRequest request;
    std::string solver = "cg";
    bool verbose = false, json = false;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  add_factorize_options(*cmd, {q.store, q.name, q.options, a->solver, q.keep_users, q.keep_items});
  cmd->add_flag("--verbose", a->verbose, "Print the objective after every sweep (costs one extra pass)");
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  add_threads_option(*cmd, a->common);
  add_device_option(*cmd, a->request.device);
  add_quiet_option(*cmd, a->common);
  cmd->callback([a] {
    a->common.apply();
    auto& q = a->request;
    q.options.als.solver = parse_solver(a->solver);
    q.options.compute_loss = a->verbose;
    q.threads = a->common.threads;
    q.progress = make_progress(a->common);
    if (a->verbose)
      q.on_iteration = [](std::size_t period, const mf::IterationReport& r) {
        pause_progress();
        fmt::print(stderr, "period {:4d}  sweep {:3d}  loss {:.6g}  {:.3f} s\n", period, r.iteration, r.loss, r.seconds);
      };
    const pipeline::FactorizeSummary s = pipeline::factorize_store(q);
    end_progress();
    if (a->json) {
      fmt::print("{}\n", s.to_json().dump(2));
      return;
    }
    fmt::print("{}: /results/{}: temporal ALS over {} periods ({} factors, eta {}, gamma {}) in {:.2f} s; "
               "user factors kept for {} periods, item factors for {}\n",
               s.store, s.result, s.periods, s.options.als.factors, s.options.eta, s.options.gamma, s.seconds,
               s.user_periods_kept, s.item_periods_kept);
  });
}

}  // namespace driftrec::cli
