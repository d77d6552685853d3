// CPU/OpenMP kernels of propagation/cpu/spmm.hpp: one row-gather loop, instantiated for
// the common widths k, behind the spmm / fused_spmm entry points (and the CpuBackend of
// cpu_backend.cpp).
#include "propagation/cpu/spmm.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <atomic>
#include <limits>
#include <thread>

#include <omp.h>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "propagation/cpu/blocked.hpp"
#include "propagation/cpu/row_store.hpp"

namespace driftrec::propagation::cpu {
namespace {

using graph::Index;
using graph::Offset;
using detail::Pass;
using detail::note_change;
using detail::store_row;

constexpr int kRangesPerThread = 8;  // dynamic schedule over edge-balanced row ranges
// Edges ahead whose x row is prefetched. The gather of x rows is latency-bound; on the
// 2^20 x 2^18 R-MAT at k = 20 (one thread, this 2-core machine, noisy) prefetching 16 or
// 32 edges ahead took a half-step from about 150-240 ms to 90-190 ms; 16 and 32 were
// within the noise of each other.
constexpr Offset kPrefetchEdges = 32;


// Rows [r0, r1). K > 0 fixes k at compile time (accumulators in registers); K == 0 reads
// k from the pass and keeps its k accumulators and k change maxima in `scratch` (2k floats).
// The change is kept per column, as a select the compiler turns into maxps, and NaN or
// infinity is caught by a probe sum d - d (0 for a finite d), both vectorised (a scalar
// running max with a NaN branch took the users half-step from about 150 to 190 ms).
inline float bf16_to_float(std::uint16_t h) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16);
}

// Round to nearest even; NaN stays NaN (the quiet bit is set so it cannot become inf).
inline std::uint16_t float_to_bf16(float f) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((u >> 16) | 0x40u);
  return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

template <int K, bool kInScale, bool kBf16 = false>
float run_rows(const Pass& p, Index r0, Index r1, float* scratch) {
  const std::size_t k = K > 0 ? static_cast<std::size_t>(K) : static_cast<std::size_t>(p.k);
  float local_acc[K > 0 ? K : 1], local_max[K > 0 ? K : 1];
  float* acc = K > 0 ? local_acc : scratch;
  float* max_change = K > 0 ? local_max : scratch + k;
  for (std::size_t c = 0; c < k; ++c) max_change[c] = 0;
  float probe = 0;
  for (Index r = r0; r < r1; ++r) {
    for (std::size_t c = 0; c < k; ++c) acc[c] = 0;
    const Offset end = p.indptr[r + 1];
    for (Offset e = p.indptr[r]; e < end; ++e) {
      if (e + kPrefetchEdges < p.nnz) {  // a later edge's x row (every line) and in_scale
        const Index j_ahead = p.indices[e + kPrefetchEdges];
        if constexpr (kBf16) {
          const std::uint16_t* ahead = p.xb + static_cast<std::size_t>(j_ahead) * p.ldx;
          for (std::size_t c = 0; c < k; c += 32) __builtin_prefetch(ahead + c);
        } else {
          const float* ahead = p.x + static_cast<std::size_t>(j_ahead) * k;
          for (std::size_t c = 0; c < k; c += 16) __builtin_prefetch(ahead + c);
          __builtin_prefetch(ahead + k - 1);
        }
        if constexpr (kInScale) __builtin_prefetch(p.in_scale + j_ahead);
      }
      const Index j = p.indices[e];
      float w = p.values[e];
      if constexpr (kInScale) w *= p.in_scale[j];
      if constexpr (kBf16) {
        const std::uint16_t* xj = p.xb + static_cast<std::size_t>(j) * p.ldx;
        for (std::size_t c = 0; c < k; ++c) acc[c] += w * bf16_to_float(xj[c]);
      } else {
        const float* xj = p.x + static_cast<std::size_t>(j) * k;
        for (std::size_t c = 0; c < k; ++c) acc[c] += w * xj[c];
      }
    }
    store_row(p, r, k, acc, max_change, probe);
  }
  float change = probe;  // NaN if any change was NaN or infinite, else 0
  for (std::size_t c = 0; c < k; ++c) change = std::max(change, max_change[c]);
  return probe != probe ? std::numeric_limits<float>::quiet_NaN() : change;
}


template <int K, bool kInScale, bool kBf16>
float run_parallel(const Pass& p, const std::vector<Index>& bounds, int threads) {
  const int parts = static_cast<int>(bounds.size()) - 1;
  std::vector<float> change(static_cast<std::size_t>(parts), 0.0f);
  // One scratch row pair per thread for K == 0 (the fixed widths keep theirs in registers).
  core::parallel_for_with_state(
      parts, {threads, core::Schedule::dynamic, 1},
      [&] { return std::vector<float>(K > 0 ? 0 : 2 * static_cast<std::size_t>(p.k)); },
      [&](std::int64_t i, std::vector<float>& scratch) {
        change[i] = run_rows<K, kInScale, kBf16>(p, bounds[i], bounds[i + 1], scratch.data());
      });
  float total = 0;
  for (float c : change) note_change(c, total);
  return total;
}

template <int K>
float run_width(const Pass& p, const std::vector<Index>& bounds, int threads) {
  if (p.xb) return run_parallel<K, false, true>(p, bounds, threads);
  return p.in_scale ? run_parallel<K, true, false>(p, bounds, threads)
                    : run_parallel<K, false, false>(p, bounds, threads);
}

// Rows [r0, r1) of a (all of them by default).
float run(const graph::CsrMatrix& a, const Pass& p, int threads, Index r0 = 0, Index r1 = -1) {
  if (r1 < 0) r1 = a.n_rows;
  if (r1 <= r0 || p.k == 0) return 0;
  const Offset work = a.indptr[r1] - a.indptr[r0] + (r1 - r0);
  threads = static_cast<int>(std::clamp<Offset>(work / kMinWorkPerThread, 1, std::max(threads, 1)));
  auto bounds = partition_rows(std::span<const Offset>(a.indptr).subspan(static_cast<std::size_t>(r0),
                                                                         static_cast<std::size_t>(r1 - r0) + 1),
                               threads * kRangesPerThread);
  for (Index& b : bounds) b += r0;
  switch (p.k) {
    case 1: return run_width<1>(p, bounds, threads);
    case 8: return run_width<8>(p, bounds, threads);
    case 16: return run_width<16>(p, bounds, threads);
    case 20: return run_width<20>(p, bounds, threads);
    case 32: return run_width<32>(p, bounds, threads);
    default: return run_width<0>(p, bounds, threads);
  }
}

Pass plain_pass(const graph::CsrMatrix& a, ConstDenseView x, DenseView y) {
  return Pass{a.indptr.data(), a.indices.data(), a.data.data(), x.data, nullptr,
              static_cast<std::size_t>(y.cols), nullptr, nullptr, 1.0f, nullptr, 0.0f, y.data,
              y.cols, false, a.nnz()};
}

}  // namespace

std::size_t bf16_row_stride(Index k) {
  const auto uk = static_cast<std::size_t>(std::max<Index>(k, 1));
  return uk <= 32 ? std::bit_ceil(uk) : (uk + 31) / 32 * 32;
}

void pack_bf16(ConstDenseView x, std::span<const float> scale, std::uint16_t* out, int threads) {
  const std::size_t k = static_cast<std::size_t>(x.cols), ld = bf16_row_stride(x.cols);
  core::parallel_for(x.rows, {std::max(threads, 1)}, [&](std::int64_t r) {
    const float s = scale.empty() ? 1.0f : scale[r];
    const float* xr = x.data + static_cast<std::size_t>(r) * k;
    std::uint16_t* o = out + static_cast<std::size_t>(r) * ld;
    for (std::size_t c = 0; c < k; ++c) o[c] = float_to_bf16(s * xr[c]);
    for (std::size_t c = k; c < ld; ++c) o[c] = 0;
  });
}

float fused_spmm_bf16(const graph::CsrMatrix& a, const FusedScales& s, ConstDenseView x,
                      DenseView y, int threads, std::vector<std::uint16_t>& scratch) {
  const std::size_t need = static_cast<std::size_t>(x.rows) * bf16_row_stride(x.cols);
  if (scratch.size() < need) scratch.resize(need);
  threads = std::max(threads, 1);
  if (x.rows > 0 && x.cols > 0) pack_bf16(x, s.in_scale, scratch.data(), threads);
  Pass p = plain_pass(a, x, y);
  p.xb = scratch.data();
  p.ldx = bf16_row_stride(x.cols);
  p.out_scale = s.out_scale.empty() ? nullptr : s.out_scale.data();
  p.alpha = s.alpha;
  p.seed = s.seed.data;
  p.seed_coef = s.seed_coef;
  p.want_change = true;
  return run(a, p, threads);
}

std::vector<Index> partition_rows(std::span<const Offset> indptr, int parts) {
  const Index rows = indptr.empty() ? 0 : static_cast<Index>(indptr.size() - 1);
  parts = std::max(parts, 1);
  std::vector<Index> bounds(static_cast<std::size_t>(parts) + 1, rows);
  bounds[0] = 0;
  if (rows == 0) return bounds;
  // cost(r) = indptr[r] - indptr[0] + r is the cost of rows [0, r): non-decreasing, so each
  // boundary is a binary search for the first row whose prefix cost reaches p / parts of the
  // total. (indptr[0] is not 0 for a range of a matrix's rows.)
  const Offset base = indptr[0], total = indptr[rows] - base + rows;
  for (int p = 1; p < parts; ++p) {
    const Offset target = total / parts * p + total % parts * p / parts;
    Index lo = bounds[p - 1], hi = rows;
    while (lo < hi) {
      const Index mid = lo + (hi - lo) / 2;
      if (indptr[mid] - base + mid < target) lo = mid + 1;
      else hi = mid;
    }
    bounds[p] = lo;
  }
  return bounds;
}

void spmm(const graph::CsrMatrix& a, ConstDenseView x, DenseView y, int threads) {
  run(a, plain_pass(a, x, y), threads);
}

float fused_spmm(const graph::CsrMatrix& a, const FusedScales& s, ConstDenseView x, DenseView y,
                 int threads) {
  return fused_spmm_rows(a, 0, a.n_rows, s, x, y, threads);
}

float fused_spmm_rows(const graph::CsrMatrix& a, Index r0, Index r1, const FusedScales& s, ConstDenseView x,
                      DenseView y, int threads) {
  Pass p = plain_pass(a, x, y);
  p.in_scale = s.in_scale.empty() ? nullptr : s.in_scale.data();
  p.out_scale = s.out_scale.empty() ? nullptr : s.out_scale.data();
  p.alpha = s.alpha;
  p.seed = s.seed.data;
  p.seed_coef = s.seed_coef;
  p.want_change = true;
  return run(a, p, threads, r0, r1);
}

}  // namespace driftrec::propagation::cpu

// ---- One iteration on W alone: the users' gather and the items' scatter in one pass ----
namespace driftrec::propagation::cpu {
namespace {

// Entries ahead whose accumulator row is prefetched (for writing) in the scatter.
constexpr std::ptrdiff_t kScatterPrefetch = 16;

// What the scatter of the items half-step reads and writes: acc_i += (a_e * in_r) x_r for
// every stored entry (r, i) of W whose column i a thread owns.
struct Scatter {
  const Offset* indptr;
  const Index* indices;
  const float* values;
  const float* x;         // the users' rows (the new F_U in a fused iteration)
  const float* in_scale;  // one per row of W, or null for all ones
  float* acc;             // items x k accumulators, all zero on entry
};

// Rows [r0, r1), columns [c0, c1): each accumulator row receives its terms in increasing
// row order, as the gather over the stored transpose sums them (same products, same
// order, so the same bits).
template <int K>
void scatter_rows(const Scatter& s, std::size_t k_runtime, Index r0, Index r1, Index c0, Index c1) {
  const std::size_t k = K > 0 ? static_cast<std::size_t>(K) : k_runtime;
  for (Index r = r0; r < r1; ++r) {
    const Index* first = s.indices + s.indptr[r];
    const Index* last = s.indices + s.indptr[r + 1];
    if (c0 > 0) first = std::lower_bound(first, last, c0);
    const float* xr = s.x + static_cast<std::size_t>(r) * k;
    const float in = s.in_scale ? s.in_scale[r] : 1.0f;
    for (const Index* it = first; it != last && *it < c1; ++it) {
      if (it + kScatterPrefetch < last && it[kScatterPrefetch] < c1)
        __builtin_prefetch(s.acc + static_cast<std::size_t>(it[kScatterPrefetch]) * k, 1);
      float w = s.values[it - s.indices];
      if (s.in_scale) w *= in;
      float* a = s.acc + static_cast<std::size_t>(*it) * k;
      for (std::size_t c = 0; c < k; ++c) a[c] += w * xr[c];
    }
  }
}

// Rows [r0, r1) of the scattered side: y_r <- alpha * out_r * acc_r + seed_coef * seed_r
// (or acc_r alone for a plain product), the change taken as run_rows takes it, and acc_r
// zeroed for the next call. The same expressions as run_rows, so the same bits.
template <int K>
float finish_rows(const Pass& p, float* acc_rows, Index r0, Index r1, float* scratch) {
  const std::size_t k = K > 0 ? static_cast<std::size_t>(K) : static_cast<std::size_t>(p.k);
  float local_acc[K > 0 ? K : 1], local_max[K > 0 ? K : 1];
  float* acc = K > 0 ? local_acc : scratch;
  float* max_change = K > 0 ? local_max : scratch + k;
  for (std::size_t c = 0; c < k; ++c) max_change[c] = 0;
  float probe = 0;
  for (Index r = r0; r < r1; ++r) {
    float* ar = acc_rows + static_cast<std::size_t>(r) * k;
    for (std::size_t c = 0; c < k; ++c) acc[c] = ar[c];
    for (std::size_t c = 0; c < k; ++c) ar[c] = 0;
    store_row(p, r, k, acc, max_change, probe);
  }
  float change = probe;
  for (std::size_t c = 0; c < k; ++c) change = std::max(change, max_change[c]);
  return probe != probe ? std::numeric_limits<float>::quiet_NaN() : change;
}

// The first row of part `part` of `parts` of rows [lo, hi), cut at equal cost nnz + rows.
Index split_rows(const Offset* indptr, Index lo, Index hi, int parts, int part) {
  if (part <= 0) return lo;
  if (part >= parts) return hi;
  const Offset base = indptr[lo] + lo, total = indptr[hi] + hi - base;
  const Offset target = base + total / parts * part + total % parts * part / parts;
  return static_cast<Index>(std::partition_point(indptr + lo, indptr + hi, [&](const Offset& o) {
                              return o + static_cast<Offset>(&o - indptr) < target;
                            }) - indptr);
}

// The fused iteration (gather_users set) or the scatter half-step alone (gather_users
// null), with no barrier: a descheduled partner thread (this machine is shared) must not
// stall the others block after block. Work items, taken by whichever thread is free:
// - gather tasks: block b's rows cut into `parts`, taken in order from one counter; the
//   last to finish a block marks it gathered;
// - scatters: column range q takes its blocks strictly in order (a per-range flag keeps
//   one thread on it at a time), each only once the block is gathered.
// So each accumulator row receives its terms in increasing row order, whichever threads
// do the work. Ranges are finished (F_I written) once every range has scattered every
// block, hence once every gather (the only reader of the old F_I) is done.
template <int K, bool kInScale, bool kBf16>
IterationChange scatter_iteration(const Pass* gather_users, const Scatter& s, const Pass& items,
                                  Index users, std::span<const Index> column_bounds, int threads,
                                  Offset block_cost, const BlockedMatrix* tiles) {
  const int ranges = static_cast<int>(column_bounds.size()) - 1;
  const Offset total = s.indptr[users] + users;
  Index blocks = static_cast<Index>(std::max<Offset>(1, (total + block_cost - 1) / block_cost));
  std::vector<Index> block_bounds;
  if (tiles) {  // one block per chunk of the tiled copy, gathered whole by one thread
    blocks = std::max<Index>(tiles->chunks, 1);
    for (Index b = 0; b <= blocks; ++b) block_bounds.push_back(std::min<Index>(b * tiles->chunk_rows, users));
  } else {
    block_bounds = partition_rows(std::span<const Offset>(s.indptr, static_cast<std::size_t>(users) + 1),
                                  static_cast<int>(blocks));
  }
  const int parts = gather_users ? (tiles ? 1 : threads) : 0;
  const std::int64_t tasks = static_cast<std::int64_t>(blocks) * parts;
  std::vector<std::atomic<int>> pending(static_cast<std::size_t>(blocks));
  for (auto& p : pending) p.store(parts, std::memory_order_relaxed);
  std::vector<std::atomic<Index>> next_block(static_cast<std::size_t>(ranges));
  std::vector<std::atomic<bool>> busy(static_cast<std::size_t>(ranges));
  for (auto& n : next_block) n.store(0, std::memory_order_relaxed);
  for (auto& f : busy) f.store(false, std::memory_order_relaxed);
  std::atomic<std::int64_t> next_task{0};
  std::atomic<int> next_finish{0};
  std::vector<float> change_users(static_cast<std::size_t>(threads), 0.0f);
  std::vector<float> change_items(static_cast<std::size_t>(threads), 0.0f);
  const std::size_t k = static_cast<std::size_t>(items.k);
  // 2k floats for the generic width (or a chunk's gather), then a chunk's partial sums.
  const std::size_t part_floats = tiles ? static_cast<std::size_t>(tiles->chunk_rows) * k : 0;
  std::vector<std::vector<float>> scratch(static_cast<std::size_t>(threads),
                                          std::vector<float>(2 * k + part_floats, 0.0f));
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), team = omp_get_num_threads();
    float* own = scratch[static_cast<std::size_t>(t)].data();
    float cu = 0;
    for (;;) {
      bool worked = false, all_scattered = true;
      for (int i = 0; i < ranges; ++i) {
        const int q = (t * ranges / team + i) % ranges;  // the own share first
        const auto uq = static_cast<std::size_t>(q);
        Index b = next_block[uq].load(std::memory_order_acquire);
        if (b >= blocks) continue;
        all_scattered = false;
        if (pending[static_cast<std::size_t>(b)].load(std::memory_order_acquire) != 0) continue;
        bool expected = false;
        if (!busy[uq].compare_exchange_strong(expected, true, std::memory_order_acquire)) continue;
        b = next_block[uq].load(std::memory_order_relaxed);
        while (b < blocks && pending[static_cast<std::size_t>(b)].load(std::memory_order_acquire) == 0) {
          scatter_rows<K>(s, k, block_bounds[b], block_bounds[b + 1], column_bounds[q], column_bounds[q + 1]);
          ++b;
        }
        next_block[uq].store(b, std::memory_order_release);
        busy[uq].store(false, std::memory_order_release);
        worked = true;
      }
      if (all_scattered) break;
      if (worked) continue;
      const std::int64_t task = next_task.fetch_add(1, std::memory_order_relaxed);
      if (task < tasks) {
        const Index b = static_cast<Index>(task / parts);
        const int part = static_cast<int>(task % parts);
        const Index lo = block_bounds[b], hi = block_bounds[b + 1];
        const Index r0 = split_rows(s.indptr, lo, hi, parts, part), r1 = split_rows(s.indptr, lo, hi, parts, part + 1);
        if (tiles) note_change(detail::gather_chunk(*tiles, *gather_users, b, own + 2 * k, own), cu);
        else note_change(run_rows<K, kInScale, kBf16>(*gather_users, r0, r1, own), cu);
        pending[static_cast<std::size_t>(b)].fetch_sub(1, std::memory_order_acq_rel);
      } else {
        std::this_thread::yield();  // another thread holds the next gather or scatter
      }
    }
    float ci = 0;
    for (int q; (q = next_finish.fetch_add(1, std::memory_order_relaxed)) < ranges;)
      note_change(finish_rows<K>(items, s.acc, column_bounds[q], column_bounds[q + 1], own), ci);
    change_users[static_cast<std::size_t>(t)] = cu;
    change_items[static_cast<std::size_t>(t)] = ci;
  }
  IterationChange out{0, 0};
  float u = 0, i = 0;
  for (float c : change_users) note_change(c, u);
  for (float c : change_items) note_change(c, i);
  out.users = u;
  out.items = i;
  return out;
}

template <int K>
IterationChange scatter_width(const Pass* gather, const Scatter& s, const Pass& items, Index users,
                              std::span<const Index> bounds, int threads, Offset block_cost,
                              const BlockedMatrix* tiles) {
  if (gather && gather->xb)
    return scatter_iteration<K, false, true>(gather, s, items, users, bounds, threads, block_cost, nullptr);
  if (gather && gather->in_scale)
    return scatter_iteration<K, true, false>(gather, s, items, users, bounds, threads, block_cost, tiles);
  return scatter_iteration<K, false, false>(gather, s, items, users, bounds, threads, block_cost, tiles);
}

IterationChange scatter_dispatch(const Pass* gather, const Scatter& s, const Pass& items, Index users,
                                 std::span<const Index> bounds, int threads, Offset block_cost,
                                 const BlockedMatrix* tiles = nullptr) {
  switch (items.k) {
    case 1: return scatter_width<1>(gather, s, items, users, bounds, threads, block_cost, tiles);
    case 8: return scatter_width<8>(gather, s, items, users, bounds, threads, block_cost, tiles);
    case 16: return scatter_width<16>(gather, s, items, users, bounds, threads, block_cost, tiles);
    case 20: return scatter_width<20>(gather, s, items, users, bounds, threads, block_cost, tiles);
    case 32: return scatter_width<32>(gather, s, items, users, bounds, threads, block_cost, tiles);
    default: return scatter_width<0>(gather, s, items, users, bounds, threads, block_cost, tiles);
  }
}

// Threads for a pass over w: as run() chooses them, and never more than column ranges.
int threads_for(const graph::CsrMatrix& w, int threads) {
  const Offset work = w.nnz() + w.n_rows;
  return static_cast<int>(std::clamp<Offset>(work / kMinWorkPerThread, 1, std::max(threads, 1)));
}

}  // namespace

std::vector<Index> partition_columns(const graph::CsrMatrix& w, int parts) {
  parts = std::max(parts, 1);
  std::vector<Offset> prefix(static_cast<std::size_t>(w.n_cols) + 1, 0);
  for (const Index c : w.indices) ++prefix[static_cast<std::size_t>(c) + 1];
  for (std::size_t c = 1; c < prefix.size(); ++c) prefix[c] += prefix[c - 1] + 1;
  prefix[0] = 0;
  // prefix[c] = entries + columns before c (cost nnz + columns, as partition_rows counts rows)
  return partition_rows(prefix, parts);
}

IterationChange fused_iteration(const graph::CsrMatrix& w, std::span<const Index> column_bounds,
                                const IterationScales& s, DenseView f_users, DenseView f_items,
                                int threads, IterationScratch& scratch) {
  const std::size_t k = static_cast<std::size_t>(f_users.cols);
  if (k == 0 || (w.n_rows == 0 && w.n_cols == 0)) return {0, 0};
  threads = std::max(threads, 1);
  if (scratch.acc.size() < static_cast<std::size_t>(w.n_cols) * k)
    scratch.acc.assign(static_cast<std::size_t>(w.n_cols) * k, 0.0f);
  // Users: the gather of fused_spmm (or fused_spmm_bf16) on W, from the old F_I.
  Pass users = plain_pass(w, f_items, f_users);
  users.out_scale = s.user_scale.empty() ? nullptr : s.user_scale.data();
  users.alpha = s.alpha;
  users.seed = s.user_seed.data;
  users.seed_coef = s.user_seed_coef;
  users.want_change = true;
  if (s.bf16_gather) {
    const std::size_t need = static_cast<std::size_t>(f_items.rows) * bf16_row_stride(f_items.cols);
    if (scratch.bf16.size() < need) scratch.bf16.resize(need);
    if (f_items.rows > 0) pack_bf16(f_items, s.item_scale, scratch.bf16.data(), threads);
    users.xb = scratch.bf16.data();
    users.ldx = bf16_row_stride(f_items.cols);
  } else {
    users.in_scale = s.item_scale.empty() ? nullptr : s.item_scale.data();
  }
  // Items: the scatter of the new F_U, then the finish of fused_spmm on W^T.
  const Scatter sc{w.indptr.data(), w.indices.data(), w.data.data(), f_users.data,
                   s.user_scale.empty() ? nullptr : s.user_scale.data(), scratch.acc.data()};
  Pass items{nullptr, nullptr, nullptr, nullptr, nullptr, k, nullptr,
             s.item_scale.empty() ? nullptr : s.item_scale.data(), s.alpha, s.item_seed.data,
             s.item_seed_coef, f_items.data, f_users.cols, true, 0};
  const BlockedMatrix* tiles = s.bf16_gather || w.n_rows == 0 ? nullptr : s.blocked;
  DRIFTREC_ASSERT(!tiles || (tiles->n_rows == w.n_rows && tiles->n_cols == w.n_cols));
  return scatter_dispatch(&users, sc, items, w.n_rows, column_bounds, threads_for(w, threads),
                          scratch.block_cost, tiles);
}

float fused_spmm_transposed(const graph::CsrMatrix& w, std::span<const Index> column_bounds,
                            const FusedScales& s, ConstDenseView x, DenseView y, int threads,
                            IterationScratch& scratch, bool want_change) {
  const std::size_t k = static_cast<std::size_t>(y.cols);
  if (k == 0 || w.n_cols == 0) return 0;
  if (scratch.acc.size() < static_cast<std::size_t>(w.n_cols) * k)
    scratch.acc.assign(static_cast<std::size_t>(w.n_cols) * k, 0.0f);
  const Scatter sc{w.indptr.data(), w.indices.data(), w.data.data(), x.data,
                   s.in_scale.empty() ? nullptr : s.in_scale.data(), scratch.acc.data()};
  Pass items{nullptr, nullptr, nullptr, nullptr, nullptr, k, nullptr,
             s.out_scale.empty() ? nullptr : s.out_scale.data(), s.alpha, s.seed.data,
             s.seed_coef, y.data, y.cols, want_change, 0};
  return static_cast<float>(scatter_dispatch(nullptr, sc, items, w.n_rows, column_bounds,
                                              threads_for(w, std::max(threads, 1)), scratch.block_cost)
                                 .items);
}

}  // namespace driftrec::propagation::cpu
