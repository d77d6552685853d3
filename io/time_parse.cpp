#include "io/time_parse.hpp"

#include <fmt/format.h>

#include "graph/slicing.hpp"
#include "io/text.hpp"

namespace driftrec::io {

TimeFormat parse_time_format(std::string_view s) {
  if (s == "auto") return TimeFormat::auto_detect;
  if (s == "seconds" || s == "s") return TimeFormat::seconds;
  if (s == "millis" || s == "ms") return TimeFormat::millis;
  if (s == "iso") return TimeFormat::iso;
  throw InputError(
      fmt::format("--time-format: expected auto, seconds, millis or iso, found '{}'", s));
}

std::string to_string(TimeFormat f) {
  switch (f) {
    case TimeFormat::auto_detect: return "auto";
    case TimeFormat::seconds: return "seconds";
    case TimeFormat::millis: return "millis";
    case TimeFormat::iso: return "iso";
  }
  return "?";
}

std::string describe(TimeFormat f) {
  switch (f) {
    case TimeFormat::auto_detect: return "a time";
    case TimeFormat::seconds: return "Unix seconds (an integer)";
    case TimeFormat::millis: return "Unix milliseconds (an integer)";
    case TimeFormat::iso: return "an ISO-8601 date or date-time (2018-09-24 or 2018-09-24T13:05:00Z)";
  }
  return "?";
}

TimeFormat detect_time_format(std::string_view field) {
  field = trim(field);
  if (field.size() >= 8 && field.find('-', 1) != std::string_view::npos) return TimeFormat::iso;
  std::int64_t v;
  if (parse_int64(field, v) && (v >= 100000000000LL || v <= -100000000000LL))
    return TimeFormat::millis;
  return TimeFormat::seconds;
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<Time> parse_iso8601(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap(y))) return std::nullopt;
  std::size_t p = 10;
  Time offset = 0;
  if (p < s.size() && (s[p] == 'T' || s[p] == ' ')) {
    if (!digits(s, p + 1, 2, h) || p + 3 >= s.size() || s[p + 3] != ':' || !digits(s, p + 4, 2, mi))
      return std::nullopt;
    p += 6;
    if (p < s.size() && s[p] == ':') {
      if (!digits(s, p + 1, 2, se)) return std::nullopt;
      p += 3;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {  // fractions are dropped
        ++p;
        std::size_t start = p;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') ++p;
        if (p == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;  // 60: a leap second
    if (p < s.size()) {
      if (s[p] == 'Z' && p + 1 == s.size()) {
        p += 1;
      } else if (s[p] == '+' || s[p] == '-') {
        int oh, om = 0;
        if (!digits(s, p + 1, 2, oh)) return std::nullopt;
        std::size_t q = p + 3;
        if (q < s.size()) {  // minutes, with or without a colon
          if (s[q] == ':') ++q;
          if (!digits(s, q, 2, om)) return std::nullopt;
          q += 2;
        }
        if (q != s.size() || oh > 23 || om > 59) return std::nullopt;
        offset = (s[p] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        p = q;
      }
    }
  }
  if (p != s.size()) return std::nullopt;
  return graph::days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se - offset;
}

std::optional<Time> parse_time(std::string_view field, TimeFormat format, bool& out_of_range) {
  out_of_range = false;
  std::optional<Time> t;
  std::int64_t v;
  switch (format) {
    case TimeFormat::seconds:
      if (parse_int64(field, v)) t = v;
      break;
    case TimeFormat::millis:
      // Floor division keeps times before 1970 in the right second.
      if (parse_int64(field, v)) t = v / 1000 - (v % 1000 < 0 ? 1 : 0);
      break;
    case TimeFormat::iso: t = parse_iso8601(field); break;
    case TimeFormat::auto_detect: break;
  }
  if (t && (*t < kMinTime || *t > kMaxTime)) {
    out_of_range = true;
    return std::nullopt;
  }
  return t;
}

}  // namespace driftrec::io
