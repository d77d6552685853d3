// Tuning within a budget: the search stops before a setting the budget cannot pay for
// (fake clock, exact arithmetic), always tries the defaults, keeps the lowest score; and
// the sequence tuning reads the validation period and nothing after it (poisoning a test
// period changes no score and no choice, poisoning the validation period does change a
// score).
#include <catch2/catch.hpp>

#include <cmath>

#include "evaluation/tuning.hpp"
#include "graph/random.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

TEST_CASE("the budgeted search stops before a setting the budget cannot pay for", "[evaluation][tuning]") {
  std::vector<Params> candidates;
  for (int c = 0; c < 6; ++c) candidates.push_back({{"c", c}});
  const std::vector<double> value{5, 4, 2, 1, 0, 3};
  double clock = 100;  // each try costs 3 s of the fake clock
  auto score = [&](const Params& p) {
    clock += 3;
    return value[static_cast<std::size_t>(param(p, "c"))];
  };
  auto now = [&] { return clock; };

  TuneResult r = tune_within_budget(candidates, score, 10, now);
  // Tries 0 (spent 0), 1 (3 + 3 <= 10), 2 (6 + 3 <= 10); 3 would end at 12.
  REQUIRE(r.trials.size() == 3);
  CHECK(r.skipped == 3);
  CHECK(r.seconds == 9);
  CHECK(r.seconds <= r.budget_seconds);
  CHECK(param(r.chosen, "c") == 2);  // the lowest of 5, 4, 2

  r = tune_within_budget(candidates, score, 0, now);  // the defaults alone
  REQUIRE(r.trials.size() == 1);
  CHECK(param(r.chosen, "c") == 0);
  CHECK(r.skipped == 5);

  r = tune_within_budget(candidates, score, 1000, now);
  CHECK(r.trials.size() == 6);
  CHECK(param(r.chosen, "c") == 4);
  CHECK(to_json(r)["trials"].size() == 6);

  CHECK_THROWS_AS(tune_within_budget({}, score, 10, now), InputError);
  CHECK_THROWS_AS(tune_within_budget(candidates, score, -1, now), InputError);
}

TEST_CASE("the sequence search space starts at the defaults and varies one option at a time", "[evaluation][tuning]") {
  temporal::SequenceOptions base;
  base.model.hidden = 32;
  base.window = 12;
  base.model.learning_rate = 0.01f;
  const std::vector<Params> space = sequence_search_space(base);
  REQUIRE(space.size() == 7);
  CHECK(param(space[0], "hidden") == 32);
  CHECK(param(space[0], "window") == 12);
  for (std::size_t c = 1; c < space.size(); ++c) {
    int differing = 0;
    for (const auto& [k, v] : space[0]) differing += param(space[c], k) != v;
    CHECK(differing == 1);
  }
  const temporal::SequenceOptions o = apply_sequence_params(base, {{"hidden", 8}, {"window", 3}, {"learning_rate", 0.5}});
  CHECK(o.model.hidden == 8);
  CHECK(o.window == 3);
  CHECK(o.model.learning_rate == 0.5f);
}

namespace {

// 40 users over 7 periods of 100 s; poison adds heavy events on the rarest items in `period`.
EvaluationData tuning_data(std::uint64_t seed, int poison_period) {
  graph::Rng rng(seed, 41, 0);
  constexpr Index kUsers = 40, kItems = 30, kLabels = 4;
  std::vector<graph::Triplet> labels;
  for (Index i = 0; i < kItems; ++i) labels.push_back({i, i % kLabels, 1});
  std::vector<graph::Event> ev;
  for (int p = 0; p < 7; ++p)
    for (Index u = 0; u < kUsers; ++u)
      for (int k = 0, n = 1 + static_cast<int>(rng.below(3)); k < n; ++k)
        ev.push_back({p * 100 + static_cast<graph::Time>(rng.below(100)), u,
                      static_cast<Index>((u + p + rng.below(5)) % kItems), 1.0f});
  if (poison_period >= 0)
    for (Index u = 0; u < kUsers; ++u)
      for (int k = 0; k < 10; ++k) ev.push_back({poison_period * 100 + 50, u, kItems - 1 - k % 3, 1.0f});
  graph::sort_events(ev);
  return make_evaluation_data(kUsers, kItems, graph::csr_from_triplets(kItems, kLabels, labels),
                              graph::to_columns(std::move(ev)), graph::Slicing::parse("100s"), graph::Aggregate::count);
}

}  // namespace

TEST_CASE("sequence tuning never reads the test periods", "[evaluation][tuning]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const std::size_t validation = 4;  // test periods 5 and 6
  temporal::SequenceOptions base;
  base.model.hidden = 8;
  base.model.epochs = 5;
  base.window = 4;
  base.model.threads = 1;
  const TuneResult clean = tune_sequence(tuning_data(seed, -1), validation, base, 1e9);
  const TuneResult poisoned = tune_sequence(tuning_data(seed, 5), validation, base, 1e9);
  REQUIRE(clean.trials.size() == sequence_search_space(base).size());
  REQUIRE(poisoned.trials.size() == clean.trials.size());
  for (std::size_t c = 0; c < clean.trials.size(); ++c) {
    CAPTURE(c);
    CHECK(std::isfinite(clean.trials[c].value));
    CHECK(clean.trials[c].value == poisoned.trials[c].value);
  }
  CHECK(clean.chosen == poisoned.chosen);
  // The check can fail: poisoning the validation period changes the scores.
  const TuneResult seen = tune_sequence(tuning_data(seed, 4), validation, base, 0);
  CHECK(seen.trials[0].value != clean.trials[0].value);
}
