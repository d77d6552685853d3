#include <catch2/catch.hpp>
#include <algorithm>
#include <ctime>
#include <map>
#include <random>

#include "graph/slicing.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

namespace {
// Reference: the C library's UTC calendar (gmtime_r) for a time's year/month/day.
std::tm utc(Time t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm out{};
  gmtime_r(&tt, &out);
  return out;
}
Time timegm_ref(int y, int m, int d) {
  std::tm x{};
  x.tm_year = y - 1900;
  x.tm_mon = m - 1;
  x.tm_mday = d;
  return static_cast<Time>(timegm(&x));
}
}  // namespace

TEST_CASE("civil date conversions agree with the C library", "[graph][slicing]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int k = 0; k < 20000; ++k) {
    Time t = static_cast<Time>(rng() % 6000000000ULL) - 2000000000LL;  // 1906 .. 2096
    std::tm ref = utc(t);
    std::int64_t y;
    unsigned m, d;
    Time days = t / 86400 - (t % 86400 < 0);
    civil_from_days(days, y, m, d);
    REQUIRE(y == ref.tm_year + 1900);
    REQUIRE(static_cast<int>(m) == ref.tm_mon + 1);
    REQUIRE(static_cast<int>(d) == ref.tm_mday);
    REQUIRE(days_from_civil(y, m, d) == days);
  }
}

TEST_CASE("Slicing parses every documented form and rejects others", "[graph][slicing]") {
  REQUIRE(Slicing::parse("month").kind == Slicing::Kind::month);
  REQUIRE(Slicing::parse("86400s").n == 86400);
  REQUIRE(Slicing::parse("quantiles:4").n == 4);
  for (const char* s : {"day", "week", "month", "quarter", "year", "3600s", "quantiles:10"})
    REQUIRE(Slicing::parse(s).spec() == s);
  for (const char* s : {"", "monthly", "0s", "-5s", "s", "quantiles:", "quantiles:0", "12"})
    REQUIRE_THROWS_AS(Slicing::parse(s), driftrec::InputError);
}

TEST_CASE("calendar periods start where the calendar says and skip empty ones", "[graph][slicing]") {
  // 2020-01-31 23:59:59, 2020-02-01 00:00:00, 2020-02-29 12:00, 2020-05-02.
  std::vector<Time> t = {timegm_ref(2020, 1, 31) + 86399, timegm_ref(2020, 2, 1),
                         timegm_ref(2020, 2, 29) + 43200, timegm_ref(2020, 5, 2)};
  Periods m = make_periods(Slicing::parse("month"), t);
  REQUIRE(m.size() == 3);  // January, February, May: March and April are empty
  REQUIRE(m.begin == std::vector<Time>{timegm_ref(2020, 1, 1), timegm_ref(2020, 2, 1), timegm_ref(2020, 5, 1)});
  REQUIRE(m.end == std::vector<Time>{timegm_ref(2020, 2, 1), timegm_ref(2020, 3, 1), timegm_ref(2020, 6, 1)});
  REQUIRE(period_offsets(m, t) == std::vector<std::size_t>{0, 1, 3, 4});

  Periods q = make_periods(Slicing::parse("quarter"), t);
  REQUIRE(q.begin == std::vector<Time>{timegm_ref(2020, 1, 1), timegm_ref(2020, 4, 1)});
  REQUIRE(q.end == std::vector<Time>{timegm_ref(2020, 4, 1), timegm_ref(2020, 7, 1)});

  Periods y = make_periods(Slicing::parse("year"), t);
  REQUIRE(y.begin == std::vector<Time>{timegm_ref(2020, 1, 1)});
  REQUIRE(y.end == std::vector<Time>{timegm_ref(2021, 1, 1)});

  // Weeks start on Monday: 2020-01-31 was a Friday, so its week began Monday 2020-01-27.
  Periods w = make_periods(Slicing::parse("week"), t);
  REQUIRE(w.begin.front() == timegm_ref(2020, 1, 27));
  REQUIRE(w.end.front() == timegm_ref(2020, 2, 3));
  REQUIRE(w.size() == 3);  // the first two times share a week

  Periods d = make_periods(Slicing::parse("day"), t);
  REQUIRE(d.size() == 4);
  REQUIRE(d.begin[1] == timegm_ref(2020, 2, 1));
}

TEST_CASE("every time falls in exactly one period of a random slicing", "[graph][slicing]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  const char* specs[] = {"day", "week", "month", "quarter", "year", "3600s", "604800s", "quantiles:7"};
  for (const char* spec : specs) {
    std::vector<Time> t(2000);
    for (auto& x : t) x = static_cast<Time>(rng() % 400000000ULL) - 100000000LL;
    std::sort(t.begin(), t.end());
    Periods p = make_periods(Slicing::parse(spec), t);
    auto first = period_offsets(p, t);
    INFO(spec);
    for (std::size_t k = 0; k < p.size(); ++k) {
      REQUIRE(first[k] < first[k + 1]);  // non-empty
      for (std::size_t j = first[k]; j < first[k + 1]; ++j) {
        REQUIRE(t[j] >= p.begin[k]);
        REQUIRE(t[j] < p.end[k]);
      }
      if (k > 0) REQUIRE(p.begin[k] >= p.end[k - 1]);
    }
    REQUIRE(first.back() == t.size());
  }
}

TEST_CASE("quantile slicing splits events into near-equal counts and merges ties", "[graph][slicing]") {
  std::vector<Time> t;
  for (int k = 0; k < 100; ++k) t.push_back(k);
  Periods p = make_periods(Slicing::parse("quantiles:4"), t);
  REQUIRE(p.begin == std::vector<Time>{0, 25, 50, 75});
  REQUIRE(p.end == std::vector<Time>{25, 50, 75, 100});
  std::vector<Time> ties(10, 5);
  Periods one = make_periods(Slicing::parse("quantiles:3"), ties);
  REQUIRE(one.size() == 1);
  REQUIRE(one.end[0] == 6);
}

TEST_CASE("a slicing with too many periods is refused with advice", "[graph][slicing]") {
  std::vector<Time> t;
  for (Time k = 0; k < static_cast<Time>(kMaxPeriods) + 5; ++k) t.push_back(k * 10);
  REQUIRE_THROWS_WITH(make_periods(Slicing::parse("1s"), t), Catch::Contains("coarser"));
}

TEST_CASE("a slicing typo ending in s gets the list of accepted forms", "[graph][slicing]") {
  CHECK_THROWS_WITH(Slicing::parse("weeks"), Catch::Contains("expected one of day, week"));
  CHECK_THROWS_WITH(Slicing::parse("bogus"), Catch::Contains("expected one of day, week"));
}

namespace {
// Reference for quantiles:N, straight from the definition: event i is in group k, the
// last k in 0..N-1 whose first index floor(k n / N) is <= i (found by scanning every k);
// events sharing a time go to the last group holding that time; each non-empty group is a
// period from its earliest time to the next period's begin (the last ends after the last
// event).
Periods quantile_periods_reference(const std::vector<Time>& t, std::int64_t groups) {
  const auto n = static_cast<std::int64_t>(t.size());
  std::vector<std::int64_t> group(t.size(), 0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < groups; ++k)
      if (k * n / groups <= i) group[static_cast<std::size_t>(i)] = k;
  std::map<std::int64_t, Time> begin_of;  // group -> earliest time in it
  for (std::size_t i = 0; i < t.size(); ++i) {
    std::int64_t g = 0;
    for (std::size_t j = 0; j < t.size(); ++j)
      if (t[j] == t[i]) g = std::max(g, group[j]);
    auto [it, fresh] = begin_of.emplace(g, t[i]);
    if (!fresh) it->second = std::min(it->second, t[i]);
  }
  Periods p;
  for (const auto& [g, b] : begin_of) p.begin.push_back(b);
  for (std::size_t k = 0; k < p.begin.size(); ++k)
    p.end.push_back(k + 1 < p.begin.size() ? p.begin[k + 1] : t.back() + 1);
  return p;
}
}  // namespace

TEST_CASE("quantile slicing matches the brute-force definition for every N up to twice the events",
          "[graph][slicing]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    const std::size_t n = 1 + rng() % 40;
    // Few distinct times in some trials (many ties), all distinct in others.
    const std::uint64_t span = trial % 3 == 0 ? 1 + rng() % 5 : trial % 3 == 1 ? 1 + n : 1000000;
    std::vector<Time> t(n);
    for (Time& x : t) x = 1600000000 + static_cast<Time>(rng() % span) * 3600;
    std::sort(t.begin(), t.end());
    std::vector<Time> unique_times = t;
    unique_times.erase(std::unique(unique_times.begin(), unique_times.end()), unique_times.end());
    for (std::int64_t groups = 1; groups <= static_cast<std::int64_t>(2 * n); ++groups) {
      CAPTURE(trial, n, groups, t);
      const Periods got = make_periods(Slicing{Slicing::Kind::quantiles, groups}, t);
      const Periods want = quantile_periods_reference(t, groups);
      REQUIRE(got.begin == want.begin);
      REQUIRE(got.end == want.end);
      // The documented counts.
      REQUIRE(got.size() <= std::min<std::size_t>(static_cast<std::size_t>(groups), unique_times.size()));
      if (unique_times.size() == n) REQUIRE(got.size() == std::min<std::size_t>(static_cast<std::size_t>(groups), n));
      if (groups >= static_cast<std::int64_t>(n)) REQUIRE(got.begin == unique_times);
    }
  }
}

TEST_CASE("quantile slicing with more groups than events gives every event time its own period",
          "[graph][slicing]") {
  // The reported case: 10 events on 10 days.
  std::vector<Time> t;
  for (Time d = 0; d < 10; ++d) t.push_back(1600041600 + d * 86400);
  for (std::int64_t groups : std::vector<std::int64_t>{10, 11, 20, 100, 1000000000000}) {
    CAPTURE(groups);
    const Periods p = make_periods(Slicing{Slicing::Kind::quantiles, groups}, t);
    CHECK(p.begin == t);
  }
  CHECK(make_periods(Slicing{Slicing::Kind::quantiles, 5}, t).size() == 5);
}
