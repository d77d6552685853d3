// R-MAT generator of graph/rmat.hpp: count pass, fill pass (same draws), per-row sort and
// count, merge into the exact-size result.
#include "graph/rmat.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "graph/random.hpp"

namespace driftrec::graph {
namespace {

constexpr std::uint64_t kEdgeStream = 0x52'4d'41'54;  // "RMAT"
constexpr std::uint64_t kRowPermStream = kEdgeStream + 1;
constexpr std::uint64_t kColPermStream = kEdgeStream + 2;
constexpr Offset kBlockEdges = Offset{1} << 16;

// Thresholds on a 32-bit uniform draw u: quadrant (0,0) if u < t_a, (0,1) if u < t_ab,
// (1,0) if u < t_abc, else (1,1); row-only levels: bit = u >= t_ab (a + b); column-only
// levels: bit = u >= t_ac (a + c).
struct Thresholds {
  std::uint64_t t_a, t_ab, t_abc, t_ac;
};

std::uint64_t scaled(double p) {
  return static_cast<std::uint64_t>(std::llround(std::clamp(p, 0.0, 1.0) * 4294967296.0));
}

class EdgeSource {
 public:
  explicit EdgeSource(const RmatConfig& c)
      : rs_(c.row_scale), cs_(c.col_scale), levels_(std::max(c.row_scale, c.col_scale)),
        t_{scaled(c.a), scaled(c.a + c.b), scaled(c.a + c.b + c.c), scaled(c.a + c.c)} {}

  // One edge: two 32-bit uniforms per 64-bit draw, one per level.
  std::pair<Index, Index> draw(Rng& rng) const {
    std::uint32_t row = 0, col = 0;
    std::uint64_t bits = 0;
    for (int l = 0; l < levels_; ++l) {
      if ((l & 1) == 0) bits = rng();
      const std::uint64_t u = (l & 1) ? (bits & 0xFFFFFFFFu) : (bits >> 32);
      const bool has_row = l < rs_, has_col = l < cs_;
      if (has_row && has_col) {
        const int q = (u >= t_.t_a) + (u >= t_.t_ab) + (u >= t_.t_abc);  // 0..3
        row = (row << 1) | static_cast<std::uint32_t>(q >> 1);
        col = (col << 1) | static_cast<std::uint32_t>(q & 1);
      } else if (has_row) {
        row = (row << 1) | static_cast<std::uint32_t>(u >= t_.t_ab);
      } else {
        col = (col << 1) | static_cast<std::uint32_t>(u >= t_.t_ac);
      }
    }
    return {static_cast<Index>(row), static_cast<Index>(col)};
  }

 private:
  int rs_, cs_, levels_;
  Thresholds t_;
};

std::vector<Index> permutation(Index n, std::uint64_t seed, std::uint64_t stream, bool scramble) {
  std::vector<Index> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), Index{0});
  if (!scramble) return p;
  Rng rng(seed, stream, 0);
  for (Index i = n - 1; i > 0; --i)
    std::swap(p[i], p[static_cast<Index>(rng.below(static_cast<std::uint64_t>(i) + 1))]);
  return p;
}

// Calls f(row, col) for every edge of blocks handed out under a static schedule; the set
// of edges is fixed by the seed, only their order of visits depends on the threads.
template <typename F>
void for_each_edge(const RmatConfig& c, const EdgeSource& src, int threads, F&& f) {
  const Offset blocks = (c.edges + kBlockEdges - 1) / kBlockEdges;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (Offset blk = 0; blk < blocks; ++blk) {
    Rng rng(c.seed, kEdgeStream, static_cast<std::uint64_t>(blk));
    const Offset end = std::min(c.edges, (blk + 1) * kBlockEdges);
    for (Offset e = blk * kBlockEdges; e < end; ++e) {
      const auto [r, col] = src.draw(rng);
      f(r, col);
    }
  }
}

}  // namespace

void RmatConfig::validate() const {
  if (row_scale < 0 || row_scale > 30)
    throw InputError(fmt::format("--row-scale: expected 0..30, got {}", row_scale));
  if (col_scale < 0 || col_scale > 30)
    throw InputError(fmt::format("--col-scale: expected 0..30, got {}", col_scale));
  if (edges < 0) throw InputError(fmt::format("--edges: expected a count >= 0, got {}", edges));
  const double d = 1.0 - a - b - c;
  if (!(a >= 0 && b >= 0 && c >= 0 && d >= -1e-12))
    throw InputError(fmt::format(
        "--a/--b/--c: expected probabilities >= 0 with a + b + c <= 1, got a={} b={} c={}", a, b, c));
}

CsrMatrix rmat_matrix(const RmatConfig& config, int threads) {
  config.validate();
  threads = core::thread_count(threads);
  const EdgeSource src(config);
  const Index rows = config.rows(), cols = config.cols();
  const std::vector<Index> row_id = permutation(rows, config.seed, kRowPermStream, config.scramble_ids);
  const std::vector<Index> col_id = permutation(cols, config.seed, kColPermStream, config.scramble_ids);

  // Pass 1: edges per (relabelled) row.
  std::vector<std::atomic<Offset>> count(static_cast<std::size_t>(rows));
  for (auto& x : count) x.store(0, std::memory_order_relaxed);
  for_each_edge(config, src, threads, [&](Index r, Index) {
    count[row_id[r]].fetch_add(1, std::memory_order_relaxed);
  });
  std::vector<Offset> start(static_cast<std::size_t>(rows) + 1, 0);
  for (Index r = 0; r < rows; ++r) start[r + 1] = start[r] + count[r].load(std::memory_order_relaxed);

  // Pass 2: the same draws, placed into their rows (in an order that may vary).
  std::vector<Index> indices(static_cast<std::size_t>(config.edges));
  for (Index r = 0; r < rows; ++r) count[r].store(start[r], std::memory_order_relaxed);
  for_each_edge(config, src, threads, [&](Index r, Index col) {
    indices[count[row_id[r]].fetch_add(1, std::memory_order_relaxed)] = col_id[col];
  });
  std::vector<std::atomic<Offset>>().swap(count);

  // Per row: sort, count the distinct columns; then merge duplicates straight into the
  // exact-size arrays as (col, multiplicity). No drawn-size value array: the peak is the
  // drawn-size ids (4 bytes per edge drawn) plus the result (8 per entry).
  std::vector<Offset> length(static_cast<std::size_t>(rows));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1024)
  for (Index r = 0; r < rows; ++r) {
    Index* first = indices.data() + start[r];
    Index* last = indices.data() + start[r + 1];
    std::sort(first, last);
    Offset distinct = 0;
    for (Index* p = first; p < last; ++p) distinct += p == first || *p != p[-1];
    length[r] = distinct;
  }
  CsrMatrix m;
  m.n_rows = rows;
  m.n_cols = cols;
  m.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (Index r = 0; r < rows; ++r) m.indptr[r + 1] = m.indptr[r] + length[r];
  std::vector<Offset>().swap(length);
  m.indices.resize(static_cast<std::size_t>(m.nnz()));
  m.data.resize(static_cast<std::size_t>(m.nnz()));
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1024)
  for (Index r = 0; r < rows; ++r) {
    const Index* last = indices.data() + start[r + 1];
    Offset out = m.indptr[r];
    for (const Index* p = indices.data() + start[r]; p < last;) {
      const Index* q = p;
      while (q < last && *q == *p) ++q;
      m.indices[out] = *p;
      m.data[out] = static_cast<float>(q - p);
      ++out;
      p = q;
    }
  }
  return m;
}

}  // namespace driftrec::graph
