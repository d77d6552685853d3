// Tests for graph/generator: determinism across thread counts, the planted truth's
// invariants, events consistent with the truth, and the statistics the model promises
// (label frequencies, event counts, popularity skew, drift).
#include "graph/generator.hpp"

#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "graph/slicing.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

namespace {

DriftConfig small_config(std::uint64_t seed) {
  DriftConfig c;
  c.users = 600;
  c.items = 800;
  c.labels = 15;
  c.periods = 8;
  c.events_per_period = 6;
  c.seed = seed;
  return c;
}

Index period_of(const DriftConfig& c, const Event& e) {
  return static_cast<Index>((e.time - c.first_period_begin()) / c.period_seconds);
}

// (user, period) -> planted support with weights.
std::map<std::pair<Index, Index>, std::map<Index, double>> truth_map(const DriftLog& log) {
  std::map<std::pair<Index, Index>, std::map<Index, double>> m;
  for (const auto& t : log.truth) m[{t.user, t.period}][t.label] = t.weight;
  return m;
}

}  // namespace

TEST_CASE("generator output is identical for 1 and 2 threads with the same seed",
          "[generator]") {
  const auto c = small_config(driftrec::test::test_seed());
  const int before = omp_get_max_threads();
  const auto one = generate_drift_log(DriftGenerator(c, 1), 1);
  CHECK(omp_get_max_threads() == before);  // the library set no OpenMP default
  const auto two = generate_drift_log(DriftGenerator(c, 2), 2);
  REQUIRE(one.events.size() == two.events.size());
  REQUIRE(one.truth.size() == two.truth.size());
  for (std::size_t k = 0; k < one.events.size(); ++k) {
    const auto& a = one.events[k];
    const auto& b = two.events[k];
    REQUIRE((a.time == b.time && a.user == b.user && a.item == b.item && a.value == b.value));
  }
  for (std::size_t k = 0; k < one.truth.size(); ++k) {
    const auto& a = one.truth[k];
    const auto& b = two.truth[k];
    REQUIRE((a.user == b.user && a.period == b.period && a.label == b.label &&
             a.weight == b.weight));
  }
  // A different seed gives a different log.
  auto other = c;
  other.seed = c.seed + 1;
  const auto three = generate_drift_log(DriftGenerator(other));
  CHECK((three.events.size() != one.events.size() ||
         !std::equal(one.events.begin(), one.events.end(), three.events.begin(),
                     [](const Event& a, const Event& b) { return a.item == b.item; })));
}

TEST_CASE("truth weights sum to 1 for every user and period and stay sparse", "[generator]") {
  const auto c = small_config(driftrec::test::test_seed());
  const auto log = generate_drift_log(DriftGenerator(c));
  const auto truth = truth_map(log);
  REQUIRE(truth.size() == static_cast<std::size_t>(c.users) * static_cast<std::size_t>(c.periods));
  for (const auto& [key, support] : truth) {
    double sum = 0;
    for (const auto& [label, w] : support) {
      REQUIRE(w > 0.0);
      REQUIRE(label >= 0);
      REQUIRE(label < c.labels);
      sum += w;
    }
    REQUIRE(sum == Approx(1.0).margin(1e-12));
    REQUIRE(support.size() >= 1);
    REQUIRE(support.size() <= static_cast<std::size_t>(2 * c.user_labels));
  }
  // Rows come out by (user, period, label).
  CHECK(std::is_sorted(log.truth.begin(), log.truth.end(), [](const auto& a, const auto& b) {
    return std::tie(a.user, a.period, a.label) < std::tie(b.user, b.period, b.label);
  }));
}

TEST_CASE("every event's item carries a label in the user's truth support for its period",
          "[generator]") {
  const auto c = small_config(driftrec::test::test_seed());
  const DriftGenerator gen(c);
  const auto log = generate_drift_log(gen);
  const auto truth = truth_map(log);
  REQUIRE(!log.events.empty());
  for (const auto& e : log.events) {
    const Index p = period_of(c, e);
    REQUIRE(p >= 0);
    REQUIRE(p < c.periods);
    REQUIRE(e.value == 1.0f);
    const auto& support = truth.at({e.user, p});
    const auto labels = gen.item_labels(e.item);
    REQUIRE(std::any_of(labels.begin(), labels.end(),
                        [&](Index l) { return support.count(l) == 1; }));
  }
}

TEST_CASE("empirical label frequencies match the planted distribution (chi-square)",
          "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.users = 200;
  c.periods = 6;
  c.events_per_period = 200;
  c.activity_sigma = 0.3;
  c.labels_per_item = 1;  // an item's only label is the label that was drawn
  const DriftGenerator gen(c);
  const auto log = generate_drift_log(gen);
  std::map<std::pair<Index, Index>, std::map<Index, double>> counts;
  std::map<std::pair<Index, Index>, double> totals;
  for (const auto& e : log.events) {
    const auto key = std::make_pair(e.user, period_of(c, e));
    counts[key][gen.item_labels(e.item)[0]] += 1;
    totals[key] += 1;
  }
  // Given n events, the counts are multinomial(n, w): E[sum (O-E)^2/E] = |support| - 1.
  double chi2 = 0, dof = 0;
  for (const auto& [key, support] : truth_map(log)) {
    const double n = totals[key];
    if (n == 0) continue;
    for (const auto& [label, w] : support) {
      const double expected = n * w;
      const double observed = counts[key][label];
      chi2 += (observed - expected) * (observed - expected) / expected;
    }
    for (const auto& [label, o] : counts[key]) REQUIRE(support.count(label) == 1);
    dof += static_cast<double>(support.size()) - 1;
  }
  INFO("chi2 = " << chi2 << ", dof = " << dof);
  REQUIRE(dof > 1000);
  // sd(chi2 / dof) is about sqrt(2 / dof) < 0.05; a tolerance of 0.2 is over 4 sd.
  CHECK(chi2 / dof == Approx(1.0).margin(0.2));
}

TEST_CASE("interests drift: users gain labels absent from all their earlier periods",
          "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.users = 300;
  c.periods = 12;
  const auto truth = truth_map(generate_drift_log(DriftGenerator(c)));
  Index users_with_new = 0;
  double moved = 0;  // total variation between consecutive periods, summed
  for (Index u = 0; u < c.users; ++u) {
    std::set<Index> seen;
    bool gained = false;
    for (Index p = 0; p < c.periods; ++p) {
      const auto& s = truth.at({u, p});
      for (const auto& [label, w] : s)
        if (p > 0 && seen.count(label) == 0) gained = true;
      for (const auto& [label, w] : s) seen.insert(label);
      if (p > 0) {
        const auto& prev = truth.at({u, p - 1});
        std::set<Index> all;
        for (const auto& kv : s) all.insert(kv.first);
        for (const auto& kv : prev) all.insert(kv.first);
        for (Index l : all) {
          const double a = s.count(l) ? s.at(l) : 0.0;
          const double b = prev.count(l) ? prev.at(l) : 0.0;
          moved += 0.5 * std::abs(a - b);
        }
      }
    }
    users_with_new += gained;
  }
  // P(no jump in 11 periods) = 0.85^11 ~ 0.17, so most users gain a label.
  CHECK(users_with_new > c.users / 2);
  CHECK(moved / (c.users * (c.periods - 1)) > 0.05);

  // Without drift or jumps the planted interests never move.
  c.drift = 0;
  c.jump = 0;
  const auto still = truth_map(generate_drift_log(DriftGenerator(c)));
  for (Index u = 0; u < c.users; ++u)
    for (Index p = 1; p < c.periods; ++p) REQUIRE(still.at({u, p}) == still.at({u, 0}));
}

TEST_CASE("the number of events is near users x periods x the requested mean",
          "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.users = 2000;
  c.events_per_period = 7.5;
  const DriftGenerator gen(c);
  double activity = 0;
  for (Index u = 0; u < c.users; ++u) activity += gen.user_activity(u);
  CHECK(activity / c.users == Approx(1.0).epsilon(1e-9));  // rescaled to mean exactly 1
  const auto log = generate_drift_log(gen);
  const double expected = c.users * c.periods * c.events_per_period;  // 120000
  // Only Poisson noise remains: sd = sqrt(expected) ~ 0.3%.
  CHECK(static_cast<double>(log.events.size()) == Approx(expected).epsilon(0.02));
  // Heavy tails give gaps: some users are silent in some periods.
  std::set<std::pair<Index, Index>> active;
  for (const auto& e : log.events) active.insert({e.user, period_of(c, e)});
  CHECK(active.size() < static_cast<std::size_t>(c.users * c.periods));
}

TEST_CASE("item popularity is skewed: the top 1% of items get a large share of events",
          "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.items = 2000;
  c.popularity_exponent = 1.0;
  auto share_of_top = [](const DriftConfig& cfg) {
    const auto log = generate_drift_log(DriftGenerator(cfg));
    std::vector<double> count(static_cast<std::size_t>(cfg.items), 0.0);
    for (const auto& e : log.events) count[static_cast<std::size_t>(e.item)] += 1;
    std::sort(count.begin(), count.end(), std::greater<>());
    double top = 0, all = 0;
    for (std::size_t i = 0; i < count.size(); ++i) {
      all += count[i];
      if (i < count.size() / 100) top += count[i];
    }
    return top / all;
  };
  const double zipf = share_of_top(c);
  INFO("top 1% share with s = 1: " << zipf);
  CHECK(zipf > 0.2);  // about 0.35 in expectation; uniform would be about 0.01-0.02
  c.popularity_exponent = 0.0;
  const double flat = share_of_top(c);
  INFO("top 1% share with s = 0: " << flat);
  CHECK(flat < 0.1);
}

TEST_CASE("periods are aligned so that the slice spec recovers them exactly", "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.start = 1577836800 + 12345;  // not on a boundary
  c.events_per_period = 20;
  REQUIRE(c.first_period_begin() % c.period_seconds == 0);
  REQUIRE(c.first_period_begin() >= c.start);
  REQUIRE(c.first_period_begin() - c.start < c.period_seconds);
  REQUIRE(c.slice_spec() == "2592000s");
  const auto log = generate_drift_log(DriftGenerator(c));
  std::vector<Time> times;
  for (const auto& e : log.events) times.push_back(e.time);
  std::sort(times.begin(), times.end());
  REQUIRE(times.front() >= c.first_period_begin());
  REQUIRE(times.back() < c.end_time());
  const Periods periods = make_periods(Slicing::parse(c.slice_spec()), times);
  REQUIRE(periods.size() == static_cast<std::size_t>(c.periods));
  for (Index p = 0; p < c.periods; ++p) {
    CHECK(periods.begin[p] == c.period_begin(p));
    CHECK(periods.end[p] == c.period_begin(p + 1));
  }
}

TEST_CASE("items: every label has an item and exactly round(f x items) items are published",
          "[generator]") {
  auto c = small_config(driftrec::test::test_seed());
  c.items = 101;
  c.labels = 40;
  c.labelled_fraction = 0.3;
  const DriftGenerator gen(c);
  CHECK(gen.published_items() == 30);
  Index published = 0;
  std::vector<int> per_label(static_cast<std::size_t>(c.labels), 0);
  double popularity = 0;
  for (Index i = 0; i < c.items; ++i) {
    published += gen.item_published(i);
    popularity += gen.item_popularity(i);
    const auto labels = gen.item_labels(i);
    REQUIRE(labels.size() >= 1);
    REQUIRE(labels.size() <= static_cast<std::size_t>(c.labels_per_item));
    REQUIRE(std::is_sorted(labels.begin(), labels.end()));
    REQUIRE(std::adjacent_find(labels.begin(), labels.end()) == labels.end());
    for (Index l : labels) ++per_label[static_cast<std::size_t>(l)];
  }
  CHECK(published == 30);
  CHECK(popularity == Approx(1.0));
  CHECK(*std::min_element(per_label.begin(), per_label.end()) >= 1);
}

TEST_CASE("config validation names the option and what was expected", "[generator]") {
  auto expect_error = [](auto mutate, const std::string& option) {
    DriftConfig c;
    mutate(c);
    try {
      c.validate();
      FAIL("no driftrec::InputError for " << option);
    } catch (const driftrec::InputError& e) {
      CHECK_THAT(e.what(), Catch::Contains(option));
    }
  };
  expect_error([](DriftConfig& c) { c.users = 0; }, "--users");
  expect_error([](DriftConfig& c) { c.items = -5; }, "--items");
  expect_error([](DriftConfig& c) { c.labels = c.items + 1; }, "--labels");
  expect_error([](DriftConfig& c) { c.periods = 0; }, "--periods");
  expect_error([](DriftConfig& c) { c.labelled_fraction = 1.5; }, "--labelled-fraction");
  expect_error([](DriftConfig& c) { c.drift = std::nan(""); }, "--drift");
  expect_error([](DriftConfig& c) { c.jump = -0.1; }, "--jump");
  expect_error([](DriftConfig& c) { c.events_per_period = 0; }, "--events-per-period");
  expect_error([](DriftConfig& c) { c.labels_per_item = c.labels + 1; }, "--labels-per-item");
  expect_error([](DriftConfig& c) { c.period_seconds = 0; }, "--period-seconds");
  expect_error([](DriftConfig& c) { c.periods = 100000; c.period_seconds = 1LL << 40; },
               "--period");
  CHECK_NOTHROW(DriftConfig{}.validate());
  CHECK_THROWS_AS(DriftGenerator([] { DriftConfig c; c.users = 0; return c; }()), driftrec::InputError);
}

TEST_CASE("the random samplers have the right means and variances", "[generator]") {
  Rng rng(driftrec::test::test_seed(), 99, 0);
  const int n = 200000;
  for (double mean : {0.7, 4.0, 30.0, 1000.0}) {
    double s = 0, s2 = 0;
    for (int k = 0; k < n; ++k) {
      const auto x = static_cast<double>(rng.poisson(mean));
      s += x;
      s2 += x * x;
    }
    const double m = s / n, v = s2 / n - m * m;
    INFO("poisson(" << mean << "): mean " << m << " var " << v);
    CHECK(m == Approx(mean).epsilon(0.02));
    CHECK(v == Approx(mean).epsilon(0.05));
  }
  for (double shape : {0.3, 1.0, 16.0}) {
    double s = 0, s2 = 0;
    for (int k = 0; k < n; ++k) {
      const double x = rng.gamma(shape);
      s += x;
      s2 += x * x;
    }
    const double m = s / n, v = s2 / n - m * m;
    INFO("gamma(" << shape << "): mean " << m << " var " << v);
    CHECK(m == Approx(shape).epsilon(0.02));
    CHECK(v == Approx(shape).epsilon(0.06));
  }
  double below = 0;
  for (int k = 0; k < n; ++k) below += static_cast<double>(rng.below(10));
  CHECK(below / n == Approx(4.5).epsilon(0.01));
}

TEST_CASE("the generator refuses a negative thread count naming threads", "[generator]") {
  const auto c = small_config(1);
  CHECK_THROWS_AS(DriftGenerator(c, -1), driftrec::InputError);
  CHECK_THROWS_WITH(DriftGenerator(c, -1), Catch::Contains("threads"));
  const DriftGenerator g(c);
  CHECK_THROWS_WITH(generate_drift_log(g, -1), Catch::Contains("threads"));
}
