// The mixture's label ranking: the never-had flags read from a batch against the labels of
// the user's own events, the boosted top 3 against evaluation's top_k, and the boost rule
// against a plain restatement of it over metrics computed by evaluation's functions.
#include "temporal/label_ranking.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "evaluation/metrics.hpp"
#include "temporal/mixture_fit.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::temporal;
namespace ev = driftrec::evaluation;
using driftrec::graph::Index;

namespace {

// rank_l = p_l * (had ? 1 : boost) in double, as evaluation ranks a FittedModel's label_ranking.
std::vector<double> boosted(const Eigen::Ref<const Eigen::VectorXd>& p, const std::vector<std::uint8_t>& had,
                            double boost) {
  std::vector<double> r(static_cast<std::size_t>(p.size()));
  for (std::size_t l = 0; l < r.size(); ++l) r[l] = had[l] ? p(static_cast<Eigen::Index>(l)) : p(static_cast<Eigen::Index>(l)) * boost;
  return r;
}

}  // namespace

TEST_CASE("had_label reads the labels of the user's periods before the step", "[temporal][label_ranking]") {
  // 3 users, 3 labels, 3 periods. User 0: label 0 in period 0, label 2 in period 1; user 1:
  // label 1 in period 1; user 2: nothing until period 2.
  SequenceInputs in;
  for (int t = 0; t < 3; ++t) {
    in.interests.push_back(RowMatrix::Zero(3, 3));
    in.interest_truth.push_back(RowMatrix::Zero(3, 3));
  }
  in.interest_truth[0](0, 0) = 1;
  in.interest_truth[1](0, 2) = 1;
  in.interest_truth[1](1, 1) = 1;
  in.interest_truth[2](2, 0) = 0.5;
  in.interest_truth[2](2, 1) = 0.5;
  in.activity = {{1, 0, 0}, {1, 1, 0}, {0, 0, 1}};
  const SequenceData d = assemble_sequences(in);
  std::vector<Eigen::VectorXd> pi(3, Eigen::Vector3d(0.2, 0.3, 0.5));
  std::vector<Matrix<float>> hidden(3, Matrix<float>::Zero(1, 3));
  std::vector<std::vector<int>> users;
  MixtureState state;
  const std::vector<MixtureBatch> steps = mixture_steps(d, in, pi, hidden, &users, &state);
  const MixtureBatch& last = steps[2];  // every user, after periods 0..2
  REQUIRE(users[2] == std::vector<int>{0, 1, 2});
  const std::vector<std::vector<int>> had = {{1, 0, 1}, {0, 1, 0}, {1, 1, 0}};
  for (Eigen::Index j = 0; j < 3; ++j)
    for (Eigen::Index l = 0; l < 3; ++l) {
      INFO("user " << j << " label " << l);
      CHECK(had_label(last, j, l) == (had[static_cast<std::size_t>(j)][static_cast<std::size_t>(l)] == 1));
      CHECK((state.ewma_long(l, j) > 0) == (had[static_cast<std::size_t>(j)][static_cast<std::size_t>(l)] == 1));
    }
  // Step 0 (users active in period 0 with a target): user 0 had label 0 only.
  REQUIRE(users[0] == std::vector<int>{0});
  CHECK(had_label(steps[0], 0, 0));
  CHECK_FALSE(had_label(steps[0], 0, 1));
  CHECK_FALSE(had_label(steps[0], 0, 2));
  // label_ranking: the never-had labels of the state after the last period times the boost.
  TrainedMixture m;
  m.state = state;
  m.next = RowMatrix::Constant(3, 3, 0.25f);
  m.ranking.boost = 2;
  std::vector<float> out(3);
  label_ranking(m, 1, out);
  CHECK(out == std::vector<float>{0.5f, 0.25f, 0.5f});
}

TEST_CASE("boosted_top3 equals evaluation's top_k of the boosted scores, ties included", "[temporal][label_ranking]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> level(0, 5), coin(0, 1), size(1, 9);
  for (int round = 0; round < 500; ++round) {
    CAPTURE(round);
    const int labels = size(rng);
    Eigen::VectorXd p(labels);
    std::vector<std::uint8_t> had(static_cast<std::size_t>(labels));
    for (int l = 0; l < labels; ++l) {
      p(l) = 0.125 * level(rng);  // few levels: many ties, before and after the boost
      had[static_cast<std::size_t>(l)] = static_cast<std::uint8_t>(coin(rng));
    }
    const double boost = std::array<double, 3>{1, 2, 1.5}[static_cast<std::size_t>(round % 3)];
    std::vector<double> scores(p.data(), p.data() + labels);
    const std::array<Eigen::Index, 3> top = boosted_top3(scores, had, boost);
    const std::vector<Index> expected = ev::top_k(boosted(p, had, boost), 3);
    for (std::size_t r = 0; r < 3; ++r)
      CHECK(top[r] == (r < expected.size() ? static_cast<Eigen::Index>(expected[r]) : -1));
  }
}

TEST_CASE("the boost rule: the smallest boost reaching the population's new-label recall@3, recall@3 kept",
          "[temporal][label_ranking]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  std::uniform_real_distribution<double> u01(0, 1);
  for (int round = 0; round < 40; ++round) {
    CAPTURE(seed, round);
    std::mt19937_64 rng(seed + static_cast<std::uint64_t>(round));
    const int labels = 7, n = 120;
    auto distribution = [&](double sparsity) {
      Eigen::VectorXd v(labels);
      for (int l = 0; l < labels; ++l) v(l) = u01(rng) < sparsity ? 0.0 : u01(rng);
      v(0) += 0.01;
      return Eigen::VectorXd(v / v.sum());
    };
    MixtureBatch b;
    for (auto& e : b.experts) e.resize(labels, n);
    b.hidden = Matrix<double>::Zero(1, n);
    b.gate_input = Matrix<double>::Ones(kGateFeatures, n);
    b.target = Matrix<double>::Zero(labels, n);
    Matrix<double> predicted(labels, n);
    for (int j = 0; j < n; ++j) {
      for (auto& e : b.experts)
        e.col(j) = ((1 - kExpertSmoothing) * distribution(0.5).array() + kExpertSmoothing / labels).matrix();
      if (j % 9 == 0) b.gate_input(3, j) = 0;  // no labelled period: every label is new
      if (j % 7 != 3) b.target.col(j) = distribution(0.6);  // some pairs without a target
      predicted.col(j) = distribution(0.2);
    }
    const BoostChoice c = choose_new_label_boost(predicted, b);
    // The rule restated, over means from evaluation's own top_k and recall.
    const std::size_t nb = kNewLabelBoosts.size();
    std::vector<double> recall(nb), fresh(nb);
    double population = 0, ewma[2] = {0, 0};
    long long pairs = 0, new_pairs = 0;
    for (int j = 0; j < n; ++j) {
      Eigen::VectorXd t = b.target.col(j);
      std::vector<double> truth(t.data(), t.data() + labels);
      const std::vector<Index> relevant = ev::support(truth);
      if (relevant.empty()) continue;
      std::vector<std::uint8_t> had(static_cast<std::size_t>(labels));
      std::vector<Index> novel;
      for (int l = 0; l < labels; ++l) {
        had[static_cast<std::size_t>(l)] = had_label(b, j, l);
        if (truth[static_cast<std::size_t>(l)] > 0 && !had[static_cast<std::size_t>(l)]) novel.push_back(l);
      }
      ++pairs;
      new_pairs += novel.empty() ? 0 : 1;
      auto new_recall = [&](const std::vector<double>& r) {
        return novel.empty() ? 0.0 : ev::hits_at(ev::top_k(r, 3), novel, 3) / static_cast<double>(novel.size());
      };
      for (std::size_t k = 0; k < nb; ++k) {
        const std::vector<double> r = boosted(predicted.col(j), had, kNewLabelBoosts[k]);
        recall[k] += ev::recall_at(ev::top_k(r, 3), relevant, 3);
        fresh[k] += new_recall(r);
      }
      population += new_recall(boosted(b.experts[kPopulation].col(j), had, 1));
      ewma[0] += ev::recall_at(ev::top_k(boosted(b.experts[kEwmaShort].col(j), had, 1), 3), relevant, 3);
      ewma[1] += ev::recall_at(ev::top_k(boosted(b.experts[kEwmaLong].col(j), had, 1), 3), relevant, 3);
    }
    REQUIRE(pairs == c.pairs);
    REQUIRE(new_pairs == c.new_label_pairs);
    REQUIRE(new_pairs > 0);
    const double ewma_best = std::max(ewma[0], ewma[1]) / static_cast<double>(pairs);
    const double population_mean = population / static_cast<double>(new_pairs);
    CHECK(c.ewma_recall3 == Approx(ewma_best).epsilon(1e-12));
    CHECK(c.population_new_label_recall3 == Approx(population_mean).epsilon(1e-12));
    // Means within kRecallTolerance are equal (the two computations add in other orders).
    const double tol = kRecallTolerance;
    auto admissible = [&](std::size_t k) { return recall[k] / static_cast<double>(pairs) >= ewma_best - tol; };
    auto fresh_mean = [&](std::size_t k) { return fresh[k] / static_cast<double>(new_pairs); };
    std::size_t expected = nb;  // the smallest admissible reaching the population
    for (std::size_t k = 0; k < nb && expected == nb; ++k)
      if (admissible(k) && fresh_mean(k) >= population_mean - tol) expected = k;
    if (expected == nb)  // else the admissible one with the most new-label recall (first on ties)
      for (std::size_t k = 0; k < nb; ++k)
        if (admissible(k) && (expected == nb || fresh_mean(k) > fresh_mean(expected) + tol)) expected = k;
    if (expected == nb) expected = 0;
    CHECK(c.boost == kNewLabelBoosts[expected]);
    CHECK(c.recall3 == Approx(recall[expected] / static_cast<double>(pairs)).epsilon(1e-12));
    CHECK(c.new_label_recall3 == Approx(fresh[expected] / static_cast<double>(new_pairs)).epsilon(1e-12));
  }
}

TEST_CASE("the boost rule keeps p's order when no pair brings a new label", "[temporal][label_ranking]") {
  MixtureBatch b;
  for (auto& e : b.experts) e = Matrix<double>::Constant(2, 3, 0.5);  // every label had
  b.hidden = Matrix<double>::Zero(1, 3);
  b.gate_input = Matrix<double>::Ones(kGateFeatures, 3);
  b.target = Matrix<double>::Constant(2, 3, 0.5);
  const BoostChoice c = choose_new_label_boost(Matrix<double>::Constant(2, 3, 0.5), b);
  CHECK(c.boost == 1);
  CHECK(c.pairs == 3);
  CHECK(c.new_label_pairs == 0);
  CHECK(c.recall3 == 1);
  CHECK_THROWS_AS(choose_new_label_boost(Matrix<double>::Constant(2, 3, 0.5), b, std::vector<double>{2, 3}),
                  std::invalid_argument);
}

TEST_CASE("ranked_labels equals a stable sort by the boosted scores, cut at k", "[temporal][label_ranking]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> level(0, 6), coin(0, 1), size(1, 12);
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    const auto labels = static_cast<std::size_t>(size(rng));
    std::vector<float> p(labels);
    std::vector<std::uint8_t> had(labels);
    for (std::size_t l = 0; l < labels; ++l) {
      p[l] = 0.0625f * static_cast<float>(level(rng));
      had[l] = static_cast<std::uint8_t>(coin(rng));
    }
    const float boost = std::array<float, 3>{1.0f, 2.0f, 1.5f}[static_cast<std::size_t>(round % 3)];
    const auto k = static_cast<std::size_t>(size(rng));
    std::vector<std::int32_t> expected(labels);
    for (std::size_t l = 0; l < labels; ++l) expected[l] = static_cast<std::int32_t>(l);
    auto r = [&](std::int32_t l) {
      const auto i = static_cast<std::size_t>(l);
      return had[i] ? p[i] : p[i] * boost;
    };
    std::stable_sort(expected.begin(), expected.end(), [&](std::int32_t a, std::int32_t b) { return r(a) > r(b); });
    expected.resize(std::min(k, labels));
    CHECK(ranked_labels(p, had, boost, k) == expected);
  }
}
