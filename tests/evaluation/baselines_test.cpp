// The baselines on the hand-built log (hand_data.hpp, predicting P3 from P0..P2), and
// item-KNN against a dense cosine reference on random matrices.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "evaluation/baselines.hpp"
#include "evaluation/item_knn.hpp"
#include "graph/random.hpp"
#include "tests/evaluation/hand_data.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

namespace {

std::vector<float> interest_of(const FittedModel& m, Index user, Index labels) {
  std::vector<float> out(static_cast<std::size_t>(labels), 0.0f);
  m.interest(user, out);
  return out;
}
std::vector<float> items_of(const FittedModel& m, Index user, Index items) {
  std::vector<float> out(static_cast<std::size_t>(items), 0.0f);
  m.items(user, out);
  return out;
}

}  // namespace

TEST_CASE("popularity counts training events; its interests are their label distribution", "[evaluation]") {
  const Training t = make_training(test::hand_data(), 3);
  const auto m = popularity_model().fit(t, {});
  CHECK(items_of(*m, 0, 6) == std::vector<float>{3, 2, 2, 3, 0, 0});
  const auto p = interest_of(*m, 4, 3);  // the same for every user, even one with no history
  CHECK(p[0] == Approx(0.4));
  CHECK(p[1] == Approx(0.3));
  CHECK(p[2] == Approx(0.3));
  CHECK(popularity_interest(t) == p);
}

TEST_CASE("recent popularity uses the last training period only", "[evaluation]") {
  const Training t = make_training(test::hand_data(), 3);
  const auto m = recent_popularity_model().fit(t, {});
  // P2: u0 i3, u1 i0, u3 i1.
  CHECK(items_of(*m, 2, 6) == std::vector<float>{1, 1, 0, 1, 0, 0});
  for (float v : interest_of(*m, 2, 3)) CHECK(v == Approx(1.0 / 3.0));
}

TEST_CASE("last period: the user's latest labelled training period", "[evaluation]") {
  const Training t = make_training(test::hand_data(), 3);
  const auto m = last_period_model().fit(t, {});
  CHECK(interest_of(*m, 0, 3) == std::vector<float>{0, 0, 1});  // u0 in P2: i3
  CHECK(interest_of(*m, 1, 3) == std::vector<float>{1, 0, 0});  // u1 in P2: i0
  CHECK(interest_of(*m, 2, 3) == std::vector<float>{1, 0, 0});  // u2 last active in P0: i0
  CHECK(interest_of(*m, 4, 3) == std::vector<float>{0, 0, 0});  // no history: the evaluator falls back
}

TEST_CASE("ewma weighs each past period's distribution by 2^(-age / half-life)", "[evaluation]") {
  const Training t = make_training(test::hand_data(), 3);
  const ModelSpec spec = ewma_model({1.0, 2.0});
  REQUIRE(spec.grid.size() == 2);
  const auto m = spec.fit(t, {{"half_life", 1.0}});
  // u0: P0 {0.5, 0.5, 0} age 2 (w 1/4), P1 {0.5, 0.5, 0} age 1 (w 1/2), P2 {0, 0, 1} age 0 (w 1):
  // {0.375, 0.375, 1} / 1.75.
  const auto p = interest_of(*m, 0, 3);
  CHECK(p[0] == Approx(0.375 / 1.75));
  CHECK(p[1] == Approx(0.375 / 1.75));
  CHECK(p[2] == Approx(1.0 / 1.75));
  // u2, active only in P0: its one distribution whatever its age.
  CHECK(interest_of(*m, 2, 3) == std::vector<float>{1, 0, 0});
  // half-life 2: weights 1/2, 2^-1/2, 1.
  const auto q = interest_of(*spec.fit(t, {{"half_life", 2.0}}), 0, 3);
  const double w0 = 0.5, w1 = std::exp2(-0.5), z = w0 + w1 + 1.0;
  CHECK(q[0] == Approx(0.5 * (w0 + w1) / z));
  CHECK(q[2] == Approx(1.0 / z));
}

TEST_CASE("item-KNN matches a dense cosine reference", "[evaluation]") {
  graph::Rng rng(driftrec::test::test_seed(), 5, 0);
  for (int trial = 0; trial < 10; ++trial) {
    const Index users = 5 + static_cast<Index>(rng.below(20)), items = 3 + static_cast<Index>(rng.below(15));
    std::vector<graph::Triplet> tr;
    std::vector<std::vector<int>> b(static_cast<std::size_t>(users), std::vector<int>(static_cast<std::size_t>(items), 0));
    for (Index u = 0; u < users; ++u)
      for (Index i = 0; i < items; ++i)
        if (rng.below(3) == 0) {
          tr.push_back({u, i, static_cast<float>(1 + rng.below(4))});  // values must not matter
          b[static_cast<std::size_t>(u)][static_cast<std::size_t>(i)] = 1;
        }
    const graph::CsrMatrix h = graph::csr_from_triplets(users, items, tr);
    const int k = 1 + static_cast<int>(rng.below(5));
    const graph::CsrMatrix s = item_knn_similarity(h, k);

    // Reference: dense cosine, the k best positive similarities of each row (ties -> lower).
    std::vector<std::vector<double>> kept(static_cast<std::size_t>(items), std::vector<double>(static_cast<std::size_t>(items), 0.0));
    for (Index i = 0; i < items; ++i) {
      std::vector<std::pair<double, Index>> row;
      for (Index j = 0; j < items; ++j) {
        if (j == i) continue;
        double co = 0, di = 0, dj = 0;
        for (Index u = 0; u < users; ++u) {
          co += b[u][i] * b[u][j];
          di += b[u][i];
          dj += b[u][j];
        }
        if (co > 0) row.push_back({co / std::sqrt(di * dj), j});
      }
      std::stable_sort(row.begin(), row.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      for (std::size_t q = 0; q < row.size() && q < static_cast<std::size_t>(k); ++q)
        kept[static_cast<std::size_t>(i)][static_cast<std::size_t>(row[q].second)] = row[q].first;
    }
    for (Index i = 0; i < items; ++i)
      for (Index j = 0; j < items; ++j) {
        double got = 0;
        for (graph::Offset q = s.indptr[i]; q < s.indptr[i + 1]; ++q)
          if (s.indices[q] == j) got = s.data[q];
        CHECK(got == Approx(kept[i][j]).epsilon(1e-6));
      }
    for (Index u = 0; u < users; ++u) {
      std::vector<float> scores(static_cast<std::size_t>(items));
      item_knn_scores(h, s, u, scores);
      for (Index j = 0; j < items; ++j) {
        double ref = 0;
        for (Index i = 0; i < items; ++i) ref += b[u][i] * kept[i][j];
        CHECK(scores[static_cast<std::size_t>(j)] == Approx(ref).epsilon(1e-5).margin(1e-6));
      }
    }
  }
}
