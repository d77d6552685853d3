#include "cli/propagate_walk.hpp"

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "graph/decay.hpp"
#include "io/results.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::cli {
namespace pr = propagation;

bool is_walk_method(const std::string& method) {
  return method == "p3alpha" || method == "rp3beta" || method == "ppr";
}

void add_walk_options(CLI::App& cmd, WalkArgs& a) {
  cmd.add_option("--beta", a.beta, "rp3beta: divide by item popularity^beta")->default_val(0.5);
  cmd.add_option("--neighbours", a.neighbours, "p3alpha/rp3beta: similar items kept per item")->default_val(100);
  cmd.add_option("--top", a.top, "p3alpha/rp3beta/ppr: items saved per user")->default_val(20);
  cmd.add_option("--restart", a.restart, "ppr: restart probability (the damping is 1 - restart)")->default_val(0.15);
}

namespace {

pr::WalkSimilarityOptions similarity_options(const std::string& method, const WalkArgs& a, int threads) {
  pr::WalkSimilarityOptions o;
  o.alpha = a.alpha;
  o.beta = method == "rp3beta" ? a.beta : 0.0f;
  o.k = a.neighbours;
  o.threads = threads;
  return o;
}

pr::PageRankOptions pagerank_options(const WalkArgs& a, int threads) {
  pr::PageRankOptions o;
  o.restart_probability = a.restart;
  o.tolerance = a.tolerance;
  o.max_iterations = a.max_iterations;
  o.threads = threads;
  return o;
}

void write_top(hid_t g, const pr::TopItems& top) {
  io::write_matrix(g, "top_items", top.items.data(), static_cast<std::uint64_t>(top.users),
                   static_cast<std::uint64_t>(top.k));
  io::write_matrix(g, "top_scores", top.scores.data(), static_cast<std::uint64_t>(top.users),
                   static_cast<std::uint64_t>(top.k));
}

}  // namespace

void validate_walk(const std::string& method, const WalkArgs& a) {
  if (!(a.gamma >= 0 && a.gamma <= 1))
    throw InputError(fmt::format("--gamma: expected a value in [0, 1], got {}", a.gamma));
  pr::RecommendOptions r;
  r.k = a.top;
  try {
    r.validate();
    if (method == "ppr") pagerank_options(a, 0).validate();
    else similarity_options(method, a, 0).validate();
  } catch (const InputError& e) {
    // The library names its option (k, alpha...); say which flag that is.
    throw InputError(fmt::format("{} (flags: --top is k of the saved items, --neighbours k of the "
                                        "similarity, --restart the restart probability)",
                                        e.what()));
  }
}

nlohmann::json run_walk(const io::Store& store, hid_t g, const std::string& method, const WalkArgs& a,
                        int threads) {
  // G = decayed history up to the last period.
  graph::CsrMatrix history;
  const std::size_t n = store.n_slices();
  auto progress = make_progress();
  for (std::size_t t = 0; t < n; ++t) {
    history = t == 0 ? store.slice(0) : graph::decay_step(history, store.slice(t), a.gamma);
    if (progress) progress("history", t + 1, n);
  }
  const pr::BipartiteGraph graph = pr::make_bipartite_graph(std::move(history), "decayed history");
  pr::RecommendOptions r;
  r.k = a.top;
  r.threads = threads;
  nlohmann::json summary{{"graph_nnz", graph.nnz()}, {"gamma", a.gamma}, {"top", a.top}};
  io::h5::write_attr(g, "gamma", static_cast<double>(a.gamma));
  io::h5::write_attr(g, "top", static_cast<std::int64_t>(a.top));
  if (method == "ppr") {
    const pr::PageRankOptions o = pagerank_options(a, threads);
    const pr::PageRankTopItems p = pr::pagerank_top_items(graph, o, r, [&](graph::Index done, graph::Index all) {
      if (progress) progress("pagerank", static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(all));
    });
    end_progress();
    write_top(g, p.top);
    io::h5::write_attr(g, "restart_probability", static_cast<double>(a.restart));
    io::h5::write_attr(g, "tolerance", a.tolerance);
    io::h5::write_attr(g, "max_iterations", static_cast<std::int64_t>(a.max_iterations));
    io::h5::write_attr(g, "iterations", static_cast<std::int64_t>(p.iterations));
    io::h5::write_attr(g, "residual", p.residual);
    io::h5::write_attr(g, "converged", static_cast<std::int64_t>(p.converged));
    summary.update({{"restart_probability", a.restart}, {"iterations", p.iterations}, {"residual", p.residual},
                    {"converged", p.converged}});
    if (!p.converged)
      fmt::print(stderr,
                 "driftrec: warning: personalised PageRank did not converge within {} iterations for every user "
                 "(largest L1 residual {:.3g}, tolerance {:.3g}); raise --max-iterations or --tolerance\n",
                 a.max_iterations, p.residual, a.tolerance);
    return summary;
  }
  end_progress();
  const pr::WalkSimilarityOptions o = similarity_options(method, a, threads);
  const graph::CsrMatrix s = pr::walk_similarity(graph, o);
  const pr::TopItems top = pr::recommend_all(graph.user_items, s, r);
  io::write_csr_group(g, "similarity", s);
  write_top(g, top);
  io::h5::write_attr(g, "alpha", static_cast<double>(o.alpha));
  io::h5::write_attr(g, "beta", static_cast<double>(o.beta));
  io::h5::write_attr(g, "neighbours", static_cast<std::int64_t>(o.k));
  summary.update({{"alpha", o.alpha}, {"beta", o.beta}, {"neighbours", o.k}, {"similarity_nnz", s.nnz()}});
  return summary;
}

void print_walk_summary(const std::string& store, const std::string& name, const std::string& method,
                        const nlohmann::json& s, double seconds) {
  if (method == "ppr")
    fmt::print("{}: /results/{}: personalised PageRank (restart {}) on the decayed history ({} edges); top {} items "
               "per user; {} iterations at most, {} in {:.2f} s\n",
               store, name, s["restart_probability"].get<double>(), s["graph_nnz"].get<std::int64_t>(),
               s["top"].get<int>(), s["iterations"].get<int>(),
               s["converged"].get<bool>() ? "converged" : "NOT converged", seconds);
  else
    fmt::print("{}: /results/{}: {} item-item similarity (alpha {}, beta {}, {} neighbours, {} entries) on the decayed "
               "history ({} edges); top {} items per user, in {:.2f} s\n",
               store, name, method, s["alpha"].get<double>(), s["beta"].get<double>(), s["neighbours"].get<int>(),
               s["similarity_nnz"].get<std::int64_t>(), s["graph_nnz"].get<std::int64_t>(), s["top"].get<int>(),
               seconds);
}

}  // namespace driftrec::cli
