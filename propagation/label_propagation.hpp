// Static label propagation on one bipartite user x item graph: Zhou, Bousquet, Lal,
// Weston & Schoelkopf 2004, "Learning with local and global consistency", in its
// bipartite form (docs/math.md, "Temporal label propagation"). With S = D_U^-1/2 W D_I^-1/2
// (D_U, D_I the weighted degrees of W), item seeds Y_I (row-normalised item labels, zero
// rows for unlabelled items) and an optional user seed Y_U, it iterates
//   F_U <- alpha * S   * F_I + (1 - alpha) * Y_U
//   F_I <- alpha * S^T * F_U + (1 - alpha) * Y_I
// from F_U = Y_U, F_I = Y_I (each half-step reading the other's newest values). The fixed
// point is F = (1 - alpha)(I - alpha S_sym)^-1 Y for S_sym = [[0, S], [S^T, 0]] and
// Y = [Y_U; Y_I]; alpha < 1 makes the iteration a contraction (|S| <= 1), so it exists and
// is unique.
//
// Residual: max |F(n) - F(n-1)| over every entry of F_U and F_I in the last iteration
// (the max-abs change). The run stops as converged once it is <= tolerance; after
// max_iterations it stops with converged = false and the residual it reached:
// non-convergence is reported, never passed off as a result.
//
// Two tiers: propagate_labels(W, item_labels, ...) validates and computes what it needs
// (the graph, its degree order, its preparation on the backend); the expert tier takes a
// graph already prepared on a backend (Backend::prepare, backend.hpp) and seeds, runs on
// that backend, and only checks shapes. The backend is options.backend (null: the CPU
// backend with options.threads threads).
//
// Degree order (LabelPropagationOptions::reorder): the easy tier and the temporal runs
// may build the graph relabelled by decreasing degree (propagation/reorder.hpp),
// permute the seeds in and map F_U, F_I back, so callers always see the original ids.
// The gathers then touch fewer distinct cache lines and pages; results equal the
// unordered ones up to float rounding (each row sums in another order). The relabelling
// costs one sort of every row plus the seeds' and results' permutations. Measured with
// bench/propagation/propagation_bench --full-path (2-core shared machine, load 1.1-1.3,
// k = 20, R-MAT with scrambled ids, propagate_labels end to end, per iteration and setup
// separated by timing 1 and 10 iterations; results/2026-11-28-reorder.json):
//      nnz     threads  off ms/it  on ms/it  extra setup  break-even
//      77 k       1        0.48      0.46       2.2 ms    113 iterations (all in L3)
//      77 k       2        0.28      0.29       1.4 ms    never
//     846 k       1        6.5       5.6         29 ms     34 iterations
//     846 k       2        2.9       3.1         15 ms    never
//     3.6 M       1       41.4      27.8        139 ms     10 iterations
//     3.6 M       2       20.5      15.6         76 ms     16 iterations
//    15.5 M       1        277       155        763 ms      6 iterations
//    15.5 M       2        145        89        428 ms      8 iterations
// A run to the default tolerance usually takes tens of iterations, so Reorder::automatic orders a
// graph from kReorderMinNonzeros (2^21, about 2.1 M) stored entries on.
#pragma once
#include "core/error.hpp"  // InputError, NumericalError
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"

namespace driftrec::propagation {

// Whether the easy tier and the temporal runs relabel the graph by degree (see above).
enum class Reorder { automatic, on, off };

// Whether they keep W without W^T (LabelPropagationOptions::low_memory).
enum class LowMemory { automatic, on, off };

struct LabelPropagationOptions {
  // Reorder::automatic orders graphs with at least this many stored entries.
  static constexpr graph::Offset kReorderMinNonzeros = graph::Offset{1} << 21;

  float alpha = 0.85f;        // weight of the neighbours against the seed, in [0, 1)
  double tolerance = 1e-6;    // stop when the max-abs change of an iteration is <= this, >= 0
  int max_iterations = 100;   // full iterations (both half-steps), >= 1
  int threads = 0;            // host threads (relabelling, the default backend), >= 0;
                              // 0: OpenMP's default
  Reorder reorder = Reorder::automatic;  // degree order in the easy and temporal tiers
  // Where the products run; borrowed, must outlive the call. Null: a CPU backend with
  // `threads` threads, made per call.
  const Backend* backend = nullptr;
  // Whether to keep only W (no stored W^T: 8.9 instead of 17 bytes per edge for the
  // graph's arrays), each iteration then one pass over W that gathers the users and
  // scatters the items (cpu/spmm.hpp fused_iteration; results bit for bit those of the two
  // half-steps over W and W^T). `off` keeps W^T: on 2 cores the one pass took 1.2-1.5x the
  // time of the two half-steps (bench/propagation/README.md, "W^T by default again"). `automatic` keeps W^T unless
  // the estimated footprint with it (estimate_footprint) exceeds the memory available now
  // (core::available_memory: MemAvailable, capped by a cgroup limit), and says so on stderr.
  LowMemory low_memory = LowMemory::automatic;
  // Bytes the automatic choice may count on; 0: core::available_memory() at the call.
  std::uint64_t memory_budget = 0;

  // Whether a graph with `nnz` stored entries is run in degree order.
  bool reorders(graph::Offset nnz) const {
    return reorder == Reorder::on || (reorder == Reorder::automatic && nnz >= kReorderMinNonzeros);
  }

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

struct PropagationResult {
  DenseMatrix user_labels;  // F_U, users x labels: raw scores (not normalised)
  DenseMatrix item_labels;  // F_I, items x labels: soft labels of every item
  int iterations = 0;       // full iterations run
  double residual = 0;      // max-abs change of F_U, F_I in the last iteration
  bool converged = false;   // residual <= tolerance
};

struct IterationProgress {
  std::size_t period = 0;  // 0 for a static run
  int iteration = 0;       // 1-based
  double residual = 0;
};
using ProgressCallback = std::function<void(const IterationProgress&)>;

// Bytes the easy tier allocates beyond the caller's arrays for a users x items graph of
// nnz entries and `labels` labels, with and without W^T: the graph's copy (8 bytes per
// entry, 8 per row offset, the float degree scales and the build's double degrees), W^T
// (8 per entry, 8 per item) and the CPU backend's tiles that replace W and then W^T (at
// most 12 per entry each; the peak is W, W^T and W's tiles, or W^T and both), Y_I, F_U, F_I, the permuted seeds and the mapping back when
// reordered, and the one pass's items x labels accumulators: meant as an upper bound of
// the growth of the resident memory (propagation_bench --end-to-end reports the ratio).
struct Footprint {
  double with_transpose = 0;
  double low_memory = 0;
};
Footprint estimate_footprint(graph::Index users, graph::Index items, graph::Offset nnz, graph::Index labels,
                             bool user_prior, bool reordered);

// Whether to run without W^T: `on`/`off` as asked; `automatic` when f.with_transpose exceeds
// `available` bytes (0: unknown, then W^T is kept).
bool runs_low_memory(LowMemory mode, const Footprint& f, std::uint64_t available);

// The decision of the easy and temporal tiers, with options.memory_budget or else the
// memory available now; when `automatic` chose the one pass and `announce` is set, one
// line on stderr says why (what names the graph). Returns the graph storage to build.
Transpose choose_transpose(const LabelPropagationOptions& options, const Footprint& f, const char* what,
                           bool announce = true);

// Y_I: each row of item_labels (items x labels, non-negative weights) divided by its sum;
// rows that sum to 0 (unlabelled items) stay zero. Throws InputError on a broken
// matrix or a negative or non-finite weight.
DenseMatrix item_seed_labels(const graph::CsrMatrix& item_labels);

// Each row divided by its sum (in double); rows whose sum is not positive stay as they
// are, so a user with no propagated mass keeps an all-zero row (no interests) rather
// than a made-up uniform distribution.
DenseMatrix row_normalized(const DenseMatrix& f);

// Easy tier. W: users x items, finite non-negative weights. item_labels: items x labels.
// user_prior: Y_U (users x labels, finite) or nullptr for none. Copies W once into the
// prepared graph, with W^T beside it or not (options.low_memory). With W^T the CPU backend
// then replaces W and W^T by their tiles from 2^23 entries (CpuBackend::Tiling), so the
// graph holds about 13 bytes per edge while it propagates (6.2-7.0 for each tiling, the
// degrees), 17 below that;
// without W^T, 8 bytes per edge plus the row offsets and degrees (use the expert tier with a
// moved-in graph to avoid the copy). Throws
// InputError naming the argument or option. With options.reorders(nnz) the graph
// is built in degree order (W relabelled straight from the caller's matrix, so still one
// copy of W besides the caller's) and the results mapped back to the original ids.
PropagationResult propagate_labels(const graph::CsrMatrix& w, const graph::CsrMatrix& item_labels,
                                   const DenseMatrix* user_prior,
                                   const LabelPropagationOptions& options,
                                   const ProgressCallback& progress = {});

// The seeds of the expert tier, borrowed: Y_U = user_scale * users (users.data == nullptr:
// zero) and Y_I = items (items x labels; its column count is the number of labels).
struct Seeds {
  ConstDenseView users;
  float user_scale = 1;
  ConstDenseView items;
  // Optional warm start F(0) (data == nullptr: start from the seeds). The fixed point does
  // not depend on it; a start near it (the previous period's F) saves iterations.
  ConstDenseView start_users;  // users x labels
  ConstDenseView start_items;  // items x labels
};

// Expert tier: the graph is prepared, the seeds are finite. Runs on the backend that
// prepared g (g.backend()); InputError if options.backend names another one. Checks
// options and shapes only; options.threads and options.reorder are ignored (the backend
// has its own threads; the graph is used in whatever order it was prepared). `period` is
// passed to the progress callback.
PropagationResult propagate_labels(const PreparedGraph& g, const Seeds& seeds,
                                   const LabelPropagationOptions& options,
                                   const ProgressCallback& progress = {}, std::size_t period = 0);

}  // namespace driftrec::propagation
