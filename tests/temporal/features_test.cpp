// Feature assembly on a hand-computed case: the feature layout, activity and gap features
// (with the cap), interest and factor targets, and every mask rule; then input validation
// and batch gathering.
#include "temporal/features.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <stdexcept>
#include <vector>

#include "graph/types.hpp"

using namespace driftrec::temporal;
using driftrec::InputError;

namespace {

// 3 users, 2 labels, 1 factor, 4 periods. Activity:
//   user 0: 1 0 0 2     user 1: 0 0 3 0     user 2: never active
SequenceInputs hand_case() {
  SequenceInputs in;
  const float activity[4][3] = {{1, 0, 0}, {0, 0, 0}, {0, 3, 0}, {2, 0, 0}};
  for (int t = 0; t < 4; ++t) {
    RowMatrix f(3, 2), x(3, 1), truth = RowMatrix::Zero(3, 2);
    for (int u = 0; u < 3; ++u) {
      f(u, 0) = 0.1f * static_cast<float>(t + u);
      f(u, 1) = 1 - f(u, 0);
      x(u, 0) = static_cast<float>(10 * t + u);
    }
    in.interests.push_back(f);
    in.factors.push_back(x);
    in.activity.emplace_back(activity[t], activity[t] + 3);
    in.interest_truth.push_back(truth);
  }
  in.interest_truth[2].row(0) << 1, 3;  // user 0, period 2 -> (0.25, 0.75)
  in.interest_truth[3].row(0) << 2, 0;  // user 0, period 3 -> (1, 0)
  in.interest_truth[2].row(1) << 1, 1;  // user 1 has no history before period 2: masked
  in.interest_truth[3].row(1) << 0, 5;  // user 1, period 3 -> (0, 1)
  in.interest_truth[3].row(2) << 1, 0;  // user 2 never active: masked
  return in;
}

}  // namespace

TEST_CASE("features: layout, activity and capped gap on a hand-computed case", "[temporal]") {
  const SequenceData d = assemble_sequences(hand_case(), FeatureOptions{2});
  REQUIRE(d.periods == 4);
  REQUIRE(d.steps() == 3);
  REQUIRE(d.input_size() == 5);
  REQUIRE(d.periods == 4);
  // gap_u(t): periods since the last active period before t, minus one; the cap (2) when
  // never active before t.
  const int gap[4][3] = {{2, 2, 2}, {0, 2, 2}, {1, 2, 2}, {2, 0, 2}};
  const float activity[4][3] = {{1, 0, 0}, {0, 0, 0}, {0, 3, 0}, {2, 0, 0}};
  for (int t = 0; t < 4; ++t)
    for (int u = 0; u < 3; ++u) {
      INFO("period " << t << ", user " << u);
      const auto z = d.features(t).col(u);
      CHECK(z(0) == Approx(0.1 * (t + u)));
      CHECK(z(1) == Approx(1 - 0.1 * (t + u)));
      CHECK(z(2) == static_cast<float>(10 * t + u));
      CHECK(z(3) == Approx(std::log(1.0 + activity[t][u])));
      CHECK(z(4) == Approx(std::log(1.0 + gap[t][u])));
    }
}

TEST_CASE("features: next-period targets and masks on a hand-computed case", "[temporal]") {
  const SequenceData d = assemble_sequences(hand_case(), FeatureOptions{2});
  // Interest mask: truth of t + 1 non-empty and activity in 0..t.
  const float interest_mask[3][3] = {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}};
  // Factor mask: active at t + 1 and activity in 0..t.
  const float factor_mask[3][3] = {{0, 0, 0}, {0, 0, 0}, {1, 0, 0}};
  for (int t = 0; t < 3; ++t)
    for (int u = 0; u < 3; ++u) {
      INFO("step " << t << ", user " << u);
      CHECK(d.interest_mask(t)(0, u) == interest_mask[t][u]);
      CHECK(d.factor_mask(t)(0, u) == factor_mask[t][u]);
      if (interest_mask[t][u] == 0) CHECK(d.interest_targets(t).col(u).isZero());
      if (factor_mask[t][u] == 0) CHECK(d.factor_targets(t).col(u).isZero());
    }
  CHECK(d.interest_targets(1)(0, 0) == Approx(0.25));
  CHECK(d.interest_targets(1)(1, 0) == Approx(0.75));
  CHECK(d.interest_targets(2)(0, 0) == 1.0f);
  CHECK(d.interest_targets(2)(1, 1) == 1.0f);
  CHECK(d.factor_targets(2)(0, 0) == 30.0f);  // X(3) of user 0
}

TEST_CASE("features: without factors the input is L + 2 wide and there is no factor target",
          "[temporal]") {
  SequenceInputs in = hand_case();
  in.factors.clear();
  const SequenceData d = assemble_sequences(in);
  CHECK(d.factor_size == 0);
  CHECK(d.input_size() == 4);
  CHECK(d.factor_size == 0);
  CHECK(d.features(3)(2, 0) == Approx(std::log(3.0)));
}

TEST_CASE("features: without interest truth (prediction only) every interest target is masked",
          "[temporal]") {
  SequenceInputs in = hand_case();
  in.interest_truth.clear();
  const SequenceData d = assemble_sequences(in, FeatureOptions{2});
  const SequenceData with_truth = assemble_sequences(hand_case(), FeatureOptions{2});
  for (int t = 0; t < 4; ++t) CHECK(d.features(t) == with_truth.features(t));
  for (int t = 0; t < 3; ++t) {
    CHECK(d.interest_mask(t).isZero());
    CHECK(d.factor_mask(t) == with_truth.factor_mask(t));
  }
}

TEST_CASE("features: bad inputs throw driftrec::InputError naming what is wrong", "[temporal]") {
  SECTION("gap_cap") {
    CHECK_THROWS_WITH(assemble_sequences(hand_case(), FeatureOptions{0}),
                      Catch::Contains("gap_cap"));
  }
  SECTION("negative activity") {
    SequenceInputs in = hand_case();
    in.activity[2][1] = -1;
    CHECK_THROWS_WITH(assemble_sequences(in), Catch::Contains("activity[2] of user 1"));
  }
  SECTION("not finite interests") {
    SequenceInputs in = hand_case();
    in.interests[1](0, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH(assemble_sequences(in), Catch::Contains("interests[1]"));
  }
  SECTION("negative truth") {
    SequenceInputs in = hand_case();
    in.interest_truth[3](2, 0) = -0.5f;
    CHECK_THROWS_WITH(assemble_sequences(in), Catch::Contains("interest_truth[3]"));
  }
  SECTION("shape") {
    SequenceInputs in = hand_case();
    in.factors[2] = RowMatrix::Zero(3, 2);
    CHECK_THROWS_WITH(assemble_sequences(in), Catch::Contains("factors[2] is 3 x 2"));
  }
  SECTION("period count") {
    SequenceInputs in = hand_case();
    in.activity.pop_back();
    CHECK_THROWS_AS(assemble_sequences(in), driftrec::InputError);
  }
  SECTION("no periods") { CHECK_THROWS_AS(assemble_sequences(SequenceInputs{}), driftrec::InputError); }
}

TEST_CASE("gather_batch picks the users' columns and masks steps before the first target",
          "[temporal]") {
  const SequenceData d = assemble_sequences(hand_case(), FeatureOptions{2});
  const std::vector<int> users{2, 0};
  const Batch<float> b = gather_batch(d, users, 3, 2);
  REQUIRE(b.inputs.size() == 3);
  for (int t = 0; t < 3; ++t) {
    CHECK(b.inputs[t].col(0) == d.features(t).col(2));
    CHECK(b.inputs[t].col(1) == d.features(t).col(0));
  }
  CHECK(b.interest_mask[0].isZero());
  CHECK(b.interest_mask[1].isZero());
  CHECK(b.interest_mask[2](0, 1) == 1.0f);  // user 0 at step 2
  CHECK(b.factor_mask[2](0, 1) == 1.0f);
  CHECK(b.interest_targets[2].col(1) == d.interest_targets(2).col(0));
}

// gather_batch against an element-by-element reference on random data: shuffled users with repeats, every steps and
// first_target_step, with and without factors.
TEST_CASE("gather_batch equals an element-by-element gather on random data", "[temporal]") {
  const unsigned seed = GENERATE(11u, 12u, 13u);
  const int factor_size = GENERATE(0, 3);
  CAPTURE(seed, factor_size);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  SequenceData d = SequenceData::zeros(150, 6, 5, factor_size);
  const auto random = [&](int rows) {
    Matrix<float> m(rows, d.users);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = value(rng);
    return m;
  };
  for (int t = 0; t < d.periods; ++t) d.features(t) = random(d.input_size());
  for (int t = 0; t < d.steps(); ++t) {
    d.interest_targets(t) = random(d.labels);
    d.interest_mask(t) = random(1);
    if (factor_size > 0) {
      d.factor_targets(t) = random(factor_size);
      d.factor_mask(t) = random(1);
    }
  }
  std::vector<int> users(40);
  for (int& u : users) u = static_cast<int>(rng() % static_cast<unsigned>(d.users));
  for (int steps = 1; steps <= d.periods; ++steps)
    for (int first = 0; first <= steps; ++first) {
      CAPTURE(steps, first);
      const Batch<float> b = gather_batch(d, users, steps, first);
      REQUIRE(b.inputs.size() == static_cast<std::size_t>(steps));
      const std::vector<Matrix<float>> inputs = gather_inputs(d, users, steps);
      REQUIRE(inputs.size() == static_cast<std::size_t>(steps));
      for (int t = 0; t < steps; ++t) REQUIRE(inputs[static_cast<std::size_t>(t)] == b.inputs[static_cast<std::size_t>(t)]);
      REQUIRE(b.factor_targets.size() == (factor_size > 0 ? static_cast<std::size_t>(steps) : 0u));
      for (int t = 0; t < steps; ++t) {
        const bool target = t < d.steps() && t >= first;
        for (std::size_t j = 0; j < users.size(); ++j) {
          const auto c = static_cast<Eigen::Index>(j);
          const int u = users[j];
          for (int r = 0; r < d.input_size(); ++r) REQUIRE(b.inputs[t](r, c) == d.features(t)(r, u));
          for (int r = 0; r < d.labels; ++r)
            REQUIRE(b.interest_targets[t](r, c) == (target ? d.interest_targets(t)(r, u) : 0.0f));
          REQUIRE(b.interest_mask[t](0, c) == (target ? d.interest_mask(t)(0, u) : 0.0f));
          for (int r = 0; r < factor_size; ++r)
            REQUIRE(b.factor_targets[t](r, c) == (target ? d.factor_targets(t)(r, u) : 0.0f));
          if (factor_size > 0) REQUIRE(b.factor_mask[t](0, c) == (target ? d.factor_mask(t)(0, u) : 0.0f));
        }
      }
    }
}

// The user-major storage: every field of every (user, period) has its own place. Each entry
// is written through its view with a value naming it, then read back through the views and
// through the raw records (record(u) + t * record_size(), fields in the documented order).
TEST_CASE("the views of SequenceData address disjoint places of the user-major records", "[temporal]") {
  const int factor_size = GENERATE(0, 2);
  CAPTURE(factor_size);
  const int users = 4, periods = 3, labels = 2;
  SequenceData d = SequenceData::zeros(users, periods, labels, factor_size);
  const int dim = d.input_size();
  REQUIRE(d.record_size() == dim + labels + 1 + (factor_size > 0 ? factor_size + 1 : 0));
  REQUIRE(d.values.size() == static_cast<std::size_t>(users * periods * d.record_size()));
  // field 0..4: features, interest target, interest mask, factor target, factor mask
  const auto name = [](int field, int t, int u, int r) { return static_cast<float>(10000 * field + 1000 * t + 100 * u + r + 1); };
  for (int t = 0; t < periods; ++t)
    for (int u = 0; u < users; ++u) {
      for (int r = 0; r < dim; ++r) d.features(t)(r, u) = name(0, t, u, r);
      if (t >= d.steps()) continue;
      for (int r = 0; r < labels; ++r) d.interest_targets(t)(r, u) = name(1, t, u, r);
      d.interest_mask(t)(0, u) = name(2, t, u, 0);
      for (int r = 0; r < factor_size; ++r) d.factor_targets(t)(r, u) = name(3, t, u, r);
      if (factor_size > 0) d.factor_mask(t)(0, u) = name(4, t, u, 0);
    }
  const SequenceData& c = d;
  for (int t = 0; t < periods; ++t)
    for (int u = 0; u < users; ++u) {
      const float* record = c.record(u) + static_cast<std::ptrdiff_t>(t) * c.record_size();
      for (int r = 0; r < dim; ++r) {
        REQUIRE(c.features(t)(r, u) == name(0, t, u, r));
        REQUIRE(record[r] == name(0, t, u, r));
      }
      if (t >= c.steps()) {  // the last period's target fields stay zero
        for (int r = dim; r < c.record_size(); ++r) REQUIRE(record[r] == 0.0f);
        continue;
      }
      for (int r = 0; r < labels; ++r) REQUIRE(record[dim + r] == name(1, t, u, r));
      REQUIRE(c.interest_targets(t)(labels - 1, u) == name(1, t, u, labels - 1));
      REQUIRE(record[dim + labels] == name(2, t, u, 0));
      REQUIRE(c.interest_mask(t)(0, u) == name(2, t, u, 0));
      for (int r = 0; r < factor_size; ++r) REQUIRE(record[dim + labels + 1 + r] == name(3, t, u, r));
      if (factor_size > 0) REQUIRE(record[dim + labels + 1 + factor_size] == name(4, t, u, 0));
    }
  CHECK(c.factor_targets(0).rows() == factor_size);
  CHECK(c.factor_mask(0).rows() == (factor_size > 0 ? 1 : 0));
  CHECK_THROWS_AS(c.features(periods), std::out_of_range);
  CHECK_THROWS_AS(c.features(-1), std::out_of_range);
  CHECK_THROWS_AS(c.interest_targets(c.steps()), std::out_of_range);
  CHECK_THROWS_AS(c.factor_mask(c.steps()), std::out_of_range);
  CHECK_THROWS_AS(SequenceData::zeros(-1, 2, 2, 0), InputError);
  const SequenceData none = SequenceData::zeros(0, 3, 2, factor_size);  // no users: empty views
  CHECK(none.features(2).cols() == 0);
  CHECK(none.interest_targets(1).rows() == 2);
  CHECK(gather_batch(none, {}, 3, 0).inputs.size() == 3u);
}
