#include <catch2/catch.hpp>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "propagation/random_walk.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;
using graph::Offset;

namespace {

constexpr double kRel = 1e-5;  // float kernels against double references

// A small random graph: skewed degrees, empty rows and columns; on `binary` rounds every
// weight is 1 (many exact ties), and a few stored zeros are added (they must act as no edge).
graph::CsrMatrix small_graph(std::mt19937_64& rng, bool binary) {
  const Index users = 1 + static_cast<Index>(rng() % 30), items = 1 + static_cast<Index>(rng() % 25);
  graph::CsrMatrix w = test::random_skewed_matrix(rng, users, items, rng() % 150);
  for (float& v : w.data) {
    if (binary) v = 1;
    if (rng() % 10 == 0) v = 0;
  }
  return w;
}

// Dense reference of RP3beta (P3alpha at beta = 0), in double, written from the definition:
// S_ij = sum_u (W_ui / deg_i)^alpha (W_uj / deg_u)^alpha / pop_j^beta.
Eigen::MatrixXd dense_rp3beta(const Eigen::MatrixXd& w, double alpha, double beta) {
  const Eigen::Index nu = w.rows(), ni = w.cols();
  const Eigen::VectorXd deg_u = w.rowwise().sum(), deg_i = w.colwise().sum().transpose();
  Eigen::MatrixXd s = Eigen::MatrixXd::Zero(ni, ni);
  for (Eigen::Index i = 0; i < ni; ++i)
    for (Eigen::Index u = 0; u < nu; ++u) {
      if (w(u, i) <= 0) continue;
      for (Eigen::Index j = 0; j < ni; ++j)
        if (w(u, j) > 0)
          s(i, j) += std::pow(w(u, i) / deg_i(i), alpha) * std::pow(w(u, j) / deg_u(u), alpha);
    }
  for (Eigen::Index j = 0; j < ni; ++j) {
    const double pop = static_cast<double>((w.col(j).array() > 0).count());
    if (pop > 0) s.col(j) /= std::pow(pop, beta);
  }
  return s;
}

struct Candidate {
  Index item;
  double value;
};

// Checks that `got` holds the top k of `candidates` (value desc, index asc), with values
// within kRel. Where the reference has no near-tie (relative gap > 1e-4) around the cut
// (and, if `ordered`, inside the kept list), the indices must match exactly; otherwise a
// float-rounding swap of near-equal values is allowed, but no kept value may be below a
// dropped one by more than the tolerance. Returns whether the exact comparison applied.
bool check_top_k(std::vector<Candidate> candidates, const std::vector<ScoredItem>& got, int k,
                 bool ordered, double scale = 1) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.value > b.value || (a.value == b.value && a.item < b.item);
  });
  const std::size_t keep = std::min(candidates.size(), static_cast<std::size_t>(k));
  REQUIRE(got.size() == keep);
  std::map<Index, double> ref;
  for (const Candidate& c : candidates) ref[c.item] = c.value;
  double min_kept = std::numeric_limits<double>::infinity();
  for (const ScoredItem& g : got) {
    INFO("item " << g.item << " score " << g.score);
    REQUIRE(ref.count(g.item) == 1);
    REQUIRE(std::abs(g.score - ref[g.item] / scale) <= kRel * ref[g.item] / scale + 1e-12);
    min_kept = std::min(min_kept, ref[g.item]);
  }
  const auto near = [](double a, double b) { return std::abs(a - b) <= 1e-4 * std::max(a, b); };
  bool tie = keep < candidates.size() && near(candidates[keep - 1].value, candidates[keep].value);
  if (ordered)
    for (std::size_t p = 1; p < keep; ++p) tie = tie || near(candidates[p - 1].value, candidates[p].value);
  if (keep < candidates.size()) REQUIRE(min_kept >= candidates[keep].value * (1 - 2 * kRel));
  if (ordered)  // best first, up to float rounding
    for (std::size_t p = 1; p < keep; ++p)
      REQUIRE(ref[got[p].item] <= ref[got[p - 1].item] * (1 + 2 * kRel));
  if (tie) return false;
  std::vector<Index> want, have;
  for (std::size_t p = 0; p < keep; ++p) want.push_back(candidates[p].item);
  for (const ScoredItem& g : got) have.push_back(g.item);
  if (!ordered) std::sort(want.begin(), want.end());
  REQUIRE(have == want);
  return true;
}

std::vector<ScoredItem> row_of(const graph::CsrMatrix& s, Index i) {
  std::vector<ScoredItem> out;
  for (Offset e = s.indptr[i]; e < s.indptr[i + 1]; ++e) out.push_back({s.indices[e], s.data[e]});
  return out;
}

void require_identical(const graph::CsrMatrix& a, const graph::CsrMatrix& b) {
  REQUIRE(a.n_rows == b.n_rows);
  REQUIRE(a.n_cols == b.n_cols);
  REQUIRE(a.indptr == b.indptr);
  REQUIRE(a.indices == b.indices);
  REQUIRE(a.data == b.data);
}

// Dense PPR: p = c r + (1 - c) T^T p with T = D_I^-1 W^T D_U^-1 W, by a direct solve.
Eigen::VectorXd dense_ppr(const Eigen::MatrixXd& w, Index user, double c) {
  const Eigen::Index nu = w.rows(), ni = w.cols();
  Eigen::VectorXd inv_u = w.rowwise().sum(), inv_i = w.colwise().sum().transpose();
  for (Eigen::Index u = 0; u < nu; ++u) inv_u(u) = inv_u(u) > 0 ? 1 / inv_u(u) : 0;
  for (Eigen::Index i = 0; i < ni; ++i) inv_i(i) = inv_i(i) > 0 ? 1 / inv_i(i) : 0;
  const Eigen::MatrixXd t = inv_i.asDiagonal() * w.transpose() * inv_u.asDiagonal() * w;
  const Eigen::VectorXd r = inv_u(user) * w.row(user).transpose();
  const Eigen::MatrixXd m = Eigen::MatrixXd::Identity(ni, ni) - (1 - c) * t.transpose();
  return m.partialPivLu().solve(c * r);
}

}  // namespace

TEST_CASE("P3alpha and RP3beta equal the dense definition, top k per row", "[propagation][random_walk]") {
  const std::uint64_t seed = test::test_seed();
  INFO("seed " << seed << " (DRIFTREC_TEST_SEED)");
  std::mt19937_64 rng(seed);
  int exact_rows = 0, rows = 0;
  for (int round = 0; round < 60; ++round) {
    const bool binary = round % 3 == 0;
    const graph::CsrMatrix w = small_graph(rng, binary);
    WalkSimilarityOptions o;
    o.alpha = std::array{1.0f, 0.5f, 1.7f, 0.8f}[round % 4];
    o.beta = round % 5 == 0 ? 0.0f : std::array{0.3f, 0.8f, 1.0f}[round % 3];
    o.k = 1 + static_cast<int>(rng() % static_cast<std::uint64_t>(w.n_cols + 2));
    o.include_self = round % 4 == 1;
    o.normalize_rows = round % 6 == 2;
    INFO("round " << round << ": " << w.n_rows << " users, " << w.n_cols << " items, alpha "
                  << o.alpha << ", beta " << o.beta << ", k " << o.k << ", include_self "
                  << o.include_self << ", normalize " << o.normalize_rows << ", binary " << binary);
    const graph::CsrMatrix s = o.beta == 0 ? p3alpha_similarity(w, o) : rp3beta_similarity(w, o);
    graph::validate_csr(s, "S");  // columns increasing in each row
    REQUIRE(s.n_rows == w.n_cols);
    REQUIRE(s.n_cols == w.n_cols);
    const Eigen::MatrixXd ref = dense_rp3beta(test::dense(w), o.alpha, o.beta);
    for (Index i = 0; i < w.n_cols; ++i) {
      INFO("row " << i);
      std::vector<Candidate> candidates;
      for (Index j = 0; j < w.n_cols; ++j)
        if (ref(i, j) > 0 && (o.include_self || j != i)) candidates.push_back({j, ref(i, j)});
      double scale = 1;
      if (o.normalize_rows) {  // by the sum of the kept reference values (sets checked below)
        std::vector<double> v;
        for (const Candidate& c : candidates) v.push_back(c.value);
        std::sort(v.rbegin(), v.rend());
        scale = 0;
        for (std::size_t p = 0; p < std::min(v.size(), static_cast<std::size_t>(o.k)); ++p) scale += v[p];
        if (scale == 0) scale = 1;
      }
      exact_rows += check_top_k(candidates, row_of(s, i), o.k, false, scale);
      ++rows;
    }
  }
  // The exact index comparison must carry most rows (near-ties, common on the 0/1 rounds,
  // are the exception).
  REQUIRE(exact_rows > rows * 2 / 3);
}

TEST_CASE("the similarity and the scores are identical for 1 and 2 threads", "[propagation][random_walk]") {
  const std::uint64_t seed = test::test_seed();
  INFO("seed " << seed << " (DRIFTREC_TEST_SEED)");
  std::mt19937_64 rng(seed);
  // Large enough that every parallel loop really forks: the row loops (>= 4096 rows +
  // entries), the SpMMs (>= 16384 per thread) and the dense PageRank passes (> 65536
  // entries, more than one 4096-row block).
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 3000, 5000, 40000);
  WalkSimilarityOptions o;
  o.alpha = 0.7f;
  o.beta = 0.4f;
  o.k = 20;
  o.threads = 1;
  const graph::CsrMatrix s1 = rp3beta_similarity(w, o);
  o.threads = 2;
  const graph::CsrMatrix s2 = rp3beta_similarity(w, o);
  REQUIRE(s1.nnz() > 1000);
  require_identical(s1, s2);

  RecommendOptions r;
  r.k = 15;
  r.threads = 1;
  const TopItems t1 = recommend_all(w, s1, r);
  r.threads = 2;
  const TopItems t2 = recommend_all(w, s1, r);
  REQUIRE(t1.items == t2.items);
  REQUIRE(t1.scores == t2.scores);

  std::vector<Index> users(32);  // one full block
  for (Index u = 0; u < 32; ++u) users[u] = u * 89;
  PageRankOptions p;
  p.tolerance = 1e-4;
  p.threads = 1;
  const PageRankResult p1 = personalized_pagerank(w, users, p);
  p.threads = 2;
  const PageRankResult p2 = personalized_pagerank(w, users, p);
  REQUIRE(p1.converged);
  REQUIRE(p1.iterations == p2.iterations);
  REQUIRE(p1.residual == p2.residual);
  REQUIRE(p1.scores == p2.scores);
}

TEST_CASE("a hand-computed 3 x 4 graph gives the exact similarities and scores", "[propagation][random_walk]") {
  // u0: {0, 1}, u1: {1, 2}, u2: {1, 2, 3}. deg_u = 2, 2, 3; deg_i = pop_i = 1, 3, 2, 1.
  const std::vector<graph::Triplet> t{{0, 0, 1}, {0, 1, 1}, {1, 1, 1}, {1, 2, 1},
                                      {2, 1, 1}, {2, 2, 1}, {2, 3, 1}};
  const graph::CsrMatrix w = graph::csr_from_triplets(3, 4, t);
  // A row as (item, value) pairs; values compare within float rounding (1e-6 relative).
  struct Entry {
    Index item;
    double value;
    bool operator==(const Entry& o) const {
      return item == o.item && std::abs(value - o.value) <= 1e-6 * std::abs(o.value);
    }
  };
  using Row = std::vector<Entry>;
  const auto row = [](const graph::CsrMatrix& s, Index i) {
    Row out;
    for (Offset e = s.indptr[i]; e < s.indptr[i + 1]; ++e) out.push_back({s.indices[e], s.data[e]});
    return out;
  };

  WalkSimilarityOptions o;  // alpha 1: S_ij = sum_u 1/deg_i 1/deg_u
  o.k = 2;
  graph::CsrMatrix s = p3alpha_similarity(w, o);
  // Row 1: S_10 = 1/6, S_12 = 1/6 + 1/9, S_13 = 1/9 (S_11 = 4/9 is the diagonal, left out).
  REQUIRE(row(s, 0) == Row{{1, 0.5}});
  REQUIRE(row(s, 1) == Row{{0, 1.0 / 6}, {2, 1.0 / 6 + 1.0 / 9}});
  REQUIRE(row(s, 2) == Row{{1, 1.0 / 4 + 1.0 / 6}, {3, 1.0 / 6}});
  REQUIRE(row(s, 3) == Row{{1, 1.0 / 3}, {2, 1.0 / 3}});

  o.k = 1;  // row 3 ties S_31 = S_32 = 1/3: the lower index wins
  REQUIRE(row(p3alpha_similarity(w, o), 3) == Row{{1, 1.0 / 3}});
  o.include_self = true;  // row 1: S_11 = 1/6 + 1/6 + 1/9 = 4/9 is now the best
  REQUIRE(row(p3alpha_similarity(w, o), 1) == Row{{1, 4.0 / 9}});
  o.include_self = false;

  o.alpha = 2;  // row 1 with every probability squared: 1/9 * (1/4, 1/4 + 1/9, 1/9)
  o.k = 3;
  REQUIRE(row(p3alpha_similarity(w, o), 1) ==
          Row{{0, 1.0 / 36}, {2, 1.0 / 36 + 1.0 / 81}, {3, 1.0 / 81}});

  o.alpha = 1;  // RP3beta, beta 1: column j divided by pop_j = 1, 3, 2, 1
  o.beta = 1;
  o.k = 2;
  const graph::CsrMatrix r = rp3beta_similarity(w, o);
  REQUIRE(row(r, 1) == Row{{0, 1.0 / 6}, {2, (1.0 / 6 + 1.0 / 9) / 2}});
  REQUIRE(row(r, 3) == Row{{1, 1.0 / 9}, {2, 1.0 / 6}});
  o.normalize_rows = true;  // row 3: 1/9 and 1/6 over their sum 5/18
  REQUIRE(row(rp3beta_similarity(w, o), 3) == Row{{1, 0.4}, {2, 0.6}});

  // Scores W_u S with the P3alpha S (k = 2): user 0 sums rows 0 and 1 -> item 1: 1/2,
  // item 2: 5/18, item 0: 1/6; items 0 and 1 are seen.
  RecommendOptions ro;
  ro.k = 2;
  const auto top = recommend_all(w, s, ro);
  REQUIRE(top.items_of(0)[0] == 2);
  REQUIRE(top.scores_of(0)[0] == Approx(1.0 / 6 + 1.0 / 9).epsilon(1e-6));
  REQUIRE(top.items_of(0)[1] == -1);
  REQUIRE(top.scores_of(0)[1] == -std::numeric_limits<float>::infinity());
  REQUIRE(top.items_of(2)[0] == 0);  // user 2: only item 0 is unseen, 1/6 from row 1
  REQUIRE(top.scores_of(2)[0] == Approx(1.0 / 6).epsilon(1e-6));
  ro.include_seen = true;
  const std::vector<ScoredItem> u0 = recommend_user(w, s, 0, ro);
  REQUIRE(u0.size() == 2);
  REQUIRE(u0[0].item == 1);
  REQUIRE(u0[0].score == 0.5f);
  REQUIRE(u0[1].item == 2);
}

TEST_CASE("top-K scores equal a brute-force sort of W S", "[propagation][random_walk]") {
  const std::uint64_t seed = test::test_seed();
  INFO("seed " << seed << " (DRIFTREC_TEST_SEED)");
  std::mt19937_64 rng(seed);
  int exact = 0, total = 0;
  for (int round = 0; round < 20; ++round) {
    const graph::CsrMatrix w = small_graph(rng, round % 4 == 0);
    WalkSimilarityOptions so;
    so.beta = 0.5f;
    so.k = 1 + static_cast<int>(rng() % 6);
    const graph::CsrMatrix s = rp3beta_similarity(w, so);
    RecommendOptions o;
    o.k = 1 + static_cast<int>(rng() % 8);
    o.include_seen = round % 2 == 1;
    INFO("round " << round << ": " << w.n_rows << " users, " << w.n_cols << " items, K " << o.k
                  << ", include_seen " << o.include_seen);
    const Eigen::MatrixXd wd = test::dense(w);
    const Eigen::MatrixXd scores = wd * test::dense(s);
    const TopItems top = recommend_all(w, s, o);
    REQUIRE(top.users == w.n_rows);
    for (Index u = 0; u < w.n_rows; ++u) {
      INFO("user " << u);
      std::vector<Candidate> candidates;
      for (Index j = 0; j < w.n_cols; ++j)
        if (scores(u, j) > 0 && (o.include_seen || wd(u, j) <= 0)) candidates.push_back({j, scores(u, j)});
      std::vector<ScoredItem> got;
      for (int p = 0; p < o.k; ++p)
        if (top.items_of(u)[p] >= 0) got.push_back({top.items_of(u)[p], top.scores_of(u)[p]});
      for (std::size_t p = got.size(); p < static_cast<std::size_t>(o.k); ++p) {  // the padding
        REQUIRE(top.items_of(u)[p] == -1);
        REQUIRE(top.scores_of(u)[p] == -std::numeric_limits<float>::infinity());
      }
      exact += check_top_k(candidates, got, o.k, true);
      ++total;
      const std::vector<ScoredItem> one = recommend_user(w, s, u, o);
      REQUIRE(one.size() == got.size());
      for (std::size_t p = 0; p < one.size(); ++p) {
        REQUIRE(one[p].item == got[p].item);
        REQUIRE(one[p].score == got[p].score);
      }
    }
  }
  REQUIRE(exact > total * 2 / 3);  // as above: near-ties are the exception
}

TEST_CASE("personalised PageRank equals the dense solution of p = c r + (1-c) T^T p",
          "[propagation][random_walk]") {
  const std::uint64_t seed = test::test_seed();
  INFO("seed " << seed << " (DRIFTREC_TEST_SEED)");
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 16; ++round) {
    const graph::CsrMatrix w = small_graph(rng, round % 4 == 0);
    PageRankOptions o;
    o.restart_probability = std::array{0.15f, 0.5f, 1.0f, 0.3f}[round % 4];
    o.block = std::array{1, 3, 32, 8}[round % 4];
    o.max_iterations = 5000;
    o.tolerance = 2e-6;
    std::vector<Index> users;
    for (Index u = 0; u < w.n_rows; ++u) users.push_back(u);
    users.push_back(0);  // a repeat
    INFO("round " << round << ": " << w.n_rows << " users, " << w.n_cols << " items, c "
                  << o.restart_probability << ", block " << o.block);
    const PageRankResult batch = personalized_pagerank(w, users, o);
    REQUIRE(batch.converged);
    REQUIRE(batch.residual <= o.tolerance);
    REQUIRE(batch.scores.rows() == static_cast<Eigen::Index>(users.size()));
    const Eigen::MatrixXd wd = test::dense(w);
    for (std::size_t b = 0; b < users.size(); ++b) {
      const Index u = users[b];
      INFO("user " << u);
      const Eigen::VectorXd want = dense_ppr(wd, u, o.restart_probability);
      const Eigen::VectorXd have = batch.scores.row(static_cast<Eigen::Index>(b)).transpose().cast<double>();
      // L1 error <= residual (1 - c) / c <= 2e-6 * 5.7, plus float rounding.
      REQUIRE((have - want).lpNorm<1>() <= 2e-5);
      const double mass = wd.row(u).sum() > 0 ? 1.0 : 0.0;  // mass stays on the items
      REQUIRE(std::abs(have.sum() - mass) <= 1e-5);

      PageRankOptions precise = o;
      precise.tolerance = 1e-12;
      const UserPageRank single = personalized_pagerank(w, u, precise);
      INFO("single residual " << single.residual << " after " << single.iterations);
      REQUIRE(single.converged);
      const Eigen::VectorXd s = Eigen::Map<const Eigen::VectorXf>(single.scores.data(), w.n_cols).cast<double>();
      REQUIRE((s - want).lpNorm<1>() <= 1e-6);
    }
  }
}

TEST_CASE("PageRank reports non-convergence with the residual reached", "[propagation][random_walk]") {
  const std::uint64_t seed = test::test_seed();
  INFO("seed " << seed << " (DRIFTREC_TEST_SEED)");
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 40, 30, 300);
  Index user = 0;  // the heaviest user: the walk moves mass off its items
  for (Index u = 1; u < w.n_rows; ++u)
    if (w.row_length(u) > w.row_length(user)) user = u;
  PageRankOptions o;
  o.tolerance = 0;
  o.max_iterations = 1;
  const std::vector<Index> users{user};
  const PageRankResult r = personalized_pagerank(w, users, o);
  REQUIRE_FALSE(r.converged);
  REQUIRE(r.iterations == 1);
  // One step from p = r: the residual is the L1 change from the restart vector.
  const Eigen::MatrixXd wd = test::dense(w);
  const Eigen::VectorXd restart = wd.row(user).transpose() / wd.row(user).sum();
  const double change = (r.scores.row(0).transpose().cast<double>() - restart).lpNorm<1>();
  REQUIRE(r.residual > 0.01);
  REQUIRE(std::abs(r.residual - change) <= 1e-5 * change);
  const UserPageRank single = personalized_pagerank(w, user, o);
  REQUIRE_FALSE(single.converged);
  REQUIRE(single.iterations == 1);
  REQUIRE(std::abs(single.residual - change) <= 1e-5 * change);

  o.tolerance = 1e-5;  // with room to run it converges
  o.max_iterations = 1000;
  REQUIRE(personalized_pagerank(w, users, o).converged);
}

TEST_CASE("empty users, isolated items and stored zeros are no edges", "[propagation][random_walk]") {
  // 4 users x 5 items: user 1 has nothing, user 3 only a stored zero on item 4; item 2 and
  // item 4 belong to nobody (item 4 only through the stored zero).
  const std::vector<graph::Triplet> t{{0, 0, 2}, {0, 1, 1}, {2, 1, 3}, {2, 3, 1}, {3, 4, 0}};
  const graph::CsrMatrix w = graph::csr_from_triplets(4, 5, t);
  WalkSimilarityOptions o;
  o.beta = 0.5f;
  const graph::CsrMatrix s = rp3beta_similarity(w, o);
  graph::validate_csr(s, "S");
  REQUIRE(s.row_length(2) == 0);
  REQUIRE(s.row_length(4) == 0);
  for (Index j : s.indices) REQUIRE((j != 2 && j != 4));
  for (float v : s.data) REQUIRE(v > 0);
  REQUIRE(s.row_length(0) == 1);  // 0 -> 1 through user 0 only
  REQUIRE(s.row_length(1) == 2);  // 1 -> 0 (user 0) and 1 -> 3 (user 2)

  RecommendOptions ro;
  ro.k = 3;
  const TopItems top = recommend_all(w, s, ro);
  for (Index u : {1, 3})
    for (int p = 0; p < ro.k; ++p) {
      REQUIRE(top.items_of(u)[p] == -1);
      REQUIRE(top.scores_of(u)[p] == -std::numeric_limits<float>::infinity());
    }
  REQUIRE(top.items_of(0)[0] == 3);  // user 0 reaches item 3 through item 1

  const std::vector<Index> users{1, 3, 0};
  const PageRankResult p = personalized_pagerank(w, users, PageRankOptions{});
  REQUIRE(p.converged);
  REQUIRE(p.scores.row(0).isZero(0));
  REQUIRE(p.scores.row(1).isZero(0));
  REQUIRE(p.scores(2, 2) == 0);
  REQUIRE(p.scores(2, 4) == 0);
  REQUIRE(std::abs(p.scores.row(2).sum() - 1.0f) <= 1e-5f);
  REQUIRE(personalized_pagerank(w, Index{1}, PageRankOptions{}).residual == 0);

  const graph::CsrMatrix none = graph::csr_from_triplets(0, 0, {});  // no users, no items
  REQUIRE(p3alpha_similarity(none, {}).n_rows == 0);
  REQUIRE(recommend_all(none, none, {}).items.empty());
  REQUIRE(personalized_pagerank(none, std::span<const Index>{}, {}).scores.size() == 0);
}

TEST_CASE("bad options and inputs throw driftrec::InputError naming them", "[propagation][random_walk]") {
  const std::vector<graph::Triplet> t{{0, 0, 1}, {1, 1, 2}};
  const graph::CsrMatrix w = graph::csr_from_triplets(2, 2, t);
  const auto sim = [&](auto change) {
    WalkSimilarityOptions o;
    change(o);
    return rp3beta_similarity(w, o);
  };
  using Catch::Contains;
  REQUIRE_THROWS_AS(sim([](auto& o) { o.alpha = 0; }), driftrec::InputError);
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.alpha = 0; }), Contains("alpha"));
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.alpha = std::numeric_limits<float>::infinity(); }), Contains("alpha"));
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.beta = -0.1f; }), Contains("beta"));
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.beta = std::numeric_limits<float>::quiet_NaN(); }), Contains("beta"));
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.k = 0; }), Contains("k:"));
  REQUIRE_THROWS_WITH(sim([](auto& o) { o.threads = -1; }), Contains("threads"));
  WalkSimilarityOptions with_beta;
  with_beta.beta = 0.5f;
  REQUIRE_THROWS_WITH(p3alpha_similarity(w, with_beta), Contains("beta"));

  graph::CsrMatrix negative = w;
  negative.data[1] = -1;
  REQUIRE_THROWS_AS(p3alpha_similarity(negative, {}), driftrec::InputError);
  REQUIRE_THROWS_WITH(p3alpha_similarity(negative, {}), Contains("W"));

  RecommendOptions ro;
  ro.k = 0;
  REQUIRE_THROWS_WITH(recommend_all(w, w, ro), Contains("k:"));
  ro.k = 1;
  const graph::CsrMatrix wrong = graph::csr_from_triplets(3, 3, {});
  REQUIRE_THROWS_WITH(recommend_all(w, wrong, ro), Contains("S"));
  REQUIRE_THROWS_WITH(recommend_all(w, negative, ro), Contains("S"));
  REQUIRE_THROWS_WITH(recommend_user(w, w, 2, ro), Contains("user"));

  const auto ppr = [&](auto change) {
    PageRankOptions o;
    change(o);
    return personalized_pagerank(w, std::vector<Index>{0}, o);
  };
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.restart_probability = 0; }), Contains("restart_probability"));
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.restart_probability = 1.5f; }), Contains("restart_probability"));
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.tolerance = -1; }), Contains("tolerance"));
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.max_iterations = 0; }), Contains("max_iterations"));
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.block = 0; }), Contains("block"));
  REQUIRE_THROWS_WITH(ppr([](auto& o) { o.threads = -2; }), Contains("threads"));
  REQUIRE_THROWS_WITH(personalized_pagerank(w, std::vector<Index>{0, 5}, {}), Contains("users"));
  REQUIRE_THROWS_WITH(personalized_pagerank(w, Index{-1}, {}), Contains("users"));
}
