// driftrec propagate: temporal label propagation over a store's slices (and, with
// --method p3alpha|rp3beta|ppr, random-walk CF; cmd_propagate_walk.cpp), results saved
// under /results/<name>/ with every parameter as an attribute.
//
// Label results: interests/NNNN (users x labels, each row the user's interest
// distribution F_U(t), all-zero for a user with no labelled neighbourhood) and
// item_labels/NNNN (items x labels, raw soft labels F_I(t)) for the periods kept, plus
// iterations, residual and converged (one entry per period, every period).
#include <chrono>
#include <cstdint>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/propagate_walk.hpp"
#include "io/results.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::cli {
namespace pr = propagation;

namespace {

void write_dense(hid_t group, std::size_t period, const pr::DenseMatrix& m) {
  io::write_matrix(group, fmt::format("{:04d}", period), m.data(), static_cast<std::uint64_t>(m.rows()),
                   static_cast<std::uint64_t>(m.cols()));
}

struct LabelArgs {
  pr::TemporalOptions t;
  std::string keep = "all";
};

// Runs temporal label propagation and writes it into `g`; returns the JSON summary.
nlohmann::json run_label(const io::Store& store, hid_t g, const LabelArgs& a,
                         int threads) {
  const std::size_t n = store.n_slices();
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels; ingest with --labels to propagate them",
                                        store.path()));
  const std::size_t first = first_kept_period(a.keep, n, "--keep");
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t k = 0; k < n; ++k) slices.push_back(store.slice(k));
  const graph::CsrMatrix labels = store.item_labels();

  io::h5::Handle users_group = io::h5::create_group(g, "interests");
  io::h5::Handle items_group = io::h5::create_group(g, "item_labels");
  std::vector<std::int64_t> iterations(n);
  std::vector<double> residual(n);
  std::vector<std::int32_t> converged(n);
  nlohmann::json periods = nlohmann::json::array();
  auto progress = make_progress();
  pr::TemporalOptions options = a.t;
  options.propagation.threads = threads;
  pr::propagate_temporal_streaming(
      slices, labels, options,
      [&](std::size_t t, pr::PeriodResult& r) {
        if (t >= first) {
          write_dense(users_group, t, r.interests);
          write_dense(items_group, t, r.item_labels);
        }
        iterations[t] = r.iterations;
        residual[t] = r.residual;
        converged[t] = r.converged ? 1 : 0;
        periods.push_back({{"period", t},
                           {"begin", store.periods().begin[t]},
                           {"iterations", r.iterations},
                           {"residual", r.residual},
                           {"converged", r.converged},
                           {"saved", t >= first}});
      },
      [&](const pr::IterationProgress& p) {
        if (progress) progress("propagate", p.period, n);
      });
  end_progress();
  io::h5::write_array<std::int64_t>(g, "iterations", iterations);
  io::h5::write_array<double>(g, "residual", residual);
  io::h5::write_array<std::int32_t>(g, "converged", converged);
  io::h5::write_attr(g, "alpha", static_cast<double>(a.t.propagation.alpha));
  io::h5::write_attr(g, "gamma", static_cast<double>(a.t.gamma));
  io::h5::write_attr(g, "mu", static_cast<double>(a.t.mu));
  io::h5::write_attr(g, "tolerance", a.t.propagation.tolerance);
  io::h5::write_attr(g, "max_iterations", static_cast<std::int64_t>(a.t.propagation.max_iterations));
  io::h5::write_attr(g, "keep", a.keep);

  std::size_t failed = 0, worst = 0;
  for (std::size_t t = 0; t < n; ++t) {
    if (!converged[t]) ++failed;
    if (residual[t] > residual[worst]) worst = t;
  }
  if (failed > 0)
    fmt::print(stderr,
               "driftrec: warning: {} of {} periods did not converge within {} iterations (largest residual {:.3g} "
               "in period {}, tolerance {:.3g}); raise --max-iterations or --tolerance\n",
               failed, n, a.t.propagation.max_iterations, residual[worst], worst, a.t.propagation.tolerance);
  return {{"periods", periods}, {"not_converged", failed}};
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
    std::string store, method = "label", name;
    LabelArgs label;
    WalkArgs walk;
    bool json = false;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("store", a->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--method", a->method, "label | p3alpha | rp3beta | ppr")->default_val("label");
  cmd->add_option("--name", a->name, "Result name under /results (default: the method)");
  cmd->add_option("--alpha", a->label.t.propagation.alpha,
                  "label: weight of the neighbours against the seed, in [0, 1); p3alpha/rp3beta: the exponent of "
                  "the transition probabilities")
      ->default_str("0.85 (label), 1 (p3alpha, rp3beta)");
  cmd->add_option("--gamma", a->label.t.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.5);
  cmd->add_option("--mu", a->label.t.mu, "label: memory of the previous period's interests, in [0, 1]")
      ->default_val(0.5);
  cmd->add_option("--tolerance", a->label.t.propagation.tolerance,
                  "Stop when an iteration changes no score by more than this")
      ->default_val(1e-6);
  cmd->add_option("--max-iterations", a->label.t.propagation.max_iterations, "Iterations per period at most")
      ->default_val(100);
  cmd->add_option("--keep", a->label.keep, "label: periods whose results are saved: all | last:N")->default_val("all");
  add_walk_options(*cmd, a->walk);
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  add_threads_option(*cmd, a->common);
  cmd->callback([a, cmd] {
    a->common.apply();
    if (a->name.empty()) a->name = a->method;
    io::check_result_name(a->name);
    const bool label = a->method == "label";
    if (!label && !is_walk_method(a->method))
      throw InputError(fmt::format("--method: expected label, p3alpha, rp3beta or ppr, found '{}'", a->method));
    if (label) {
      a->label.t.validate();
    } else {
      a->walk.gamma = a->label.t.gamma;
      a->walk.tolerance = a->label.t.propagation.tolerance;
      a->walk.max_iterations = a->label.t.propagation.max_iterations;
      if (cmd->count("--alpha") > 0) a->walk.alpha = a->label.t.propagation.alpha;
      validate_walk(a->method, a->walk);
    }

    io::Store store = io::Store::open(a->store);
    if (store.n_slices() == 0) throw InputError(fmt::format("{}: the store has no slices", a->store));
    const std::string slicing = store.slicing();
    io::StoreWriter writer(a->store, io::StoreWriter::Amend{});
    io::h5::Handle g = io::create_result(writer, a->name);
    const auto t0 = std::chrono::steady_clock::now();
    nlohmann::json summary = label ? run_label(store, g, a->label, a->common.threads)
                                   : run_walk(store, g, a->method, a->walk, a->common.threads);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    io::h5::write_attr(g, "kind", label ? std::string("label_propagation") : a->method);
    io::h5::write_attr(g, "slicing", slicing);
    io::h5::write_attr(g, "periods", static_cast<std::int64_t>(store.n_slices()));
    g.reset();
    writer.commit();

    summary["store"] = a->store;
    summary["result"] = a->name;
    summary["method"] = a->method;
    summary["seconds"] = seconds;
    if (a->json) {
      fmt::print("{}\n", summary.dump(2));
    } else if (label) {
      std::int64_t total = 0;
      for (const auto& p : summary["periods"]) total += p["iterations"].get<std::int64_t>();
      fmt::print("{}: /results/{}: label propagation over {} periods ({} iterations in all, {} not converged; "
                 "alpha {}, gamma {}, mu {}) in {:.2f} s\n",
                 a->store, a->name, store.n_slices(), total, summary["not_converged"].get<std::size_t>(),
                 a->label.t.propagation.alpha, a->label.t.gamma, a->label.t.mu, seconds);
    } else {
      print_walk_summary(a->store, a->name, a->method, summary, seconds);
    }
  });
}

}  // namespace driftrec::cli
