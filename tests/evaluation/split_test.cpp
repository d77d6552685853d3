// The temporal split: which periods are validation and test, what a model may see, and
// the truth of each evaluated (user, period) pair, on the hand-built log of hand_data.hpp.
#include <catch2/catch.hpp>

#include "evaluation/split.hpp"

#include <fmt/format.h>
#include "tests/evaluation/hand_data.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;

TEST_CASE("make_split takes the last N periods and validates on the one before", "[evaluation]") {
  const Split s = make_split(5, 3);
  CHECK(s.validation == 1);
  CHECK(s.test == std::vector<std::size_t>{2, 3, 4});
  CHECK(make_split(5, 1).validation == 3);
  // A period to train on must remain before the validation period.
  CHECK_THROWS_AS(make_split(5, 4), driftrec::InputError);
  CHECK_THROWS_AS(make_split(5, 5), driftrec::InputError);
  CHECK_THROWS_AS(make_split(5, 0), driftrec::InputError);
  CHECK_THROWS_WITH(make_split(5, 7), Catch::Contains("--test-periods 7") && Catch::Contains("5 non-empty periods"));
}

TEST_CASE("make_split accepts exactly 1 to max_test_periods and its message suggests that number",
          "[evaluation]") {
  for (std::size_t training = 1; training <= 4; ++training)
    for (std::size_t n = 0; n <= 12; ++n) {
      const std::int64_t most = max_test_periods(n, training);
      CAPTURE(training, n, most);
      CHECK(most == std::max<std::int64_t>(static_cast<std::int64_t>(n) - static_cast<std::int64_t>(training) - 1, 0));
      for (std::int64_t t = -1; t <= static_cast<std::int64_t>(n) + 2; ++t) {
        CAPTURE(t);
        if (t >= 1 && t <= most) {
          const Split s = make_split(n, t, training);
          CHECK(s.validation == n - static_cast<std::size_t>(t) - 1);
          CHECK(s.validation >= training);  // the periods before validation are enough to train on
          continue;
        }
        const std::string message = [&] {
          try {
            make_split(n, t, training);
          } catch (const driftrec::InputError& e) {
            return std::string(e.what());
          }
          return std::string("accepted");
        }();
        CHECK_THAT(message, Catch::Contains("--test-periods") && Catch::Contains(fmt::format("{} non-empty periods", n)));
        if (most > 0)
          CHECK_THAT(message, Catch::Contains(fmt::format("use 1 to {}", most)));
        else
          CHECK_THAT(message, Catch::Contains("too short for any test period") &&
                                  Catch::Contains(fmt::format("at least {} periods are needed", training + 2)));
      }
    }
}

TEST_CASE("make_training holds only the data strictly before the period", "[evaluation]") {
  const EvaluationData d = test::hand_data();
  REQUIRE(d.periods.size() == 5);
  const Training t = make_training(d, 3);
  CHECK(t.period == 3);
  CHECK(t.slices.size() == 3);
  REQUIRE(t.events.size() == 10);
  for (graph::Time time : t.events.time) CHECK(time < d.periods.begin[3]);
  CHECK(t.period_first == std::vector<std::size_t>{0, 4, 7, 10});
  CHECK(t.item_events == std::vector<double>{3, 2, 2, 3, 0, 0});
  // history = W_0 + W_1 + W_2 (counts): u1 touched i3 twice.
  CHECK(t.history.row_length(1) == 3);
  CHECK(t.history.indices[static_cast<std::size_t>(t.history.indptr[1]) + 2] == 3);
  CHECK(t.history.data[static_cast<std::size_t>(t.history.indptr[1]) + 2] == 2.0f);
  CHECK(t.history.row_length(4) == 0);
  CHECK(eligible_items(t, 3) == std::vector<Index>{0, 2, 3});  // candidates 0-3 minus u3's i1
}

TEST_CASE("label_distribution shares an item's weight among its labels", "[evaluation]") {
  const EvaluationData d = test::hand_data();
  // Every event of P0..P2: i0 x3 -> l0 3; i1 x2 -> l1 2; i2 x2 -> l0 1, l1 1; i3 x3 -> l2 3.
  const auto all = label_distribution(d.events, 0, 10, -1, d.item_labels);
  CHECK(all[0] == Approx(0.4));
  CHECK(all[1] == Approx(0.3));
  CHECK(all[2] == Approx(0.3));
  // Only an unlabelled item: nothing.
  const auto none = label_distribution(d.events, 11, 12, -1, d.item_labels);
  CHECK(none == std::vector<double>{0, 0, 0});
}

TEST_CASE("evaluated pairs and their truth", "[evaluation]") {
  const EvaluationData d = test::hand_data();
  const Training t = make_training(d, 3);
  const auto pairs = evaluated_pairs(d, t);
  REQUIRE(pairs.size() == 4);  // u0, u1, u2, u3; u4 has no history
  CHECK(pairs[0].user == 0);
  CHECK(pairs[1].user == 1);
  CHECK(pairs[2].user == 2);
  CHECK(pairs[3].user == 3);
  for (const auto& p : pairs) CHECK(p.period == 3);

  // u0: i0 (label 0) and the unlabelled i4; had every label; i0 is not new, i4 not a candidate.
  CHECK(pairs[0].has_interest);
  CHECK(pairs[0].interest == std::vector<double>{1, 0, 0});
  CHECK(pairs[0].new_labels.empty());
  CHECK(pairs[0].items.empty());
  // u1: i5 (label 2, which u1 had through i3); i5 was never seen before P3.
  CHECK(pairs[1].interest == std::vector<double>{0, 0, 1});
  CHECK(pairs[1].new_labels.empty());
  CHECK(pairs[1].items.empty());
  // u2: only the unlabelled i4: skipped by the interest task.
  CHECK_FALSE(pairs[2].has_interest);
  // u3: i2 (labels 0 and 1); u3 only had i1 (label 1) so label 0 is new; i2 is a new item.
  CHECK(pairs[3].interest == std::vector<double>{0.5, 0.5, 0});
  CHECK(pairs[3].new_labels == std::vector<Index>{0});
  CHECK(pairs[3].items == std::vector<Index>{2});
}
