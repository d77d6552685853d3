// The random-walk options of `driftrec propagate` (pipeline/walk_options.hpp).
#include "pipeline/walk_options.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::pipeline {
namespace pr = propagation;

bool is_walk_method(const std::string& method) {
  return method == "p3alpha" || method == "rp3beta" || method == "ppr";
}

pr::WalkSimilarityOptions similarity_options(const std::string& method, const WalkOptions& w, int threads) {
  pr::WalkSimilarityOptions o;
  o.alpha = w.alpha;
  o.beta = method == "rp3beta" ? w.beta : 0.0f;
  o.k = w.neighbours;
  o.threads = threads;
  return o;
}

pr::PageRankOptions pagerank_options(const WalkOptions& w, int threads) {
  pr::PageRankOptions o;
  o.restart_probability = w.restart;
  o.tolerance = w.tolerance;
  o.max_iterations = w.max_iterations;
  o.threads = threads;
  return o;
}

pr::RecommendOptions top_options(const WalkOptions& w, int threads) {
  pr::RecommendOptions r;
  r.k = w.top;
  r.threads = threads;
  return r;
}

void validate_walk(const std::string& method, const WalkOptions& w) {
  if (!(w.gamma >= 0 && w.gamma <= 1)) throw InputError(fmt::format("gamma: expected a value in [0, 1], got {}", w.gamma));
  try {
    top_options(w, 0).validate();
    if (method == "ppr") pagerank_options(w, 0).validate();
    else similarity_options(method, w, 0).validate();
  } catch (const InputError& e) {
    // The library names its option (k, alpha...); say which request field that is.
    throw InputError(fmt::format("{} (walk options: top is k of the saved items, neighbours k of the similarity, "
                                 "restart the restart probability)",
                                 e.what()));
  }
}

nlohmann::json walk_json(const std::string& method, const WalkOptions& w, const WalkCounts& n) {
  nlohmann::json j{{"graph_nnz", n.graph_nnz}, {"gamma", w.gamma}, {"top", w.top}};
  if (method == "ppr")
    j.update({{"restart_probability", w.restart}, {"iterations", n.iterations}, {"residual", n.residual},
              {"converged", n.converged}});
  else
    j.update({{"alpha", w.alpha}, {"beta", w.beta}, {"neighbours", w.neighbours},
              {"similarity_nnz", n.similarity_nnz}});
  return j;
}

io::WalkResult walk_result_info(const std::string& method, const WalkOptions& w, const std::string& slicing,
                                std::int64_t periods) {
  io::WalkResult r;
  r.method = method;
  r.slicing = slicing;
  r.periods = periods;
  r.gamma = w.gamma;
  r.top.k = w.top;
  if (method == "ppr") {
    const pr::PageRankOptions o = pagerank_options(w, 0);
    r.restart_probability = o.restart_probability;
    r.tolerance = o.tolerance;
    r.max_iterations = o.max_iterations;
  } else {
    const pr::WalkSimilarityOptions o = similarity_options(method, w, 0);
    r.alpha = o.alpha;
    r.beta = o.beta;
    r.neighbours = o.k;
  }
  return r;
}

void record_pagerank(int iterations, double residual, bool converged, io::WalkResult& r, WalkCounts& counts) {
  r.iterations = counts.iterations = iterations;
  r.residual = counts.residual = residual;
  r.converged = counts.converged = converged;
}

}  // namespace driftrec::pipeline
