#include <catch2/catch.hpp>
#include <algorithm>
#include <random>

#include "graph/events.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

TEST_CASE("sort_events orders by (time, user, item) and keeps ties in input order", "[graph][events]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  std::vector<Event> e(5000);
  for (std::size_t k = 0; k < e.size(); ++k)
    e[k] = {static_cast<Time>(rng() % 50), static_cast<Index>(rng() % 5), static_cast<Index>(rng() % 5), static_cast<float>(k)};
  std::vector<Event> ref = e;
  std::stable_sort(ref.begin(), ref.end(), event_before);  // the serial reference
  sort_events(e);
  REQUIRE(events_sorted(e));
  for (std::size_t k = 0; k < e.size(); ++k) REQUIRE(e[k].value == ref[k].value);
}

TEST_CASE("slice_matrix counts events or sums their values", "[graph][events]") {
  std::vector<Event> e{{10, 0, 1, 2.5f}, {11, 0, 1, 1.0f}, {12, 1, 0, 4.0f}, {20, 1, 1, 3.0f}};
  EventColumns c = to_columns(std::move(e));
  REQUIRE(c.size() == 4);
  CsrMatrix count = slice_matrix(c, 0, 3, 2, 2, Aggregate::count);
  REQUIRE(count.indptr == std::vector<Offset>{0, 1, 2});
  REQUIRE(count.indices == std::vector<Index>{1, 0});
  REQUIRE(count.data == std::vector<float>{2.0f, 1.0f});
  CsrMatrix sum = slice_matrix(c, 0, 3, 2, 2, Aggregate::sum);
  REQUIRE(sum.data == std::vector<float>{3.5f, 4.0f});
  REQUIRE(parse_aggregate("count") == Aggregate::count);
  REQUIRE_THROWS_AS(parse_aggregate("mean"), driftrec::InputError);
}

TEST_CASE("sort_events handles times spread over centuries and negative times", "[graph][events]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  std::vector<Event> e(20000);
  for (std::size_t k = 0; k < e.size(); ++k)
    e[k] = {static_cast<Time>(rng() % 10000000000ULL) - 2000000000LL, static_cast<Index>(rng() % 3),
            static_cast<Index>(rng() % 3), static_cast<float>(k)};
  e[17].time = e[4000].time;  // at least one tie
  std::vector<Event> ref = e;
  std::stable_sort(ref.begin(), ref.end(), event_before);
  sort_events(e);
  for (std::size_t k = 0; k < e.size(); ++k) REQUIRE(e[k].value == ref[k].value);
}

namespace {
// The sorted columns hold the reference's events, field by field, in its order.
void require_order(const EventColumns& c, const std::vector<Event>& ref) {
  REQUIRE(c.size() == ref.size());
  for (std::size_t k = 0; k < ref.size(); ++k) {
    CAPTURE(k);
    REQUIRE(c.time[k] == ref[k].time);
    REQUIRE(c.user[k] == ref[k].user);
    REQUIRE(c.item[k] == ref[k].item);
    REQUIRE(c.value[k] == ref[k].value);
  }
}
}  // namespace

// sort_columns against std::stable_sort of Event records (the serial reference), on
// narrow and century-wide time spans (the 32-bit offset path and the 64-bit one), with
// repeated (time, user, item) triples whose input order must survive.
TEST_CASE("sort_columns gives sort_events' order on random events", "[graph][events]") {
  const auto seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  for (const std::uint64_t span : {std::uint64_t{1}, std::uint64_t{60}, std::uint64_t{100000}, std::uint64_t{40000000000}}) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{1000}, std::size_t{70000}}) {
      for (const int threads : {1, 2, 3}) {
        CAPTURE(seed, span, n, threads);
        std::vector<Event> e(n);
        for (std::size_t k = 0; k < n; ++k)
          e[k] = {static_cast<Time>(rng() % span) - 3000000000LL, static_cast<Index>(rng() % 7),
                  static_cast<Index>(rng() % 5), static_cast<float>(k)};
        std::vector<Event> ref = e;
        std::stable_sort(ref.begin(), ref.end(), event_before);
        EventColumns c = to_columns(std::move(e));
        sort_columns(c, threads);
        require_order(c, ref);
      }
    }
  }
}

TEST_CASE("sort_columns sorts a crowd of events at one time by user, item and input order", "[graph][events]") {
  const auto seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  CAPTURE(seed);
  const std::size_t n = (std::size_t{1} << 20) + 5000;  // one bucket past the key-copy limit
  std::vector<Event> e(n);
  for (std::size_t k = 0; k < n; ++k)
    e[k] = {42, static_cast<Index>(rng() % 1000), static_cast<Index>(rng() % 50), static_cast<float>(k)};
  e.push_back({41, 3, 3, -1.0f});
  std::vector<Event> ref = e;
  std::stable_sort(ref.begin(), ref.end(), event_before);
  EventColumns c = to_columns(std::move(e));
  sort_columns(c, 2);
  for (std::size_t k = 0; k < ref.size(); ++k) REQUIRE(c.value[k] == ref[k].value);
}

// Both ways sort_columns sorts, against std::stable_sort of Event records: keys packed in
// 64 bits (63 and 64 bits exactly: time, user and item ranges of 2^26, 2^19 and 2^18 as
// in a generated 10^7-event log, and one bit more of time), and wider fields (ids over the
// whole 32-bit range, negative ones too), which take the buckets of row indices. Enough
// rows for the scatter by the key's top bits to make several buckets.
TEST_CASE("sort_columns orders packed keys and wide fields as std::stable_sort does", "[graph][events]") {
  const auto seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  struct Shape {
    std::uint64_t span, users, items;
    std::int64_t id_base;
  };
  const Shape shapes[] = {
      {std::uint64_t{1} << 26, std::uint64_t{1} << 19, std::uint64_t{1} << 18, 0},    // 63 bits
      {std::uint64_t{1} << 27, std::uint64_t{1} << 19, std::uint64_t{1} << 18, 0},    // 64 bits
      {std::uint64_t{1} << 40, std::uint64_t{1} << 32, std::uint64_t{1} << 32, -(std::int64_t{1} << 31)},  // wider
      {1000, 3, 2, -5},                                                               // many ties
  };
  for (const Shape& s : shapes) {
    for (const std::size_t n : {std::size_t{5000}, std::size_t{300000}}) {
      const int threads = 1 + static_cast<int>(rng() % 3);
      CAPTURE(seed, s.span, s.users, s.items, n, threads);
      std::vector<Event> e(n);
      for (std::size_t k = 0; k < n; ++k)
        e[k] = {static_cast<Time>(rng() % s.span) + 1500000000, static_cast<Index>(static_cast<std::int64_t>(rng() % s.users) + s.id_base),
                static_cast<Index>(static_cast<std::int64_t>(rng() % s.items) + s.id_base), static_cast<float>(k)};
      // The extremes of every field, so the ranges are the whole of each shape's.
      e[1] = {1500000000, static_cast<Index>(s.id_base), static_cast<Index>(s.id_base), 1.0f};
      e[2] = {static_cast<Time>(s.span - 1) + 1500000000, static_cast<Index>(static_cast<std::int64_t>(s.users - 1) + s.id_base),
              static_cast<Index>(static_cast<std::int64_t>(s.items - 1) + s.id_base), 2.0f};
      e[3] = e[n / 2];  // an exact tie, whose input order must survive
      std::vector<Event> ref = e;
      std::stable_sort(ref.begin(), ref.end(), event_before);
      EventColumns c = to_columns(std::move(e));
      sort_columns(c, threads);
      require_order(c, ref);
    }
  }
}
