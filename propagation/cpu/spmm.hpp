// CPU/OpenMP sparse x dense kernels for label propagation, behind the CPU backend
// (cpu_backend.hpp) (Zhou et al. 2004, "Learning
// with local and global consistency", on the bipartite user x item graph):
//   y = A x                                                    (spmm)
//   y <- alpha * diag(out_scale) A diag(in_scale) x + seed_coef * seed   (fused_spmm)
// A is CSR float32 (int32 column ids, int64 offsets); x and y are dense row-major with k
// columns. A^T x is a product with a stored transpose (a row-parallel gather) when
// BipartiteGraph holds one, else a scatter from A's rows into column ranges owned by
// threads (below); neither uses atomics.
//
// Parallelism: rows are cut into ranges of equal cost nnz + rows (edge-balanced, since
// R-MAT and real degree distributions are skewed; the +1 per row pays for writing it),
// eight ranges per thread under a dynamic schedule; a product with fewer than
// kMinWorkPerThread (2^17) edges + rows per thread uses fewer threads. Each row is summed
// by one thread in stored order, so results do not depend on the thread count, bit for bit.
//
// The trick that makes it fast: k is a template parameter for the common widths (1, 8,
// 16, 20, 32), so a row's k accumulators live in registers and each x row is read once
// per edge; other k accumulate in a per-thread scratch row. GCC 12 at -O3 compiles this
// fixed-k loop 2.4-4x slower unless -fno-loop-unroll-and-jam (set in CMakeLists.txt).
// The gather of x rows is latency-bound, so the row of the edge 32 places ahead is
// prefetched. The degree normalisation is folded in (one gather of in_scale per edge, one multiply
// per row), and the change max |y_new - y_old| is taken while y is written, so no full
// temporary copy is ever made.
//
// Narrower storage (GatherPrecision::bfloat16, opt-in): the half-step first packs
// in_scale * x into bfloat16 rows padded to a power of two (k = 20: 64 bytes, one cache
// line instead of two float32 lines), then gathers those. Each gathered value carries a
// relative rounding error of at most 2^-9, so every output entry is within
// 2^-8 * alpha * out_r * sum_e |a_e in_c x_c| (+ float32 summation error) of the float32
// result; sums and outputs stay float32, and the result is still the same for any thread
// count. float32 stays the default and the reference.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"

namespace driftrec::propagation::cpu {

// Below this many edges + rows per thread a product uses fewer threads. Forking pays
// little there and a descheduled partner thread costs milliseconds per barrier on a
// loaded machine: temporal propagation over MovieLens's 267 monthly graphs (<= 60k edges
// + rows each) took 7.6 s on 2 threads unloaded but 54 s beside two busy processes at
// 16384; at 2^17 (one thread for those graphs) 7.8 s and 11 s. Results do not depend on it.
inline constexpr graph::Offset kMinWorkPerThread = graph::Offset{1} << 17;

// parts + 1 row boundaries (first 0, last rows, non-decreasing): range p = [b[p], b[p+1])
// costs about (nnz + rows) / parts, counting a row's edges plus one for the row itself.
// indptr may be a range of a matrix's offsets (indptr[0] > 0): bounds are relative to it.
// A single row heavier than that makes its range heavier; it is never split.
std::vector<graph::Index> partition_rows(std::span<const graph::Offset> indptr, int parts);

// y = A x: x is A.n_cols x k, y is A.n_rows x k (overwritten). Shapes are the caller's
// to check.
void spmm(const graph::CsrMatrix& a, ConstDenseView x, DenseView y, int threads);

struct FusedScales {
  std::span<const float> out_scale;  // one per row of A, or empty for all ones
  std::span<const float> in_scale;   // one per column of A, or empty for all ones
  float alpha = 1;                   // multiplies the product
  ConstDenseView seed;               // A.n_rows x k, or data == nullptr for none
  float seed_coef = 0;               // multiplies the seed
};

// y <- alpha * diag(out_scale) A diag(in_scale) x + seed_coef * seed, in place; returns
// max |y_new - y_old| over all entries (NaN if a new value is NaN). Per row the sum is
// taken first, then scaled: y_r = (alpha * out_r) * sum_e (a_e * in_c(e)) x_c(e) + ...
float fused_spmm(const graph::CsrMatrix& a, const FusedScales& scales, ConstDenseView x,
                 DenseView y, int threads);

// fused_spmm on rows [r0, r1) of A only (0 <= r0 <= r1 <= A.n_rows): y's other rows are
// left alone; out_scale, seed and y are indexed by A's row as above. Each row's bits are
// fused_spmm's, so a product taken in row ranges equals the whole product (the max of the
// ranges' changes is its change); mpi/label_propagation.cpp computes the rows that read no
// remote row while the remote rows travel.
float fused_spmm_rows(const graph::CsrMatrix& a, graph::Index r0, graph::Index r1, const FusedScales& scales,
                      ConstDenseView x, DenseView y, int threads);

// Elements between rows of the packed bfloat16 operand: the power of two >= k up to 32,
// then a multiple of 32 (rows never straddle more cache lines than they must).
std::size_t bf16_row_stride(graph::Index k);

// out (x.rows * bf16_row_stride(x.cols) values) <- bfloat16(scale_r * x_r), rounded to
// nearest even, padding zeroed; scale empty means all ones.
void pack_bf16(ConstDenseView x, std::span<const float> scale, std::uint16_t* out, int threads);

// fused_spmm with x gathered as bfloat16 (in_scale folded in before rounding); scratch is
// grown to hold the packed x and may be reused across calls.
float fused_spmm_bf16(const graph::CsrMatrix& a, const FusedScales& scales, ConstDenseView x,
                      DenseView y, int threads, std::vector<std::uint16_t>& scratch);

// ---- One iteration on W alone (no stored transpose) ----
//
// The items half-step F_I <- alpha D_I^-1/2 W^T D_U^-1/2 F_U + ... needs no stored W^T:
// each row r of W scatters (a_e * in_r) F_U[r] into an items x k accumulator. Threads own
// column ranges (partition_columns: equal entries + columns per range), so no two write one
// accumulator row, and each accumulator row receives its terms in increasing r, the order
// the gather over the stored transpose sums them: the same products in the same order, so
// the same bits, for any thread count. A thread scans every row's entries for its columns
// (a binary search for the first); the accumulator (items x k floats, in
// IterationScratch) is the working set of the scatter.
//
// fused_iteration runs both half-steps in one pass over W: rows are taken in blocks of
// about block_cost entries + rows; the threads cut a block's rows among them for the
// users' gather (F_U[r] from the old F_I, exactly fused_spmm's or fused_spmm_bf16's
// arithmetic), meet at a barrier, then scatter the block's new F_U rows into their own
// columns while they gather the next block; at the end each finishes its own columns
// (F_I = alpha * out_i * acc_i + seed, the change, acc_i = 0). W is read once per
// iteration instead of W and W^T once each, and the random reads of F_U rows (users x k)
// become writes to items x k accumulators. Both results equal two fused_spmm calls (W, then
// the stored W^T), bit for bit; with bf16_gather the users' half equals fused_spmm_bf16 and
// the items' half stays float32 (the scatter reads F_U rows in order: nothing to narrow).

// column_bounds of `parts` column ranges of W of about equal entries + columns.
std::vector<graph::Index> partition_columns(const graph::CsrMatrix& w, int parts);

struct BlockedMatrix;  // propagation/cpu/blocked.hpp

struct IterationScratch {
  std::vector<float> acc;            // items x k, zero between calls
  std::vector<std::uint16_t> bf16;   // the packed F_I of a bf16 gather
  graph::Offset block_cost = graph::Offset{1} << 16;  // entries + rows per block
};

struct IterationScales {
  std::span<const float> user_scale;  // D_U^-1/2 (out of the users' half, in of the items')
  std::span<const float> item_scale;  // D_I^-1/2
  float alpha = 1;
  ConstDenseView user_seed;  // or data == nullptr
  float user_seed_coef = 0;
  ConstDenseView item_seed;  // or data == nullptr
  float item_seed_coef = 0;
  bool bf16_gather = false;  // the users' gather reads F_I as bfloat16 (fused_spmm_bf16)
  // A tiled copy of W (make_blocked) for the float32 users' gather, or null: each block of
  // the pass is then one of its chunks, gathered as blocked_fused_spmm does (same bits).
  // Ignored with bf16_gather.
  const BlockedMatrix* blocked = nullptr;
};

// F_U then F_I in place; returns both changes as fused_spmm does. column_bounds: from
// partition_columns(w, any parts) (more ranges than threads are dealt round-robin).
IterationChange fused_iteration(const graph::CsrMatrix& w, std::span<const graph::Index> column_bounds,
                                const IterationScales& scales, DenseView f_users,
                                DenseView f_items, int threads, IterationScratch& scratch);

// fused_spmm with A = W^T, from W's rows by the scatter above (x: W.n_rows x k, y:
// W.n_cols x k). want_change false: returns 0 (a plain product: alpha 1, no scales, no seed).
float fused_spmm_transposed(const graph::CsrMatrix& w, std::span<const graph::Index> column_bounds,
                            const FusedScales& scales, ConstDenseView x, DenseView y, int threads,
                            IterationScratch& scratch, bool want_change = true);

}  // namespace driftrec::propagation::cpu
