// driftrec propagate: temporal label propagation (--method label) or random-walk CF
// (--method p3alpha|rp3beta|ppr) over a store's slices (pipeline/propagate.hpp), saved
// under /results/<name>.
#include <cstdint>
#include <string>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/options.hpp"
#include "pipeline/propagate.hpp"

namespace driftrec::cli {

namespace {

void print_summary(const pipeline::PropagateSummary& s) {
  if (s.is_label()) {
    fmt::print("{}: /results/{}: label propagation over {} periods ({} iterations in all, {} not converged; "
               "alpha {}, gamma {}, mu {}) in {:.2f} s\n",
               s.store, s.result, s.periods, s.total_iterations(), s.not_converged, s.label.propagation.alpha,
               s.label.gamma, s.label.mu, s.seconds);
  } else if (s.method == "ppr") {
    fmt::print("{}: /results/{}: personalised PageRank (restart {}) on the decayed history ({} edges); top {} items "
               "per user; {} iterations at most, {} in {:.2f} s\n",
               s.store, s.result, static_cast<double>(s.walk.restart), s.counts.graph_nnz, s.walk.top,
               s.counts.iterations, s.counts.converged ? "converged" : "NOT converged", s.seconds);
  } else {
    fmt::print("{}: /results/{}: {} item-item similarity (alpha {}, beta {}, {} neighbours, {} entries) on the decayed "
               "history ({} edges); top {} items per user, in {:.2f} s\n",
               s.store, s.result, s.method, static_cast<double>(s.walk.alpha), static_cast<double>(s.walk.beta),
               s.walk.neighbours, s.counts.similarity_nnz, s.counts.graph_nnz, s.walk.top, s.seconds);
  }
}

void warn_not_converged(const pipeline::PropagateSummary& s) {
  if (s.is_label() && s.not_converged > 0) {
    const pipeline::PropagatedPeriod& worst = s.label_periods[s.worst_period];
    fmt::print(stderr,
               "driftrec: warning: {} of {} periods did not converge within {} iterations (largest residual {:.3g} "
               "in period {}, tolerance {:.3g}); raise --max-iterations or --tolerance\n",
               s.not_converged, s.periods, s.label.propagation.max_iterations, worst.residual, worst.period,
               s.label.propagation.tolerance);
  } else if (s.method == "ppr" && !s.counts.converged) {
    fmt::print(stderr,
               "driftrec: warning: personalised PageRank did not converge within {} iterations for every user "
               "(largest L1 residual {:.3g}, tolerance {:.3g}); raise --max-iterations or --tolerance\n",
               s.walk.max_iterations, s.counts.residual, s.walk.tolerance);
  }
}

}  // namespace

void add_propagate(CLI::App& app) {
  auto* cmd = app.add_subcommand("propagate", "Temporal label propagation or random-walk CF over a store's slices");
  cmd->footer(
      "--method label (default): item labels spread over the user x item graph of every period "
      "(Zhou et al. 2004, bipartite form), on the decayed history G_t = gamma G_(t-1) + W_t, with "
      "mu times the previous period's scores as each user's prior:\n"
      "  F_U <- alpha S F_I + (1 - alpha) mu F_U(t-1),   F_I <- alpha S^T F_U + (1 - alpha) Y_I\n"
      "  saved: interests/NNNN (users x labels, row-normalised), item_labels/NNNN (items x labels),\n"
      "         iterations, residual, converged (per period).\n"
      "--method p3alpha | rp3beta: item-item similarity from user-item-user-item walks on G of the "
      "last period (Cooper et al. 2014; Paudel et al. 2017), top --neighbours per item, and the "
      "top --top items per user.\n"
      "--method ppr: personalised PageRank from each user's items on G of the last period; top --top "
      "items per user.\n\nExamples:\n"
      "  driftrec propagate ml.h5                       # label propagation into /results/label\n"
      "  driftrec propagate ml.h5 --alpha 0.9 --keep last:3 --json\n"
      "  driftrec propagate ml.h5 --method rp3beta --beta 0.5 --top 20");
  struct Args {
    pipeline::PropagateRequest request;
    bool json = false;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  auto& t = q.label;
  cmd->add_option("store", q.store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--method", q.method, "label | p3alpha | rp3beta | ppr")->default_val("label");
  cmd->add_option("--name", q.name, "Result name under /results (default: the method)");
  cmd->add_option("--alpha", t.propagation.alpha,
                  "label: weight of the neighbours against the seed, in [0, 1); p3alpha/rp3beta: the exponent of "
                  "the transition probabilities")
      ->default_str("0.85 (label), 1 (p3alpha, rp3beta)");
  cmd->add_option("--gamma", t.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.5);
  cmd->add_option("--mu", t.mu, "label: memory of the previous period's interests, in [0, 1]")->default_val(0.5);
  add_label_stop_options(*cmd, t.propagation);
  cmd->add_flag_function(
      "--low-memory,!--no-low-memory",
      [&mode = t.propagation.low_memory](std::int64_t n) {
        mode = n > 0 ? propagation::LowMemory::on : propagation::LowMemory::off;
      },
      "label: keep W without its transpose (about half the graph's memory, iterations 1.2-1.5x slower, same "
      "results); --no-low-memory keeps W^T. Default: W^T unless W and W^T would not fit in the memory "
      "available (MemAvailable, or the cgroup's limit), then W alone, said on stderr");
  add_reorder_option(*cmd, t.propagation.reorder);
  cmd->add_option("--keep", q.keep, "label: periods whose results are saved: all | last:N")->default_val("all");
  add_walk_options(*cmd, q.walk);
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  add_threads_option(*cmd, a->common);
  add_device_option(*cmd, q.device);
  add_quiet_option(*cmd, a->common);
  cmd->callback([a, cmd] {
    a->common.apply();
    auto& q = a->request;
    // --gamma, --tolerance and --max-iterations serve both kinds of method; --alpha means
    // something else for the walks, whose default is 1.
    q.walk.gamma = q.label.gamma;
    q.walk.tolerance = q.label.propagation.tolerance;
    q.walk.max_iterations = q.label.propagation.max_iterations;
    if (cmd->count("--alpha") > 0) q.walk.alpha = q.label.propagation.alpha;
    q.threads = a->common.threads;
    q.progress = make_progress(a->common);
    const pipeline::PropagateSummary s = pipeline::propagate_store(q);
    end_progress();
    warn_not_converged(s);
    if (a->json)
      fmt::print("{}\n", s.to_json().dump(2));
    else
      print_summary(s);
  });
}

}  // namespace driftrec::cli
