// Cutting time into periods. A slicing names a rule (calendar unit in UTC, fixed length
// in seconds, or equal-count quantiles of the events); the periods of a log are the
// rule's non-empty periods [begin, end) in time order, so gaps in a log cost nothing.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::graph {

struct Slicing {
  enum class Kind { day, week, month, quarter, year, seconds, quantiles };
  Kind kind = Kind::month;
  std::int64_t n = 1;  // the N of "<N>s" and "quantiles:<N>"

  // Parses "day|week|month|quarter|year|<N>s|quantiles:<N>"; throws InputError naming
  // the accepted forms.
  static Slicing parse(std::string_view spec);
  std::string spec() const;
};

struct Periods {
  std::vector<Time> begin;  // inclusive
  std::vector<Time> end;    // exclusive
  std::size_t size() const { return begin.size(); }
};

// More periods than this is almost always a mistake (1s slices over years of data), and
// each period costs a users+1 offset array in the store.
inline constexpr std::size_t kMaxPeriods = 100000;

// The non-empty periods of `slicing` over `sorted_times` (ascending). Weeks start on
// Monday 00:00 UTC; "<N>s" periods are aligned to the Unix epoch. "quantiles:N" cuts the
// n events into N groups of as equal size as possible (group k holds events
// floor(k n / N) .. floor((k+1) n / N) - 1) and starts a period at the time of each
// group's first event; events that share a time stay in one period, so ties merge
// groups. Hence at most min(N, distinct times) periods: exactly min(N, n) when all times
// differ, and one period per distinct time whenever N >= n. Throws InputError if there
// would be more than kMaxPeriods.
Periods make_periods(const Slicing& slicing, std::span<const Time> sorted_times);

// first[k] = index of the first time in period k, first[size] = times.size().
std::vector<std::size_t> period_offsets(const Periods& periods,
                                        std::span<const Time> sorted_times);

// Calendar helpers (proleptic Gregorian, UTC), exposed for tests and parsers.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t days, std::int64_t& y, unsigned& m, unsigned& d);

}  // namespace driftrec::graph
