// The options of the random-walk methods of `driftrec propagate` (p3alpha, rp3beta, ppr),
// shared by pipeline/propagate.cpp and driftrec-mpi (mpi/walk_job.cpp): the request's
// fields, their translation into the library's options, their check, the name errors give
// the walks' graph, the walk's part of the summary JSON and its result's attributes. No
// HDF5 here: driftrec-mpi compiles it against the parallel build as it does
// pipeline/common.cpp.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "io/walk_result.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::pipeline {

// The parameters of the random-walk methods.
struct WalkOptions {
  float alpha = 1;          // p3alpha, rp3beta: exponent on the transition probabilities
  float beta = 0.5f;        // rp3beta: popularity penalty
  int neighbours = 100;     // p3alpha, rp3beta: similarity entries kept per item
  int top = 20;             // items saved per user
  float restart = 0.15f;    // ppr: restart probability
  float gamma = 0.5f;       // history decay of G, in [0, 1]
  double tolerance = 1e-6;  // ppr
  int max_iterations = 100; // ppr
};

bool is_walk_method(const std::string& method);  // p3alpha | rp3beta | ppr

// The library's options for a method (beta 0 for p3alpha).
propagation::WalkSimilarityOptions similarity_options(const std::string& method, const WalkOptions& w, int threads);
propagation::PageRankOptions pagerank_options(const WalkOptions& w, int threads);
propagation::RecommendOptions top_options(const WalkOptions& w, int threads);

// InputError naming the option (and which request field it is) for a bad value.
void validate_walk(const std::string& method, const WalkOptions& w);

// G, the decayed history up to the last period, as the walks' errors name it: the slices
// are finite, but their decayed sums can overflow float, which the walks' check of G's
// values (propagation::check_edge_weights) reports under this name.
inline constexpr const char* kWalkGraphName = "decayed history";

// What a walk run reports, and its part of the summary's JSON (`driftrec propagate --json`
// and `driftrec-mpi propagate --json`): graph_nnz, gamma, top, and restart_probability,
// iterations, residual, converged (ppr) or alpha, beta, neighbours, similarity_nnz.
struct WalkCounts {
  std::int64_t graph_nnz = 0;
  std::int64_t similarity_nnz = 0;  // p3alpha, rp3beta
  int iterations = 0;               // ppr
  double residual = 0;              // ppr
  bool converged = true;            // ppr
};
nlohmann::json walk_json(const std::string& method, const WalkOptions& w, const WalkCounts& counts);

// A walk result's attributes (io/walk_result.hpp) before the run, for `method` with `w`
// on a store of `periods` periods sliced by `slicing`: the options as the library takes
// them (beta 0 for p3alpha), top.k; no rows. record_pagerank adds how a ppr run ended,
// to the attributes and the counts alike.
io::WalkResult walk_result_info(const std::string& method, const WalkOptions& w, const std::string& slicing,
                                std::int64_t periods);
void record_pagerank(int iterations, double residual, bool converged, io::WalkResult& result, WalkCounts& counts);

}  // namespace driftrec::pipeline
