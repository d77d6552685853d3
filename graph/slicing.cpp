#include "graph/slicing.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace driftrec::graph {
namespace {

constexpr Time kDay = 86400;
__extension__ typedef unsigned __int128 U128;  // k * n of the quantile index cannot overflow

Time floor_div(Time a, Time b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Start of the period holding t, and the start of the one after it.
Time period_floor(const Slicing& s, Time t) {
  using K = Slicing::Kind;
  Time days = floor_div(t, kDay);
  std::int64_t y;
  unsigned m, d;
  switch (s.kind) {
    case K::day: return days * kDay;
    case K::week: {
      // 1970-01-01 was a Thursday: (days + 3) mod 7 is the weekday counted from Monday.
      Time monday = days - ((days % 7 + 7 + 3) % 7);
      return monday * kDay;
    }
    case K::month: civil_from_days(days, y, m, d); return days_from_civil(y, m, 1) * kDay;
    case K::quarter:
      civil_from_days(days, y, m, d);
      return days_from_civil(y, (m - 1) / 3 * 3 + 1, 1) * kDay;
    case K::year: civil_from_days(days, y, m, d); return days_from_civil(y, 1, 1) * kDay;
    case K::seconds: return floor_div(t, s.n) * s.n;
    case K::quantiles: break;
  }
  throw std::logic_error("period_floor: quantile slicing has no calendar");
}

Time period_next(const Slicing& s, Time start) {
  using K = Slicing::Kind;
  std::int64_t y;
  unsigned m, d;
  switch (s.kind) {
    case K::day: return start + kDay;
    case K::week: return start + 7 * kDay;
    case K::month:
    case K::quarter: {
      civil_from_days(floor_div(start, kDay), y, m, d);
      unsigned step = s.kind == K::month ? 1 : 3;
      unsigned nm = m + step;
      if (nm > 12) { nm -= 12; ++y; }
      return days_from_civil(y, nm, 1) * kDay;
    }
    case K::year:
      civil_from_days(floor_div(start, kDay), y, m, d);
      return days_from_civil(y + 1, 1, 1) * kDay;
    case K::seconds: return start + s.n;
    case K::quantiles: break;
  }
  throw std::logic_error("period_next: quantile slicing has no calendar");
}

std::int64_t parse_positive(std::string_view digits, std::string_view spec) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v <= 0)
    throw InputError(fmt::format("slicing '{}': expected a positive integer, found '{}'", spec,
                                 digits));
  return v;
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
}

Slicing Slicing::parse(std::string_view spec) {
  using K = Slicing::Kind;
  if (spec == "day") return {K::day, 1};
  if (spec == "week") return {K::week, 1};
  if (spec == "month") return {K::month, 1};
  if (spec == "quarter") return {K::quarter, 1};
  if (spec == "year") return {K::year, 1};
  if (spec.starts_with("quantiles:"))
    return {K::quantiles, parse_positive(spec.substr(10), spec)};
  const std::string_view digits = spec.substr(0, spec.empty() ? 0 : spec.size() - 1);
  if (spec.size() > 1 && spec.back() == 's' &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return {K::seconds, parse_positive(digits, spec)};
  throw InputError(fmt::format(
      "slicing '{}': expected one of day, week, month, quarter, year, <N>s (e.g. 86400s) or "
      "quantiles:<N>",
      spec));
}

std::string Slicing::spec() const {
  using K = Slicing::Kind;
  switch (kind) {
    case K::day: return "day";
    case K::week: return "week";
    case K::month: return "month";
    case K::quarter: return "quarter";
    case K::year: return "year";
    case K::seconds: return fmt::format("{}s", n);
    case K::quantiles: return fmt::format("quantiles:{}", n);
  }
  return "?";
}

Periods make_periods(const Slicing& slicing, std::span<const Time> times) {
  Periods p;
  if (times.empty()) return p;
  auto push = [&](Time b, Time e) {
    if (p.size() == kMaxPeriods)
      throw InputError(fmt::format("slicing '{}' gives more than {} non-empty periods; choose a "
                                   "coarser slicing",
                                   slicing.spec(), kMaxPeriods));
    p.begin.push_back(b);
    p.end.push_back(e);
  };
  if (slicing.kind == Slicing::Kind::quantiles) {
    // Group k of the N equal-count groups is events [floor(k n / N), floor((k+1) n / N));
    // its period starts at the time of its first event. Events sharing a time stay in one
    // period, so equal start times merge periods. With N >= n every event starts a group,
    // so every distinct time gets its own period; stepping k only while k < n (as before)
    // would stop after the first n groups, a fraction n / N of the log's starts.
    const auto n = static_cast<std::uint64_t>(times.size());
    const auto groups = static_cast<std::uint64_t>(slicing.n);
    std::vector<Time> starts;
    const std::uint64_t steps = std::min(groups, n);
    for (std::uint64_t k = 0; k < steps; ++k) {
      const std::uint64_t first = groups >= n ? k : static_cast<std::uint64_t>(static_cast<U128>(k) * n / groups);
      const Time b = times[static_cast<std::size_t>(first)];
      if (starts.empty() || b > starts.back()) starts.push_back(b);
    }
    for (std::size_t k = 0; k < starts.size(); ++k)
      push(starts[k], k + 1 < starts.size() ? starts[k + 1] : times.back() + 1);
    return p;
  }
  Time end = 0;
  bool open = false;
  for (Time t : times) {
    if (open && t < end) continue;
    Time b = period_floor(slicing, t);
    end = period_next(slicing, b);
    push(b, end);
    open = true;
  }
  return p;
}

std::vector<std::size_t> period_offsets(const Periods& periods, std::span<const Time> times) {
  std::vector<std::size_t> first(periods.size() + 1, times.size());
  for (std::size_t k = 0; k < periods.size(); ++k)
    first[k] = static_cast<std::size_t>(
        std::lower_bound(times.begin(), times.end(), periods.begin[k]) - times.begin());
  return first;
}

}  // namespace driftrec::graph
