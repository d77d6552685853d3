// The batch top-K kernel against a dense, serial reference: every score computed in
// double, sorted by (score desc, item asc) after removing the excluded items. Shapes are
// chosen to cut through the kernel's blocking (query counts past 8 and 256, items past a
// 16-item panel and a tile, odd factor counts, k above the candidates).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "graph/csr.hpp"
#include "matrix_factorization/batch_top_k.hpp"

using namespace driftrec::matrix_factorization;
using driftrec::graph::CsrMatrix;
using driftrec::graph::Index;
using driftrec::graph::Triplet;

namespace {

struct Case {
  std::int64_t rows;
  Index items;
  int f, k;
};

std::vector<float> random_matrix(std::mt19937_64& rng, std::int64_t rows, int f) {
  std::normal_distribution<float> n(0, 1);
  std::vector<float> m(static_cast<std::size_t>(rows * f));
  for (float& x : m) x = n(rng);
  return m;
}

CsrMatrix random_seen(std::mt19937_64& rng, std::int64_t rows, Index items, double density) {
  std::vector<Triplet> t;
  std::uniform_real_distribution<double> u(0, 1);
  for (Index r = 0; r < rows; ++r)
    for (Index i = 0; i < items; ++i)
      if (u(rng) < density) t.push_back({r, i, 1.0f});
  return driftrec::graph::csr_from_triplets(static_cast<Index>(rows), items, t);
}

// Checks row r of the kernel's output against the dense reference. Scores are compared
// within a float tolerance; where two reference scores are that close the order between
// them is not pinned, but every returned item must score within tolerance of the
// reference at its rank, be a candidate, and appear once.
void check_row(const float* q, const std::vector<float>& y, Index items, int f, int k, const std::set<Index>& excluded,
               const Index* got_items, const float* got_scores) {
  std::vector<std::pair<double, Index>> ref;
  for (Index i = 0; i < items; ++i) {
    if (excluded.contains(i)) continue;
    double s = 0;
    for (int c = 0; c < f; ++c) s += double(q[c]) * y[static_cast<std::size_t>(i) * f + c];
    ref.push_back({s, i});
  }
  std::sort(ref.begin(), ref.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
  std::set<Index> returned;
  for (int j = 0; j < k; ++j) {
    if (j >= static_cast<int>(ref.size())) {
      CHECK(got_items[j] == -1);
      CHECK(got_scores[j] == -std::numeric_limits<float>::infinity());
      continue;
    }
    CAPTURE(j);
    REQUIRE(got_items[j] >= 0);
    CHECK_FALSE(excluded.contains(got_items[j]));
    CHECK(returned.insert(got_items[j]).second);
    const double tol = 1e-4 * (1 + std::abs(ref[static_cast<std::size_t>(j)].first));
    CHECK(std::abs(got_scores[j] - ref[static_cast<std::size_t>(j)].first) <= tol);
    double own = 0;
    for (int c = 0; c < f; ++c) own += double(q[c]) * y[static_cast<std::size_t>(got_items[j]) * f + c];
    CHECK(std::abs(got_scores[j] - own) <= tol);
    if (j > 0) CHECK(got_scores[j] <= got_scores[j - 1]);
  }
}

}  // namespace

TEST_CASE("top_k_dot returns every query's exact top k without excluded and blocked items", "[batch_top_k]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  const Case c = GENERATE(Case{1, 5, 3, 10}, Case{13, 40, 7, 5}, Case{300, 1100, 64, 50}, Case{9, 17, 16, 17});
  CAPTURE(seed, c.rows, c.items, c.f, c.k);
  std::mt19937_64 rng(seed);
  const std::vector<float> q = random_matrix(rng, c.rows, c.f), y = random_matrix(rng, c.items, c.f);
  const CsrMatrix seen = random_seen(rng, c.rows, c.items, 0.2);
  std::vector<std::uint8_t> blocked(static_cast<std::size_t>(c.items), 0);
  for (Index i = 0; i < c.items; i += 7) blocked[static_cast<std::size_t>(i)] = 1;
  Exclusions ex;
  ex.seen = &seen;
  ex.blocked = blocked;
  const PackedItems packed(y.data(), c.items, c.f);
  std::vector<Index> items(static_cast<std::size_t>(c.rows * c.k));
  std::vector<float> scores(items.size());
  top_k_dot(q.data(), c.rows, packed, ex, c.k, items.data(), scores.data(), 2);
  for (std::int64_t r = 0; r < c.rows; ++r) {
    CAPTURE(r);
    std::set<Index> excluded;
    for (auto i : ex.of(r)) excluded.insert(i);
    for (Index i = 0; i < c.items; ++i)
      if (blocked[static_cast<std::size_t>(i)]) excluded.insert(i);
    check_row(q.data() + r * c.f, y, c.items, c.f, c.k, excluded, items.data() + r * c.k, scores.data() + r * c.k);
  }
}

TEST_CASE("top_k_dot gives the same bytes for 1 and 2 threads and ranks only the candidates", "[batch_top_k]") {
  const std::uint64_t seed = 11;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::int64_t rows = 600;
  const Index n = 500;
  const int f = 32, k = 20;
  const std::vector<float> q = random_matrix(rng, rows, f), y = random_matrix(rng, n, f);
  const PackedItems packed(y.data(), n, f);
  std::vector<Index> a(static_cast<std::size_t>(rows * k)), b(a.size());
  std::vector<float> sa(a.size()), sb(a.size());
  top_k_dot(q.data(), rows, packed, {}, k, a.data(), sa.data(), 1);
  top_k_dot(q.data(), rows, packed, {}, k, b.data(), sb.data(), 2);
  CHECK(a == b);
  CHECK(std::memcmp(sa.data(), sb.data(), sa.size() * sizeof(float)) == 0);

  std::vector<Index> candidates;
  for (Index i = 3; i < n; i += 5) candidates.push_back(i);
  const PackedItems some(y.data(), n, f, candidates);
  top_k_dot(q.data(), rows, some, {}, k, a.data(), sa.data(), 2);
  std::set<Index> not_candidates;
  for (Index i = 0; i < n; ++i)
    if (!std::binary_search(candidates.begin(), candidates.end(), i)) not_candidates.insert(i);
  for (std::int64_t r = 0; r < rows; r += 37)
    check_row(q.data() + r * f, y, n, f, k, not_candidates, a.data() + r * k, sa.data() + r * k);
}

TEST_CASE("top_k_scores keeps ties toward the lower item and pads past the candidates", "[batch_top_k]") {
  const std::vector<float> scores = {1, 3, 3, 2, 3, 0};
  const std::vector<Index> excluded = {2};
  const std::vector<std::uint8_t> blocked = {0, 0, 0, 0, 0, 1};
  std::vector<Index> items(6);
  std::vector<float> got(6);
  top_k_scores(scores, excluded, blocked, 6, items.data(), got.data());
  CHECK(items == std::vector<Index>{1, 4, 3, 0, -1, -1});
  CHECK(got[0] == 3);
  CHECK(got[2] == 2);
  CHECK(got[4] == -std::numeric_limits<float>::infinity());
}
