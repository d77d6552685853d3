// Top-K items for many queries at once: the one scoring kernel behind recommend,
// similar_items, `driftrec export`, the Python ALS.recommend and the export bench.
//
// Scores are q . y_i. The item factors are packed once into panels of 16 items (f x 16
// floats each, zero-padded), and a block of queries is scored panel by panel in
// L2-sized tiles by an 8-query x 16-item register-blocked kernel (GCC vector
// extensions, compiled for AVX-512, AVX2 and baseline x86-64 and picked when the library
// loads, as the BLAS behind implicit picks its kernels). Each query keeps a heap of its k
// best; a panel is looked at item by item only where one of its 16 scores beats the
// query's current k-th best, so selecting costs little next to scoring.
//
// The result is the exact top k under one order: higher score first, ties toward the
// lower item id. Each score is summed over the factors in a fixed order, so the output is
// the same for any thread count and any blocking (on one kind of CPU: fused multiply-add
// may change the last bits between AVX-512, AVX2 and baseline builds).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/csr.hpp"
#include "graph/types.hpp"

namespace driftrec::matrix_factorization {

// The items a query may not get. Query r's own list is row rows[r] of `seen` (rows
// empty: row r), any values, sorted as a CSR row is; `blocked` (empty: none) has one
// flag per item (by item id, not packed position), non-zero: never ranked.
struct Exclusions {
  const graph::CsrMatrix* seen = nullptr;  // null: no per-query list
  std::span<const graph::Index> rows;
  std::span<const std::uint8_t> blocked;

  std::span<const graph::Index> of(std::int64_t r) const;
};

// Item factors (n x f, row-major) transposed into panels of 16 items. With `candidates`
// (strictly increasing item ids), only those items are packed and ranked.
class PackedItems {
 public:
  PackedItems() = default;
  PackedItems(const float* items, graph::Index n, int f, std::span<const graph::Index> candidates = {});
  int factors() const { return f_; }
  graph::Index size() const { return n_; }  // items ranked
  graph::Index item_id(graph::Index packed) const {
    return ids_.empty() ? packed : ids_[static_cast<std::size_t>(packed)];
  }
  const float* panel(std::int64_t p) const { return data_.data() + p * std::int64_t{16} * f_; }
  std::int64_t panels() const { return (n_ + 15) / 16; }

 private:
  int f_ = 0;
  graph::Index n_ = 0;
  std::vector<graph::Index> ids_;  // packed position -> item id; empty: the identity
  std::vector<float> data_;        // panels() x f x 16
};

// For query rows r in [0, rows) of `queries` (rows x f, row-major, f = items.factors()),
// the k best items: out_items[r * k + j], out_scores[r * k + j] for rank j, best first;
// item -1 and score -inf where fewer than k items are left. threads: 0 for OpenMP's
// default. k >= 0 (0: nothing written). Expert tier: shapes are not re-checked.
void top_k_dot(const float* queries, std::int64_t rows, const PackedItems& items, const Exclusions& exclude, int k,
               graph::Index* out_items, float* out_scores, int threads = 0);

// The same selection over given scores (one per item id, n items) for one query, whose
// excluded items are `excluded` (sorted) and `blocked`: for models whose score is not a
// dot product (the sequence model's hybrid).
void top_k_scores(std::span<const float> scores, std::span<const graph::Index> excluded,
                  std::span<const std::uint8_t> blocked, int k, graph::Index* out_items, float* out_scores);

}  // namespace driftrec::matrix_factorization
