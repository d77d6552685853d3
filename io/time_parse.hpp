// Times in logs: Unix seconds, Unix milliseconds, or ISO-8601 dates and date-times.
// Everything becomes int64 Unix seconds (UTC). "auto" (io/event_reader.cpp) takes the
// format of the first time that parses and checks every later time against it with
// detect_time_format, so a file that mixes seconds, milliseconds and dates is refused
// naming two lines rather than read in the wrong unit.
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "graph/types.hpp"

namespace driftrec::io {

using graph::Time;

enum class TimeFormat { auto_detect, seconds, millis, iso };

TimeFormat parse_time_format(std::string_view s);  // auto|seconds|s|millis|ms|iso
std::string to_string(TimeFormat f);
std::string describe(TimeFormat f);  // "Unix seconds (integer)" etc., for messages

// Accepted range: 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
inline constexpr Time kMinTime = -2208988800LL;
inline constexpr Time kMaxTime = 253402300799LL;

// Guess the format of one field: ISO if it looks like a date, milliseconds if it is an
// integer of magnitude >= 10^11 (year 5138 in seconds, 1973 in milliseconds), else seconds.
TimeFormat detect_time_format(std::string_view field);

// Parses `field` in `format` (not auto). Returns an empty optional for a malformed field;
// `out_of_range` tells a well-formed time outside [kMinTime, kMaxTime].
std::optional<Time> parse_time(std::string_view field, TimeFormat format, bool& out_of_range);

// YYYY-MM-DD[(T| )HH:MM[:SS[.fff]]][Z|(+|-)HH[:MM]]
std::optional<Time> parse_iso8601(std::string_view s);

}  // namespace driftrec::io
