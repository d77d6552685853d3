#include "matrix_factorization/batch_top_k.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/parallel.hpp"
#include "matrix_factorization/lanes16.hpp"

namespace driftrec::matrix_factorization {
namespace {

using graph::Index;

constexpr int kMR = 8;                       // queries per micro-block
constexpr int kNR = 16;                      // items per panel
constexpr std::int64_t kQueryBlock = 256;    // queries per task: the items stream from memory once per block
constexpr std::int64_t kTileBytes = 256 * 1024;  // item panels scored together, about half an L2
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Scores the kMR packed queries (f x kMR) against `panels` panels from `first` and
// writes them to out[p][r][lane]; flags[p] gets bit r when row r has a score above
// threshold[r] in panel p (the only panels the selection then looks at). L: the layout of
// 16 floats (matrix_factorization/lanes16.hpp).
template <class L>
inline __attribute__((always_inline)) void score_tile_lanes(const float* qpack, const float* first,
                                                            std::int64_t panels, int f, const float* threshold,
                                                            float* out, std::uint8_t* flags) {
  for (std::int64_t p = 0; p < panels; ++p) {
    const float* y = first + p * kNR * f;
    L acc[kMR] = {};
    for (int k = 0; k < f; ++k) {
      const L yk = detail::load16<L>(y + kNR * k);
      const float* q = qpack + kMR * k;
#pragma GCC unroll 8
      for (int r = 0; r < kMR; ++r) acc[r] += q[r] * yk;
    }
    std::uint8_t bits = 0;
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      if (detail::max16(acc[r]) > threshold[r]) bits = static_cast<std::uint8_t>(bits | (1u << r));
      detail::store16(acc[r], out + (p * kMR + r) * kNR);
    }
    flags[p] = bits;
  }
}

// Once per instruction set: Wide16 with AVX-512, Split16 below it.
#ifdef DRIFTREC_LANES_DISPATCH
DRIFTREC_LANES_AVX512 void score_tile(const float* qpack, const float* first, std::int64_t panels, int f,
                                      const float* threshold, float* out, std::uint8_t* flags) {
  score_tile_lanes<detail::Wide16>(qpack, first, panels, f, threshold, out, flags);
}
DRIFTREC_LANES_AVX2 void score_tile(const float* qpack, const float* first, std::int64_t panels, int f,
                                    const float* threshold, float* out, std::uint8_t* flags) {
  score_tile_lanes<detail::Split16>(qpack, first, panels, f, threshold, out, flags);
}
DRIFTREC_LANES_DEFAULT
#endif
void score_tile(const float* qpack, const float* first, std::int64_t panels, int f, const float* threshold,
                float* out, std::uint8_t* flags) {
  score_tile_lanes<detail::Split16>(qpack, first, panels, f, threshold, out, flags);
}

struct Slot {
  float score;
  Index item;
};
// The ranking order: higher score first, ties toward the lower item id.
bool better(const Slot& a, const Slot& b) { return a.score > b.score || (a.score == b.score && a.item < b.item); }

// One query's k best so far (a heap whose top is the worst kept) and its exclusions,
// offered items in increasing id order.
struct Query {
  Slot* slots = nullptr;
  int k = 0, n = 0;
  std::span<const Index> excluded;
  std::size_t cursor = 0;

  float threshold() const { return n < k ? kNegInf : slots[0].score; }
  void offer(float score, Index item, std::span<const std::uint8_t> blocked) {
    if (n == k && !(score > slots[0].score)) return;  // ids increase, so a tie never wins
    if (!blocked.empty() && blocked[static_cast<std::size_t>(item)]) return;
    while (cursor < excluded.size() && excluded[cursor] < item) ++cursor;
    if (cursor < excluded.size() && excluded[cursor] == item) return;
    if (n < k) {
      slots[n++] = {score, item};
      std::push_heap(slots, slots + n, better);
      return;
    }
    std::pop_heap(slots, slots + k, better);
    slots[k - 1] = {score, item};
    std::push_heap(slots, slots + k, better);
  }
  void finish(Index* items, float* scores) {
    std::sort_heap(slots, slots + n, better);
    for (int j = 0; j < k; ++j) {
      items[j] = j < n ? slots[j].item : -1;
      scores[j] = j < n ? slots[j].score : kNegInf;
    }
  }
};

struct Workspace {
  std::vector<float> qpack, tile_scores;
  std::vector<std::uint8_t> flags;
  std::vector<Slot> slots;
  std::vector<Query> queries;
};

}  // namespace

std::span<const Index> Exclusions::of(std::int64_t r) const {
  if (!seen) return {};
  const Index row = rows.empty() ? static_cast<Index>(r) : rows[static_cast<std::size_t>(r)];
  const auto b = static_cast<std::size_t>(seen->indptr[static_cast<std::size_t>(row)]);
  const auto e = static_cast<std::size_t>(seen->indptr[static_cast<std::size_t>(row) + 1]);
  return {seen->indices.data() + b, e - b};
}

PackedItems::PackedItems(const float* items, Index n, int f, std::span<const Index> candidates)
    : f_(f), n_(candidates.empty() ? n : static_cast<Index>(candidates.size())),
      ids_(candidates.begin(), candidates.end()) {
  data_.assign(static_cast<std::size_t>(panels() * kNR * f_), 0.0f);
  for (Index j = 0; j < n_; ++j) {
    const float* row = items + static_cast<std::int64_t>(item_id(j)) * f_;
    float* dst = data_.data() + (j / kNR) * std::int64_t{kNR} * f_ + j % kNR;
    for (int k = 0; k < f_; ++k) dst[k * kNR] = row[k];
  }
}

void top_k_dot(const float* queries, std::int64_t rows, const PackedItems& items, const Exclusions& exclude, int k,
               Index* out_items, float* out_scores, int threads) {
  if (rows <= 0 || k <= 0) return;
  const int f = items.factors();
  const std::int64_t panels = items.panels();
  const std::int64_t tile = std::max<std::int64_t>(1, kTileBytes / (std::int64_t{kNR} * std::max(f, 1) * 4));
  const std::int64_t blocks = (rows + kQueryBlock - 1) / kQueryBlock;
  core::ParallelFor pf;
  pf.threads = threads;
  pf.schedule = core::Schedule::dynamic;
  pf.parallel = blocks > 1;
  core::parallel_for_with_state(
      blocks, pf,
      [&] {
        Workspace w;
        w.qpack.resize(static_cast<std::size_t>(kQueryBlock * std::max(f, 1)));
        w.tile_scores.resize(static_cast<std::size_t>(tile * kMR * kNR));
        w.flags.resize(static_cast<std::size_t>(tile));
        w.slots.resize(static_cast<std::size_t>(kQueryBlock * k));
        w.queries.resize(static_cast<std::size_t>(kQueryBlock));
        return w;
      },
      [&](std::int64_t b, Workspace& w) {
        const std::int64_t first = b * kQueryBlock, count = std::min(kQueryBlock, rows - first);
        const std::int64_t micro = (count + kMR - 1) / kMR;
        // Queries as micro-blocks of f x kMR (zero rows past the end), for broadcasting.
        std::fill(w.qpack.begin(), w.qpack.end(), 0.0f);
        for (std::int64_t r = 0; r < count; ++r) {
          const float* q = queries + (first + r) * f;
          float* dst = w.qpack.data() + (r / kMR) * kMR * f + r % kMR;
          for (int c = 0; c < f; ++c) dst[c * kMR] = q[c];
          w.queries[static_cast<std::size_t>(r)] = {w.slots.data() + r * k, k, 0, exclude.of(first + r), 0};
        }
        float threshold[kMR];
        for (std::int64_t t0 = 0; t0 < panels; t0 += tile) {
          const std::int64_t tn = std::min(tile, panels - t0);
          for (std::int64_t m = 0; m < micro; ++m) {
            const std::int64_t r0 = m * kMR, rn = std::min<std::int64_t>(kMR, count - r0);
            for (int r = 0; r < kMR; ++r)
              threshold[r] = r < rn ? w.queries[static_cast<std::size_t>(r0 + r)].threshold()
                                    : std::numeric_limits<float>::infinity();
            score_tile(w.qpack.data() + m * kMR * f, items.panel(t0), tn, f, threshold, w.tile_scores.data(),
                       w.flags.data());
            for (std::int64_t p = 0; p < tn; ++p) {
              if (!w.flags[static_cast<std::size_t>(p)]) continue;
              const Index base = static_cast<Index>((t0 + p) * kNR);
              const Index lanes = std::min<Index>(kNR, items.size() - base);
              for (std::int64_t r = 0; r < rn; ++r) {
                if (!(w.flags[static_cast<std::size_t>(p)] >> r & 1u)) continue;
                Query& q = w.queries[static_cast<std::size_t>(r0 + r)];
                const float* s = w.tile_scores.data() + (p * kMR + r) * kNR;
                for (Index l = 0; l < lanes; ++l)
                  if (s[l] > q.threshold()) q.offer(s[l], items.item_id(base + l), exclude.blocked);
              }
            }
          }
        }
        for (std::int64_t r = 0; r < count; ++r)
          w.queries[static_cast<std::size_t>(r)].finish(out_items + (first + r) * k, out_scores + (first + r) * k);
      });
}

void top_k_scores(std::span<const float> scores, std::span<const Index> excluded, std::span<const std::uint8_t> blocked,
                  int k, Index* out_items, float* out_scores) {
  if (k <= 0) return;
  std::vector<Slot> slots(static_cast<std::size_t>(k));
  Query q{slots.data(), k, 0, excluded, 0};
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (scores[i] > q.threshold()) q.offer(scores[i], static_cast<Index>(i), blocked);
  q.finish(out_items, out_scores);
}

}  // namespace driftrec::matrix_factorization
