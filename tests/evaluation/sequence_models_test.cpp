// evaluation/sequence_models: the hybrid's blend, the weight chosen on the last training
// period, and the sequence model against popularity on data with planted drift.
#include <catch2/catch.hpp>

#include <random>

#include "evaluation/baselines.hpp"
#include "evaluation/evaluate.hpp"
#include "evaluation/metrics.hpp"
#include "evaluation/sequence_models.hpp"
#include "graph/generator.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

namespace {

EvaluationData planted_data(Index users, Index periods, std::uint64_t seed) {
  graph::DriftConfig cfg;
  cfg.users = users;
  cfg.items = 300;
  cfg.labels = 8;
  cfg.periods = periods;
  cfg.events_per_period = 6;
  cfg.seed = seed;
  const graph::DriftGenerator gen(cfg);
  graph::DriftLog log = graph::generate_drift_log(gen);
  std::vector<graph::Triplet> lt;
  for (Index i = 0; i < cfg.items; ++i)
    for (Index l : gen.item_labels(i)) lt.push_back({i, l, 1.0f});
  graph::sort_events(log.events);
  return make_evaluation_data(cfg.users, cfg.items, graph::csr_from_triplets(cfg.items, cfg.labels, lt),
                              graph::to_columns(std::move(log.events)), graph::Slicing::parse(cfg.slice_spec()),
                              graph::Aggregate::count);
}

SequenceOptions small_options() {
  SequenceOptions o;
  o.model.hidden = 16;
  o.model.epochs = 40;
  o.model.threads = 2;
  o.als.als.factors = 8;
  return o;
}

}  // namespace

TEST_CASE("hybrid scores blend the scaled factor scores and label match", "[evaluation][sequence]") {
  std::mt19937_64 rng(test::test_seed());
  std::normal_distribution<float> normal;
  matrix_factorization::Factors items(7, 3);
  propagation::DenseMatrix seeds = propagation::DenseMatrix::Zero(7, 2);
  for (Index i = 0; i < 7; ++i) {
    for (int f = 0; f < 3; ++f) items(i, f) = normal(rng);
    seeds(i, i % 2) = 1;
  }
  const Eigen::VectorXf factor = Eigen::VectorXf::Random(3), interests = Eigen::Vector2f(0.8f, 0.2f);
  std::vector<float> w0(7), w1(7), half(7);
  hybrid_scores(items, seeds, factor, interests, 0.0, w0);
  hybrid_scores(items, seeds, factor, interests, 1.0, w1);
  hybrid_scores(items, seeds, factor, interests, 0.5, half);
  const Eigen::VectorXf dot = items * factor;
  const float fmax = dot.cwiseAbs().maxCoeff();
  for (Index i = 0; i < 7; ++i) {
    CHECK(w0[i] == Approx(dot(i) / fmax));
    CHECK(w1[i] == Approx(i % 2 == 0 ? 1.0f : 0.25f));  // match / max match
    CHECK(half[i] == Approx(0.5f * w0[i] + 0.5f * w1[i]));
  }
}

TEST_CASE("the sequence model beats popularity on planted drift, and its weight choice is a recomputable recall",
          "[evaluation][sequence]") {
  const EvaluationData data = planted_data(300, 8, 5);
  const std::size_t n = data.slices.size();
  REQUIRE(n == 8);
  const TrainedSequence s = train_sequence(make_training(data, n - 1), small_options());
  REQUIRE(s.next.interests.rows() == 300);

  // Interest cross-entropy on period n-1 (never seen by the model) against popularity's.
  const Training t = make_training(data, n - 1);
  const std::vector<float> pop = popularity_interest(t);
  double ce_model = 0, ce_pop = 0;
  int pairs = 0;
  for (const EvaluatedPair& p : evaluated_pairs(data, t)) {
    if (!p.has_interest) continue;
    std::vector<float> row(s.next.interests.row(p.user).data(), s.next.interests.row(p.user).data() + data.n_labels);
    ce_model += cross_entropy(p.interest, floored_distribution(row));
    ce_pop += cross_entropy(p.interest, floored_distribution(pop));
    ++pairs;
  }
  REQUIRE(pairs > 50);
  INFO("cross-entropy: sequence " << ce_model / pairs << ", popularity " << ce_pop / pairs << " over " << pairs);
  CHECK(ce_model < ce_pop);

  // The chosen weight's recall is the mean recall@20 of that blend on period n-2.
  const WeightChoice c = choose_interest_weight(data, n - 1, s);
  const Training v = make_training(data, n - 2);
  double sum = 0;
  std::size_t count = 0;
  std::vector<float> scores(static_cast<std::size_t>(data.n_items));
  for (const EvaluatedPair& p : evaluated_pairs(data, v)) {
    if (p.items.empty()) continue;
    hybrid_scores(s.validation_item_factors, s.item_label_seeds, s.validation_next.factors.row(p.user).transpose(),
                  s.validation_next.interests.row(p.user).transpose(), c.weight, scores);
    sum += recall_at(top_k_of(scores, eligible_items(v, p.user), 20), p.items, 20);
    ++count;
  }
  REQUIRE(count == c.pairs);
  CHECK(c.recall == Approx(sum / static_cast<double>(count)));
}
