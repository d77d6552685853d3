// The options of the random-walk methods of `driftrec propagate` (p3alpha, rp3beta, ppr),
// shared by pipeline/propagate.cpp and driftrec-mpi (mpi/walk_job.cpp): the request's
// fields, their translation into the library's options, and their check. No HDF5 here:
// driftrec-mpi compiles it against the parallel build as it does pipeline/common.cpp.
#pragma once
#include <string>

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

}  // namespace driftrec::pipeline
