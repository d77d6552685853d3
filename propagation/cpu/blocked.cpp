// The tiled users' gather of propagation/cpu/blocked.hpp: building the tiles of W and the
// gather over them, one chunk of rows at a time with its partial sums in L2.
#include "propagation/cpu/blocked.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "propagation/cpu/row_store.hpp"

namespace driftrec::propagation::cpu {
namespace {

using graph::Index;
using graph::Offset;
using detail::note_change;
using detail::Pass;
using detail::store_row;

// Entries ahead whose x row is prefetched within a tile (as kPrefetchEdges in spmm.cpp).
constexpr std::uint32_t kPrefetchEntries = 32;

// Where chunk c's tiles go in the BlockedMatrix: its first non-empty row (over all its
// tiles) and its first entry.
struct ChunkPlace {
  std::size_t first_row = 0;
  std::size_t first_entry = 0;
};

// Pass 1 of make_blocked: the non-empty rows of each of chunk [r0, r1)'s tiles, into
// tile_rows[1 + c * panels + p] (a count, summed into offsets afterwards). Each row's
// cursor walks its (sorted) entries panel by panel.
void count_chunk(const graph::CsrMatrix& w, Index r0, Index r1, Index c, BlockedMatrix& b) {
  std::uint32_t* counts = b.tile_rows.data() + 1 + static_cast<std::size_t>(c) * b.panels;
  for (Index r = r0; r < r1; ++r) {
    Index last_panel = -1;
    for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) {
      const Index p = w.indices[e] >> b.panel_bits;
      if (p != last_panel) ++counts[p];
      last_panel = p;
    }
  }
}

// Pass 2: chunk [r0, r1)'s tiles written in place, panel by panel, from `at`.
void fill_chunk(const graph::CsrMatrix& w, Index r0, Index r1, ChunkPlace at, BlockedMatrix& b) {
  std::vector<Offset> cursor(w.indptr.begin() + r0, w.indptr.begin() + r1);
  std::size_t row = at.first_row, entry = at.first_entry;
  for (Index p = 0; p < b.panels; ++p) {
    const Index end_col = std::min<Index>((p + 1) << b.panel_bits, w.n_cols);
    const Index base = p << b.panel_bits;
    for (Index r = r0; r < r1; ++r) {
      Offset& e = cursor[static_cast<std::size_t>(r - r0)];
      const Offset first = e, last = w.indptr[r + 1];
      while (e < last && w.indices[e] < end_col) {
        b.cols[entry] = static_cast<std::uint16_t>(w.indices[e] - base);
        b.values[entry] = w.data[e];
        ++entry;
        ++e;
      }
      if (e == first) continue;
      b.row_ids[row] = static_cast<std::uint16_t>(r - r0);
      b.row_start[row + 1] = static_cast<std::uint32_t>(entry);
      ++row;
    }
  }
}

// Chunk c: rows [c * chunk_rows, ...) summed tile by tile into part (chunk_rows x k, all
// zero on entry and on return), then written as fused_spmm writes them.
template <int K, bool kInScale>
float run_chunk(const BlockedMatrix& b, const Pass& p, Index c, float* part, float* scratch) {
  const std::size_t k = K > 0 ? static_cast<std::size_t>(K) : static_cast<std::size_t>(p.k);
  float local[K > 0 ? K : 1];
  float* acc = K > 0 ? local : scratch;
  const std::uint32_t* tile_rows = b.tile_rows.data() + static_cast<std::size_t>(c) * b.panels;
  for (Index t = 0; t < b.panels; ++t) {
    const Index base = t << b.panel_bits;
    const float* xp = p.x + static_cast<std::size_t>(base) * k;
    const float* in_p = kInScale ? p.in_scale + base : nullptr;
    const std::uint32_t tile_end = b.row_start[tile_rows[t + 1]];
    for (std::uint32_t i = tile_rows[t]; i < tile_rows[t + 1]; ++i) {
      float* pr = part + static_cast<std::size_t>(b.row_ids[i]) * k;
      for (std::size_t q = 0; q < k; ++q) acc[q] = pr[q];
      const std::uint32_t end = b.row_start[i + 1];
      for (std::uint32_t e = b.row_start[i]; e < end; ++e) {
        if (e + kPrefetchEntries < tile_end) {
          const float* ahead = xp + static_cast<std::size_t>(b.cols[e + kPrefetchEntries]) * k;
          for (std::size_t q = 0; q < k; q += 16) __builtin_prefetch(ahead + q);
          __builtin_prefetch(ahead + k - 1);
        }
        const std::size_t j = b.cols[e];
        float w = b.values[e];
        if constexpr (kInScale) w *= in_p[j];
        const float* xj = xp + j * k;
        for (std::size_t q = 0; q < k; ++q) acc[q] += w * xj[q];
      }
      for (std::size_t q = 0; q < k; ++q) pr[q] = acc[q];
    }
  }
  float* max_change = scratch + k;
  for (std::size_t q = 0; q < k; ++q) max_change[q] = 0;
  float probe = 0;
  const Index r0 = c * b.chunk_rows, r1 = std::min<Index>(r0 + b.chunk_rows, b.n_rows);
  for (Index r = r0; r < r1; ++r) {
    float* pr = part + static_cast<std::size_t>(r - r0) * k;
    store_row(p, r, k, pr, max_change, probe);
    for (std::size_t q = 0; q < k; ++q) pr[q] = 0;
  }
  float change = probe;
  for (std::size_t q = 0; q < k; ++q) change = std::max(change, max_change[q]);
  return probe != probe ? std::numeric_limits<float>::quiet_NaN() : change;
}

float gather_any(const BlockedMatrix& b, const Pass& p, Index c, float* part, float* scratch) {
  const bool in = p.in_scale != nullptr;
  switch (p.k) {
    case 8: return in ? run_chunk<8, true>(b, p, c, part, scratch) : run_chunk<8, false>(b, p, c, part, scratch);
    case 16: return in ? run_chunk<16, true>(b, p, c, part, scratch) : run_chunk<16, false>(b, p, c, part, scratch);
    case 20: return in ? run_chunk<20, true>(b, p, c, part, scratch) : run_chunk<20, false>(b, p, c, part, scratch);
    case 32: return in ? run_chunk<32, true>(b, p, c, part, scratch) : run_chunk<32, false>(b, p, c, part, scratch);
    default: return in ? run_chunk<0, true>(b, p, c, part, scratch) : run_chunk<0, false>(b, p, c, part, scratch);
  }
}

float run_blocked(const BlockedMatrix& b, const Pass& p, int threads) {
  // As spmm.cpp's run(): fewer threads below kMinWorkPerThread entries + rows each.
  const graph::Offset work = static_cast<graph::Offset>(b.values.size()) + b.n_rows;
  threads = static_cast<int>(std::clamp<graph::Offset>(work / kMinWorkPerThread, 1, std::max(threads, 1)));
  const std::size_t k = static_cast<std::size_t>(p.k);
  // A chunk's partial sums: chunk_rows x k, or fewer rows when the matrix has fewer.
  const std::size_t part = static_cast<std::size_t>(std::min(b.chunk_rows, b.n_rows)) * k;
  std::vector<float> change(static_cast<std::size_t>(b.chunks), 0.0f);
  core::parallel_for_with_state(
      b.chunks, {threads, core::Schedule::dynamic, 1}, [&] { return std::vector<float>(part + 2 * k, 0.0f); },
      [&](std::int64_t c, std::vector<float>& buf) {
        change[static_cast<std::size_t>(c)] = gather_any(b, p, static_cast<Index>(c), buf.data(), buf.data() + part);
      });
  float total = 0;
  for (float c : change) note_change(c, total);
  return total;
}

}  // namespace

float detail::gather_chunk(const BlockedMatrix& b, const Pass& p, Index chunk, float* part, float* scratch) {
  return gather_any(b, p, chunk, part, scratch);
}

std::size_t BlockedMatrix::bytes() const {
  return sizeof(std::uint32_t) * (tile_rows.size() + row_start.size()) + sizeof(std::uint16_t) * (row_ids.size() + cols.size()) +
         sizeof(float) * values.size();
}

BlockedMatrix make_blocked(const graph::CsrMatrix& w, int panel_bits, Index chunk_rows, int threads) {
  DRIFTREC_THROW_IF_NOT(panel_bits >= 1 && panel_bits <= 16,
                        "make_blocked: panel_bits must be in [1, 16], got " + std::to_string(panel_bits));
  DRIFTREC_THROW_IF_NOT(chunk_rows >= 1 && chunk_rows <= 65536,
                        "make_blocked: chunk_rows must be in [1, 65536], got " + std::to_string(chunk_rows));
  DRIFTREC_THROW_IF_NOT(w.nnz() < (Offset{1} << 32) - 1, "make_blocked: at most 2^32 - 2 entries");
  BlockedMatrix b;
  b.n_rows = w.n_rows;
  b.n_cols = w.n_cols;
  b.panel_bits = panel_bits;
  b.chunk_rows = chunk_rows;
  b.panels = std::max<Index>(1, (w.n_cols + (Index{1} << panel_bits) - 1) >> panel_bits);
  b.chunks = (w.n_rows + chunk_rows - 1) / chunk_rows;
  // Two passes straight into the result (no per-chunk copies to concatenate, so the build
  // holds W and one tiled copy at most): count each tile's non-empty rows, sum them into
  // offsets, then write each chunk's rows and entries where they belong.
  b.tile_rows.assign(static_cast<std::size_t>(b.chunks * b.panels) + 1, 0);
  const core::ParallelFor per_chunk{std::max(threads, 1), core::Schedule::dynamic, 1};
  const auto rows_of = [&](std::int64_t c) {
    const Index r0 = static_cast<Index>(c) * chunk_rows;
    return std::pair<Index, Index>{r0, std::min<Index>(r0 + chunk_rows, w.n_rows)};
  };
  core::parallel_for(b.chunks, per_chunk, [&](std::int64_t c) {
    const auto [r0, r1] = rows_of(c);
    count_chunk(w, r0, r1, static_cast<Index>(c), b);
  });
  for (std::size_t t = 1; t < b.tile_rows.size(); ++t) b.tile_rows[t] += b.tile_rows[t - 1];
  const std::size_t rows = b.tile_rows.back();
  b.row_ids.assign(rows, 0);
  b.row_start.assign(rows + 1, 0);
  b.cols.assign(static_cast<std::size_t>(w.nnz()), 0);
  b.values.assign(static_cast<std::size_t>(w.nnz()), 0.0f);
  core::parallel_for(b.chunks, per_chunk, [&](std::int64_t c) {
    const auto [r0, r1] = rows_of(c);
    const ChunkPlace at{b.tile_rows[static_cast<std::size_t>(c) * b.panels],
                        static_cast<std::size_t>(w.indptr[r0])};
    fill_chunk(w, r0, r1, at, b);
  });
  return b;
}

graph::CsrMatrix csr_of_blocked(const BlockedMatrix& b, int threads) {
  graph::CsrMatrix w;
  w.n_rows = b.n_rows;
  w.n_cols = b.n_cols;
  w.indptr.assign(static_cast<std::size_t>(b.n_rows) + 1, 0);
  const core::ParallelFor per_chunk{std::max(threads, 1), core::Schedule::dynamic, 1};
  // Each chunk's rows count their entries over the chunk's tiles; then, from the offsets,
  // each row's cursor takes its entries panel by panel (a chunk's tiles are consecutive).
  const auto tiles_of = [&](std::int64_t c) {
    const std::size_t first = static_cast<std::size_t>(c) * static_cast<std::size_t>(b.panels);
    return std::pair<std::uint32_t, std::uint32_t>{b.tile_rows[first], b.tile_rows[first + static_cast<std::size_t>(b.panels)]};
  };
  core::parallel_for(b.chunks, per_chunk, [&](std::int64_t c) {
    const Index r0 = static_cast<Index>(c) * b.chunk_rows;
    const auto [i0, i1] = tiles_of(c);
    for (std::uint32_t i = i0; i < i1; ++i)
      w.indptr[static_cast<std::size_t>(r0 + b.row_ids[i]) + 1] += b.row_start[i + 1] - b.row_start[i];
  });
  for (std::size_t r = 1; r < w.indptr.size(); ++r) w.indptr[r] += w.indptr[r - 1];
  w.indices.resize(b.cols.size());
  w.data.resize(b.values.size());
  core::parallel_for(b.chunks, per_chunk, [&](std::int64_t c) {
    const Index r0 = static_cast<Index>(c) * b.chunk_rows, r1 = std::min<Index>(r0 + b.chunk_rows, b.n_rows);
    std::vector<Offset> cursor(w.indptr.begin() + r0, w.indptr.begin() + r1);
    const std::uint32_t* tile_rows = b.tile_rows.data() + static_cast<std::size_t>(c) * static_cast<std::size_t>(b.panels);
    for (Index t = 0; t < b.panels; ++t) {
      const Index base = t << b.panel_bits;
      for (std::uint32_t i = tile_rows[t]; i < tile_rows[t + 1]; ++i) {
        Offset& at = cursor[b.row_ids[i]];
        for (std::uint32_t e = b.row_start[i]; e < b.row_start[i + 1]; ++e, ++at) {
          w.indices[static_cast<std::size_t>(at)] = base + b.cols[e];
          w.data[static_cast<std::size_t>(at)] = b.values[e];
        }
      }
    }
  });
  return w;
}

float blocked_fused_spmm(const BlockedMatrix& b, const FusedScales& s, ConstDenseView x, DenseView y, int threads) {
  if (b.n_rows == 0 || y.cols == 0) return 0;
  const Pass p{nullptr, nullptr, nullptr, x.data, nullptr, static_cast<std::size_t>(y.cols),
               s.in_scale.empty() ? nullptr : s.in_scale.data(), s.out_scale.empty() ? nullptr : s.out_scale.data(),
               s.alpha, s.seed.data, s.seed_coef, y.data, y.cols, true, 0};
  return run_blocked(b, p, threads);
}

void blocked_spmm(const BlockedMatrix& b, ConstDenseView x, DenseView y, int threads) {
  // spmm's arithmetic: alpha 1, no scales, no seed; the tail's multiply by 1 is exact.
  if (b.n_rows == 0 || y.cols == 0) return;
  const Pass p{nullptr, nullptr, nullptr, x.data, nullptr, static_cast<std::size_t>(y.cols), nullptr, nullptr,
               1.0f, nullptr, 0.0f, y.data, y.cols, false, 0};
  run_blocked(b, p, threads);
}

}  // namespace driftrec::propagation::cpu
