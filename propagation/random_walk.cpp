// Random-walk CF: P3alpha / RP3beta item-item similarity (Cooper et al. 2014, Paudel et al.
// 2017) as a row-at-a-time SpGEMM with a dense accumulator, and top-k scores W_u S from it.
// See random_walk.hpp for the definitions; personalised PageRank is in random_walk_ppr.cpp.
#include "propagation/random_walk.hpp"

#include "propagation/random_walk_parts.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::propagation {
namespace {

using graph::Index;
using graph::Offset;

// Rows + stored entries below which the row loop stays on one thread (a parallel region
// costs more than such a problem). Results do not depend on it.
constexpr Offset kSerialWork = 4096;

void check_threads(int threads) {
  if (threads < 0)
    throw InputError(
        fmt::format("threads: expected 0 (OpenMP's default) or a positive count, got {}", threads));
}

// CSR invariants plus finite, non-negative values.
void check_weights(const graph::CsrMatrix& m, const char* what) {
  graph::validate_csr(m, what);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e)
      if (!std::isfinite(m.data[e]) || m.data[e] < 0)
        throw InputError(fmt::format(
            "{}: the value at row {}, column {} is {}; expected finite and >= 0", what, r,
            m.indices[e], m.data[e]));
}

// Gustavson's dense accumulator for one output row at a time: n values, a stamp per column
// saying which row last touched it (so nothing is cleared between rows), and the list of
// columns the current row touched.
class RowAccumulator {
 public:
  explicit RowAccumulator(Index n)
      : value_(static_cast<std::size_t>(n), 0.0f), stamp_(static_cast<std::size_t>(n), -1) {}

  void start(Index row) {
    row_ = row;
    touched_.clear();
  }
  void add(Index j, float v) {
    if (stamp_[j] != row_) {
      stamp_[j] = row_;
      value_[j] = 0;
      touched_.push_back(j);
    }
    value_[j] += v;
  }
  bool touched(Index j) const { return stamp_[j] == row_; }
  float& operator[](Index j) { return value_[j]; }
  const std::vector<Index>& touched_list() const { return touched_; }

 private:
  std::vector<float> value_;
  std::vector<Index> stamp_;
  std::vector<Index> touched_;
  Index row_ = -1;
};

// Runs body(row, state) for rows [0, n) in parallel (dynamic schedule: degrees are skewed),
// with one state per thread. Each row is computed by one thread; an exception thrown in a
// row or by make_state is rethrown after the loop.
template <typename MakeState, typename Body>
void for_rows(Index n, Offset work, int threads, const MakeState& make_state, const Body& body) {
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.chunk = 16;
  o.parallel = work + n >= kSerialWork;
  core::parallel_for_with_state(n, o, make_state,
                                [&](std::int64_t r, auto& state) { body(static_cast<Index>(r), state); });
}

// value^alpha for each stored entry of m divided by degree[row] (0 for a stored 0).
std::vector<float> powered_transitions(const graph::CsrMatrix& m, const std::vector<double>& degree,
                                       double alpha) {
  std::vector<float> out(m.data.size());
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e)
      out[e] = m.data[e] > 0 ? static_cast<float>(std::pow(m.data[e] / degree[r], alpha)) : 0.0f;
  return out;
}

std::vector<double> row_sums(const graph::CsrMatrix& m) {
  std::vector<double> sum(static_cast<std::size_t>(m.n_rows), 0.0);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) sum[r] += m.data[e];
  return sum;
}

// Scores of user u, score_j = sum_i W_ui S_ij over stored W_ui > 0, into the candidates
// (score > 0, not seen unless include_seen), then the best k.
void score_user(const graph::CsrMatrix& w, const graph::CsrMatrix& s, Index u,
                const RecommendOptions& o, RowAccumulator& acc, std::vector<ScoredItem>& out) {
  acc.start(u);
  for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e) {
    const float wu = w.data[e];
    if (wu <= 0) continue;
    const Index i = w.indices[e];
    for (Offset f = s.indptr[i]; f < s.indptr[i + 1]; ++f) acc.add(s.indices[f], wu * s.data[f]);
  }
  if (!o.include_seen)
    for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e)
      if (w.data[e] > 0 && acc.touched(w.indices[e])) acc[w.indices[e]] = 0;  // not a candidate
  out.clear();
  for (Index j : acc.touched_list())
    if (acc[j] > 0) out.push_back({j, acc[j]});
  keep_best(out, o.k);
}

void check_recommend_inputs(const graph::CsrMatrix& w, const graph::CsrMatrix& s,
                            const RecommendOptions& o) {
  o.validate();
  check_weights(w, "W");
  check_weights(s, "S");
  if (s.n_rows != w.n_cols || s.n_cols != w.n_cols)
    throw InputError(fmt::format("S: is {} x {}, expected items x items = {} x {} (the columns of W)",
                                 s.n_rows, s.n_cols, w.n_cols, w.n_cols));
}

}  // namespace

void keep_best(std::vector<ScoredItem>& c, int k) {
  const auto better = [](const ScoredItem& a, const ScoredItem& b) {
    return a.score > b.score || (a.score == b.score && a.item < b.item);
  };
  const auto keep = std::min(c.size(), static_cast<std::size_t>(std::max(k, 0)));
  std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(keep), c.end(), better);
  c.resize(keep);
}

void WalkSimilarityOptions::validate() const {
  if (!(alpha > 0 && std::isfinite(alpha)))
    throw InputError(fmt::format("alpha: expected a finite value > 0, got {}", alpha));
  if (!(beta >= 0 && std::isfinite(beta)))
    throw InputError(fmt::format("beta: expected a finite value >= 0, got {}", beta));
  if (k < 1) throw InputError(fmt::format("k: expected at least 1 entry per row, got {}", k));
  check_threads(threads);
}

void RecommendOptions::validate() const {
  if (k < 1) throw InputError(fmt::format("k: expected at least 1 item per user, got {}", k));
  check_threads(threads);
}

std::vector<float> transition_powers(const graph::CsrMatrix& m, double alpha) {
  return powered_transitions(m, row_sums(m), alpha);
}

std::vector<float> popularity_scales(const graph::CsrMatrix& iu, float beta) {
  std::vector<float> column_scale(static_cast<std::size_t>(iu.n_rows), 1.0f);
  if (beta != 0)
    for (Index j = 0; j < iu.n_rows; ++j) {
      const auto pop = std::count_if(iu.data.begin() + iu.indptr[j], iu.data.begin() + iu.indptr[j + 1],
                                     [](float v) { return v > 0; });
      if (pop > 0) column_scale[j] = static_cast<float>(std::pow(static_cast<double>(pop), -beta));
    }
  return column_scale;
}

graph::CsrMatrix similarity_rows(const graph::CsrMatrix& iu, std::span<const float> a, const graph::CsrMatrix& ui,
                                 std::span<const float> b, std::span<const float> column_scale, Index first_item,
                                 const WalkSimilarityOptions& o) {
  const Index rows_n = iu.n_rows, n = static_cast<Index>(column_scale.size());
  std::vector<std::vector<ScoredItem>> rows(static_cast<std::size_t>(rows_n));
  struct State {
    RowAccumulator acc;
    std::vector<ScoredItem> candidates;
  };
  for_rows(rows_n, iu.nnz(), o.threads, [&] { return State{RowAccumulator(n), {}}; },
           [&](Index i, State& st) {
             // S_i. = sum over u in item_users(i) of a_iu * b_u.
             st.acc.start(i);
             for (Offset e = iu.indptr[i]; e < iu.indptr[i + 1]; ++e) {
               if (a[e] == 0) continue;
               const Index u = iu.indices[e];
               const float a_iu = a[e];
               // A stored zero (b = 0) touches j with nothing; the v > 0 test drops it.
               for (Offset f = ui.indptr[u]; f < ui.indptr[u + 1]; ++f)
                 st.acc.add(ui.indices[f], a_iu * b[f]);
             }
             st.candidates.clear();
             for (Index j : st.acc.touched_list()) {
               const float v = st.acc[j] * column_scale[j];
               if (v > 0 && (o.include_self || j != first_item + i)) st.candidates.push_back({j, v});
             }
             keep_best(st.candidates, o.k);
             std::sort(st.candidates.begin(), st.candidates.end(),
                       [](const ScoredItem& x, const ScoredItem& y) { return x.item < y.item; });
             if (o.normalize_rows) {
               double sum = 0;
               for (const ScoredItem& c : st.candidates) sum += c.score;
               for (ScoredItem& c : st.candidates) c.score = static_cast<float>(c.score / sum);
             }
             rows[i] = st.candidates;
           });

  graph::CsrMatrix s;
  s.n_rows = rows_n;
  s.n_cols = n;
  s.indptr.assign(static_cast<std::size_t>(rows_n) + 1, 0);
  for (Index i = 0; i < rows_n; ++i) s.indptr[i + 1] = s.indptr[i] + static_cast<Offset>(rows[i].size());
  s.indices.resize(static_cast<std::size_t>(s.nnz()));
  s.data.resize(static_cast<std::size_t>(s.nnz()));
  for (Index i = 0; i < rows_n; ++i)
    for (std::size_t c = 0; c < rows[i].size(); ++c) {
      s.indices[s.indptr[i] + static_cast<Offset>(c)] = rows[i][c].item;
      s.data[s.indptr[i] + static_cast<Offset>(c)] = rows[i][c].score;
    }
  return s;
}

graph::CsrMatrix walk_similarity(const BipartiteGraph& g, const WalkSimilarityOptions& o) {
  o.validate();
  const graph::CsrMatrix& ui = g.user_items;  // W
  const graph::CsrMatrix& iu = g.item_users;  // W^T, stored
  // a_iu = (W_ui / deg_i)^alpha on the edges of W^T, b_uj = (W_uj / deg_u)^alpha on W's;
  // RP3beta's column scale pop_j^-beta, pop_j = number of users with W_uj > 0.
  const std::vector<float> a = transition_powers(iu, o.alpha);
  const std::vector<float> b = transition_powers(ui, o.alpha);
  const std::vector<float> column_scale = popularity_scales(iu, o.beta);
  return similarity_rows(iu, a, ui, b, column_scale, 0, o);
}

graph::CsrMatrix rp3beta_similarity(const graph::CsrMatrix& w, const WalkSimilarityOptions& o) {
  o.validate();
  return walk_similarity(make_bipartite_graph(w, "W"), o);
}

graph::CsrMatrix p3alpha_similarity(const graph::CsrMatrix& w, const WalkSimilarityOptions& o) {
  if (o.beta != 0)
    throw InputError(fmt::format(
        "beta: P3alpha has no popularity penalty, expected 0, got {} (use rp3beta_similarity)", o.beta));
  return rp3beta_similarity(w, o);
}

TopItems recommend_all(const graph::CsrMatrix& w, const graph::CsrMatrix& s, const RecommendOptions& o) {
  check_recommend_inputs(w, s, o);
  TopItems top;
  top.users = w.n_rows;
  top.k = o.k;
  const std::size_t size = static_cast<std::size_t>(w.n_rows) * static_cast<std::size_t>(o.k);
  top.items.assign(size, -1);
  top.scores.assign(size, -std::numeric_limits<float>::infinity());
  struct State {
    RowAccumulator acc;
    std::vector<ScoredItem> best;
  };
  for_rows(w.n_rows, w.nnz(), o.threads, [&] { return State{RowAccumulator(w.n_cols), {}}; },
           [&](Index u, State& st) {
             score_user(w, s, u, o, st.acc, st.best);
             const std::size_t row = static_cast<std::size_t>(u) * static_cast<std::size_t>(o.k);
             for (std::size_t c = 0; c < st.best.size(); ++c) {
               top.items[row + c] = st.best[c].item;
               top.scores[row + c] = st.best[c].score;
             }
           });
  return top;
}

std::vector<ScoredItem> recommend_user(const graph::CsrMatrix& w, const graph::CsrMatrix& s, Index user,
                                       const RecommendOptions& o) {
  check_recommend_inputs(w, s, o);
  if (user < 0 || user >= w.n_rows)
    throw InputError(fmt::format("user: {} is outside [0, {})", user, w.n_rows));
  RowAccumulator acc(w.n_cols);
  std::vector<ScoredItem> best;
  score_user(w, s, user, o, acc, best);
  return best;
}

}  // namespace driftrec::propagation
