// How the lines of an interaction log are laid out: the format, delimiter, header and
// which column holds the user, item, time and value. resolve_layout reads it off the
// first line and the options; the serial reader (io/event_reader.cpp) and the parallel
// one (io/event_reader_parallel.cpp) share it, so both read a file the same way.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "io/event_reader.hpp"

namespace driftrec::io {

enum Role { kUser, kItem, kTime, kValue, kRoles };
constexpr std::array<const char*, kRoles> kRoleNames = {"user", "item", "time", "value"};

struct Layout {
  std::string format;
  std::string delim;
  bool header = false;
  std::string header_line;
  std::vector<std::string> names;  // column names for messages
  std::array<int, kRoles> col{-1, -1, -1, -1};
  std::size_t n_fields = 0;
  TimeFormat time_format = TimeFormat::auto_detect;
};

// "tab", "\\t", "space", "pipe" as the character they name; anything else as it is.
std::string unescape_delimiter(const std::string& d);

// The layout of `path` from its first non-blank line (line number `first_line`) and the
// options. Throws InputError naming the option or the line when the columns cannot be told.
Layout resolve_layout(const std::string& path, std::string_view first, std::int64_t first_line,
                      const EventReadOptions& o);

}  // namespace driftrec::io
