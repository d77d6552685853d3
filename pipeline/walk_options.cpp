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

}  // namespace driftrec::pipeline
