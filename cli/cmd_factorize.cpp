// driftrec factorize: temporal implicit ALS over a store's slices, factors saved under
// /results/<name>/ (user factors of every period by default, item factors of the last).
#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/factors.hpp"
#include "io/text.hpp"
#include "io/results.hpp"
#include "matrix_factorization/temporal_als.hpp"

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
    std::string store, name = "als", keep_users = "all", keep_items = "last:1", solver = "cg";
    mf::TemporalAlsOptions t;
    bool verbose = false, json = false;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("store", a->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--name", a->name, "Result name under /results")->default_val("als");
  cmd->add_option("--factors", a->t.als.factors, "Factors per user and item")->default_val(64);
  cmd->add_option("--regularization", a->t.als.regularization, "lambda")->default_val(0.01);
  cmd->add_option("--alpha", a->t.als.alpha, "Confidence c = 1 + alpha * value")->default_val(1.0);
  cmd->add_option("--iterations", a->t.als.iterations, "Sweeps per period")->default_val(15);
  cmd->add_option("--cg-steps", a->t.als.cg_steps, "Conjugate-gradient steps per row solve")->default_val(3);
  cmd->add_option("--solver", a->solver, "cg | cholesky (exact, slow; the reference)")->default_val("cg");
  cmd->add_option("--eta", a->t.eta, "Drift penalty tying x_u(t) to x_u(t-1); 0: none")->default_val(0.0);
  cmd->add_option("--gamma", a->t.gamma, "History decay in [0, 1]; 0: each period alone")->default_val(0.0);
  cmd->add_option("--keep-users", a->keep_users, "User factors to keep: all | last:N")->default_val("all");
  cmd->add_option("--keep-items", a->keep_items, "Item factors to keep: all | last:N")->default_val("last:1");
  cmd->add_option("--seed", a->t.als.seed, "Seed of the initial factors")->default_val(0);
  cmd->add_flag("--verbose", a->verbose, "Print the objective after every sweep (costs one extra pass)");
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  add_threads_option(*cmd, a->common);
  cmd->callback([a] {
    a->common.apply();
    io::check_result_name(a->name);
    if (a->solver != "cg" && a->solver != "cholesky")
      throw InputError(fmt::format("--solver: expected cg or cholesky, found '{}'", a->solver));
    a->t.als.solver = a->solver == "cg" ? mf::Solver::cg : mf::Solver::cholesky;
    a->t.als.threads = a->common.threads;
    a->t.compute_loss = a->verbose;
    a->t.validate();

    io::Store store = io::Store::open(a->store);
    const std::size_t n = store.n_slices();
    if (n == 0) throw InputError(fmt::format("{}: the store has no slices", a->store));
    const std::size_t first_user = first_kept_period(a->keep_users, n, "--keep-users");
    const std::size_t first_item = first_kept_period(a->keep_items, n, "--keep-items");
    std::vector<graph::CsrMatrix> slices;
    for (std::size_t k = 0; k < n; ++k) slices.push_back(store.slice(k));
    const std::string slicing = store.slicing();

    io::StoreWriter writer(a->store, io::StoreWriter::Amend{});
    io::h5::Handle g = io::create_result(writer, a->name);
    io::h5::Handle users_group = io::h5::create_group(g, "user_factors");
    io::h5::Handle items_group = io::h5::create_group(g, "item_factors");
    auto progress = make_progress();
    nlohmann::json periods = nlohmann::json::array();
    const auto t0 = std::chrono::steady_clock::now();
    double last_loss = std::numeric_limits<double>::quiet_NaN();
    mf::fit_temporal_als(
        slices, a->t,
        [&](std::size_t period, const mf::IterationReport& r) {
          if (a->verbose) {
            end_progress();
            fmt::print(stderr, "period {:4d}  sweep {:3d}  loss {:.6g}  {:.3f} s\n", period, r.iteration, r.loss, r.seconds);
            last_loss = r.loss;
          }
        },
        [&](std::size_t period, const mf::AlsModel& m) {
          if (period >= first_user) write_factors(users_group, period, m.user);
          if (period >= first_item) write_factors(items_group, period, m.item);
          periods.push_back({{"period", period}, {"users_saved", period >= first_user}, {"items_saved", period >= first_item}});
          if (progress) progress("factorize", period + 1, n);
        });
    end_progress();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    io::h5::write_attr(g, "kind", std::string("temporal_als"));
    io::h5::write_attr(g, "slicing", slicing);
    io::h5::write_attr(g, "factors", static_cast<std::int64_t>(a->t.als.factors));
    io::h5::write_attr(g, "regularization", static_cast<double>(a->t.als.regularization));
    io::h5::write_attr(g, "alpha", static_cast<double>(a->t.als.alpha));
    io::h5::write_attr(g, "iterations", static_cast<std::int64_t>(a->t.als.iterations));
    io::h5::write_attr(g, "cg_steps", static_cast<std::int64_t>(a->t.als.cg_steps));
    io::h5::write_attr(g, "solver", a->solver);
    io::h5::write_attr(g, "eta", static_cast<double>(a->t.eta));
    io::h5::write_attr(g, "gamma", static_cast<double>(a->t.gamma));
    io::h5::write_attr(g, "seed", static_cast<std::int64_t>(a->t.als.seed));
    io::h5::write_attr(g, "periods", static_cast<std::int64_t>(n));
    users_group.reset();
    items_group.reset();
    g.reset();
    writer.commit();
    if (a->json) {
      fmt::print("{}\n", nlohmann::json{{"store", a->store}, {"result", a->name}, {"periods", n},
                                         {"seconds", seconds}, {"final_loss", a->verbose ? nlohmann::json(last_loss) : nlohmann::json(nullptr)},
                                         {"saved", periods}}
                             .dump(2));
    } else {
      fmt::print("{}: /results/{}: temporal ALS over {} periods ({} factors, eta {}, gamma {}) in {:.2f} s; "
                 "user factors kept for {} periods, item factors for {}\n",
                 a->store, a->name, n, a->t.als.factors, a->t.eta, a->t.gamma, seconds, n - first_user, n - first_item);
    }
  });
}

}  // namespace driftrec::cli
