// R-MAT / Kronecker bipartite graphs (Chakrabarti, Zhan & Faloutsos 2004, "R-MAT: a
// recursive model for graph mining"; the Graph500 Kronecker generator): a rows x cols =
// 2^row_scale x 2^col_scale user x item matrix whose edges each fall, level by level, into
// one of four quadrants with probabilities a, b, c, d = 1 - a - b - c. The skewed default
// (a = 0.57, b = c = 0.19) gives power-law-like degrees on both sides.
//
// The recursion for a non-square shape: level l (from the most significant bit) draws a
// quadrant while both ids still have bits; once one side's bits are used up, the other
// side's bit is drawn from that side's marginal (a row bit is 1 with probability c + d, a
// column bit with b + d). So every row bit is independently 1 with probability c + d and
// every column bit with probability b + d; the tests check this.
//
// Deterministic for a seed and independent of the thread count: edges are generated in
// fixed blocks, block i from graph::Rng(seed, stream, i), and counted and placed in two
// passes that regenerate the same draws (no edge list is ever stored: peak memory is 4
// bytes per generated edge for the drawn column ids, plus the result's 8 per entry and the
// row offsets). Duplicates are MERGED: an
// entry's value is the number of times its (row, col) was drawn, so nnz <= edges and the
// values sum to edges. With scramble_ids, row and column ids are relabelled by random
// permutations (as Graph500 does), so that an id says nothing about its degree.
#pragma once
#include <cstdint>

#include "graph/csr.hpp"
#include "graph/types.hpp"

namespace driftrec::graph {

struct RmatConfig {
  int row_scale = 20;         // rows = 2^row_scale, 0..30
  int col_scale = 18;         // cols = 2^col_scale, 0..30
  Offset edges = Offset{1} << 24;  // edges drawn (before duplicates are merged), >= 0
  double a = 0.57, b = 0.19, c = 0.19;  // quadrant probabilities; d = 1 - a - b - c
  bool scramble_ids = true;   // relabel rows and columns by seeded random permutations
  std::uint64_t seed = 1;

  // Throws InputError naming the option (--row-scale, --col-scale, --edges, --a/--b/--c).
  void validate() const;
  Index rows() const { return Index{1} << row_scale; }
  Index cols() const { return Index{1} << col_scale; }
};

// The rows x cols matrix of config's edges, duplicates merged (value = multiplicity), with
// `threads` OpenMP threads (0: OpenMP's default). The same for every thread count.
CsrMatrix rmat_matrix(const RmatConfig& config, int threads = 0);

}  // namespace driftrec::graph
