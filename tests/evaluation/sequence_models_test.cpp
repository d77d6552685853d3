// evaluation/sequence_models: the sequence model (temporal/sequence_fit.hpp) against
// popularity on data with planted drift, and its weight choice equal to the evaluation
// protocol's recall on the last training period.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "evaluation/baselines.hpp"
#include "evaluation/evaluate.hpp"
#include "evaluation/metrics.hpp"
#include "evaluation/sequence_models.hpp"
#include "temporal/sequence_fit.hpp"
#include "graph/generator.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using namespace driftrec::temporal;
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
  const WeightChoice c = choose_interest_weight(make_training(data, n - 1), s);
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

  // The users are scored on threads and summed in user order: any thread count, the same choice.
  for (const int threads : {1, 2, 3}) {
    CAPTURE(threads);
    const WeightChoice d = choose_interest_weight(make_training(data, n - 1), s, kInterestWeights, 20, threads);
    CHECK(d.weight == c.weight);
    CHECK(d.recall == c.recall);  // bit for bit
    CHECK(d.pairs == c.pairs);
  }
}

TEST_CASE("the sequence rows compute the features of a period once and train on them exactly as alone",
          "[evaluation][sequence][feature_cache]") {
  const EvaluationData data = planted_data(200, 7, 11);
  const std::size_t n = data.periods.size();
  SequenceOptions o = small_options();
  o.model.epochs = 4;
  auto cache = std::make_shared<FeatureCache>();
  const std::vector<ModelSpec> rows = sequence_models(o, {}, cache);
  REQUIRE(rows.size() == 5);
  auto spec = [&](const std::string& name) -> const ModelSpec& {
    for (const ModelSpec& m : rows)
      if (m.name == name) return m;
    FAIL("no row " << name);
    return rows.front();
  };
  const Training t = make_training(data, n - 1);
  const auto gru = spec("sequence_gru").fit(t, spec("sequence_gru").grid.front());
  const auto lstm = spec("sequence_lstm").fit(t, spec("sequence_lstm").grid.front());
  const auto attention = spec("sequence_attention").fit(t, spec("sequence_attention").grid.front());
  const auto hybrid = spec("hybrid").fit(t, spec("hybrid").grid.front());
  CHECK(cache->computed() == 1);  // every cell and the hybrid on one period: one feature pass

  // The LSTM row's prediction equals train_sequence computing its own features.
  SequenceOptions lo = o;
  lo.model.cell = CellKind::lstm;
  const TrainedSequence alone = train_sequence(t, lo);
  std::vector<float> row(static_cast<std::size_t>(t.n_labels));
  for (Index u = 0; u < t.n_users; u += 17) {
    CAPTURE(u);
    std::fill(row.begin(), row.end(), 0.0f);
    lstm->interest(u, row);
    for (Index l = 0; l < t.n_labels; ++l) REQUIRE(row[static_cast<std::size_t>(l)] == alone.next.interests(u, l));
  }
  // A different feature option is a different entry; a new period drops the old ones.
  SequenceOptions other = o;
  other.als.als.factors = 4;
  CHECK(cache->sequence(t, other) != cache->sequence(t, o));
  CHECK(cache->computed() == 2);
  const Training earlier = make_training(data, n - 2);
  (void)cache->sequence(earlier, o);
  (void)cache->sequence(t, o);
  CHECK(cache->computed() == 4);
}

TEST_CASE("the hybrid row scores with the weight chosen on its GRU fit's last training period, training no GRU of its own",
          "[evaluation][sequence][hybrid]") {
  const EvaluationData data = planted_data(200, 7, 13);
  const std::size_t n = data.periods.size();
  SequenceOptions o = small_options();
  o.model.epochs = 4;
  const std::vector<ModelSpec> rows = sequence_models(o);
  const ModelSpec* hybrid = nullptr;
  for (const ModelSpec& m : rows)
    if (m.name == "hybrid") hybrid = &m;
  REQUIRE(hybrid != nullptr);
  CHECK(hybrid->grid.size() == 1);  // nothing tuned on validation: no GRU trained before the validation period
  const Training t = make_training(data, n - 1);
  const auto fitted = hybrid->fit(t, hybrid->grid.front());
  SequenceOptions go = o;
  go.model.cell = CellKind::gru;
  const TrainedSequence s = train_sequence(t, go);
  const WeightChoice c = choose_interest_weight(t, s);
  CAPTURE(c.weight, c.recall, c.pairs);
  CHECK(fitted->note().find(fmt::format("interest_weight {}", c.weight)) != std::string::npos);
  std::vector<float> got(static_cast<std::size_t>(t.n_items)), want(got.size());
  for (Index u = 0; u < t.n_users; u += 13) {
    CAPTURE(u);
    fitted->items(u, got);
    hybrid_scores(s.item_factors, s.item_label_seeds, s.next.factors.row(u).transpose(),
                  s.next.interests.row(u).transpose(), c.weight, want);
    REQUIRE(got == want);
  }
}

TEST_CASE("evaluate reports progress from inside the sequence fits", "[evaluation][sequence][progress]") {
  const EvaluationData data = planted_data(120, 8, 3);
  SequenceOptions o = small_options();
  o.model.epochs = 2;
  std::vector<ModelSpec> rows = sequence_models(o);
  rows.resize(1);  // sequence_gru
  EvaluateOptions e;
  e.test_periods = 1;
  e.resamples = 10;
  std::vector<std::string> stages;
  e.progress = [&](const char* stage, std::uint64_t, std::uint64_t) { stages.emplace_back(stage); };
  (void)evaluate(data, rows, e);
  const auto has = [&](const std::string& s) {
    return std::find(stages.begin(), stages.end(), s) != stages.end();
  };
  CHECK(has("test sequence_gru"));
  CHECK(has("test sequence_gru: features: propagation 1/7"));
  CHECK(has("test sequence_gru: training 2/2"));
  // Outside evaluate() nothing is forwarded (and nothing breaks).
  fit_progress("stray", 1, 1);
}

TEST_CASE("train_sequence on shared features keeps no copy of them and equals the copying form bit for bit",
          "[evaluation][sequence]") {
  const EvaluationData data = planted_data(150, 7, 21);
  const Training t = make_training(data, data.slices.size() - 1);
  const SequenceOptions o = small_options();
  auto f = std::make_shared<SequenceFeatures>(sequence_features(t, o));
  // The reference: the reference form, which copies the inputs and assembles its own data,
  // and predicts the validation period from the data of periods 0..P-2 assembled anew.
  const TrainedSequence want = train_sequence(static_cast<const SequenceFeatures&>(*f), o);
  SequenceInputs before = f->inputs;
  for (auto* v : {&before.interests, &before.factors, &before.interest_truth}) v->pop_back();
  before.activity.pop_back();
  const Prediction want_validation =
      predict_next(want.training.model, assemble_sequences(before, o.features), o.model.threads);
  CHECK(want.validation_next.interests == want_validation.interests);
  CHECK(want.validation_next.factors == want_validation.factors);

  f->data = std::make_shared<const SequenceData>(assemble_sequences(f->inputs, o.features));
  const std::shared_ptr<const SequenceFeatures> shared = f;
  const TrainedSequence got = train_sequence(shared, o);
  CHECK(got.inputs.get() == &shared->inputs);  // points into the features, no copy
  CHECK(got.data == shared->data);
  CHECK(got.next.interests == want.next.interests);
  CHECK(got.next.factors == want.next.factors);
  CHECK(got.validation_next.interests == want.validation_next.interests);
  CHECK(got.validation_next.factors == want.validation_next.factors);
  CHECK(got.state.recurrent.hidden == want.state.recurrent.hidden);
  for (std::size_t k = 0; k < kTensorCount; ++k) CHECK(got.training.model.parameters[k] == want.training.model.parameters[k]);

  // Assembled data of other feature options is refused.
  SequenceOptions other = o;
  other.features.gap_cap = o.features.gap_cap + 1;
  CHECK_THROWS_AS(train_sequence(shared, other), std::invalid_argument);
}
