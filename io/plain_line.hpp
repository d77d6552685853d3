// The fast path of the parallel reader (io/event_reader_parallel.cpp) for the lines most
// logs are made of: fields of printable ASCII with no space, tab or quote, times and values
// as plain decimal integers. Each function takes only input on which the general functions
// (split_fields, trim, id_problem, parse_time, parse_number + check_value +
// parse_finite_float) agree with it, and leaves anything else to them; the test
// (tests/io/plain_line_test.cpp) holds them to that on random lines.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

namespace driftrec::io {

// Splits `line` at the byte `delim` into `fields` (views into `line`), and returns whether
// every other byte is printable ASCII ('!' to '~') other than '"': then no field is quoted
// or needs trimming, and split_fields would give the same fields. `fields` is unspecified
// when it returns false.
inline bool split_plain(std::string_view line, char delim, std::vector<std::string_view>& fields) {
  fields.clear();
  const char* p = line.data();
  const char* const end = p + line.size();
  const char* start = p;
  unsigned bad = 0;
  for (; p < end; ++p) {
    const char c = *p;
    if (c == delim) {
      fields.emplace_back(start, static_cast<std::size_t>(p - start));
      start = p + 1;
      continue;
    }
    const auto u = static_cast<unsigned char>(c);
    bad |= static_cast<unsigned>(u - 0x21u >= 0x5eu) | static_cast<unsigned>(u == '"');
  }
  fields.emplace_back(start, static_cast<std::size_t>(end - start));
  return bad == 0;
}

// `s` as an integer when it is 1 to 18 decimal digits after an optional '-' (parse_int64
// reads those the same); false for anything else.
inline bool plain_integer(std::string_view s, std::int64_t& out) {
  std::size_t k = 0;
  const bool negative = !s.empty() && s[0] == '-';
  k = negative ? 1 : 0;
  if (s.size() == k || s.size() - k > 18) return false;
  std::int64_t v = 0;
  for (; k < s.size(); ++k) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(s[k]) - '0');
    if (d > 9) return false;
    v = v * 10 + static_cast<std::int64_t>(d);
  }
  out = negative ? -v : v;
  return true;
}

// `s` as a float when it is 1 to 7 decimal digits (below 2^24, so exact in float32; no
// sign, so never -0): the value check keeps it as it is.
inline bool plain_count(std::string_view s, float& out) {
  if (s.empty() || s.size() > 7) return false;
  std::uint32_t v = 0;
  for (const char c : s) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(c) - '0');
    if (d > 9) return false;
    v = v * 10 + d;
  }
  out = static_cast<float>(v);
  return true;
}

}  // namespace driftrec::io
