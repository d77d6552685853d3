// read_events, the serial reader that reports or skips every bad line (ingest's parallel
// reader, io/event_reader_parallel.cpp, hands a file with such a line to it), the value
// check both share, and read_event_columns for columns in memory. The file's layout comes
// from io/event_layout.cpp.
#include "io/event_reader.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "io/event_layout.hpp"

namespace driftrec::io {

NegativeValues parse_negative_values(std::string_view s) {
  if (s == "refuse") return NegativeValues::refuse;
  if (s == "drop") return NegativeValues::drop;
  if (s == "clip") return NegativeValues::clip;
  throw InputError(fmt::format("--negative: expected refuse, drop or clip, found '{}'", s));
}

std::string to_string(NegativeValues n) {
  switch (n) {
    case NegativeValues::refuse: return "refuse";
    case NegativeValues::drop: return "drop";
    case NegativeValues::clip: return "clip";
  }
  return "?";
}

ValueCheck check_value(double value, NegativeValues negative) {
  // Above FLT_MAX + half an ulp a value rounds to infinity as float32; 3.4028235e38, the
  // shortest spelling of FLT_MAX, is just above FLT_MAX as a double and stays a value.
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  constexpr double kRoundsToInfinity = kFloatMax + 0x1p103;
  ValueCheck c;
  if (!std::isfinite(value)) {
    c.kind = ValueCheck::bad;
    c.reason = "bad value";
    c.expected = "expected a finite number";
  } else if (std::abs(value) >= kRoundsToInfinity) {
    c.kind = ValueCheck::bad;
    c.reason = "bad value";
    c.expected = fmt::format("expected a number of magnitude at most {:.8g} (values are stored as float32)", kFloatMax);
  } else if (value < 0 && negative == NegativeValues::refuse) {
    c.kind = ValueCheck::bad;
    c.reason = "negative value";
    c.expected = "expected a value >= 0 (interactions are weights)";
    c.hint =
        "; if negative values mean dislike, say what to do with them: --negative drop skips those events, "
        "--negative clip counts them as 0";
  } else if (value < 0 && negative == NegativeValues::drop) {
    c.kind = ValueCheck::drop;
  } else if (value < 0) {
    c.clipped = true;
  } else {
    c.value = static_cast<float>(value);
  }
  return c;
}

void validate_event_options(const EventReadOptions& o) {
  static const std::set<std::string> kFormats = {"auto", "movielens-csv", "movielens-dat", "ml100k", "delimited"};
  if (!kFormats.count(o.format))
    throw InputError(fmt::format("--format: expected auto, movielens-csv, movielens-dat, ml100k or "
                                 "delimited, found '{}'",
                                 o.format));
  if (o.header != "auto" && o.header != "yes" && o.header != "no")
    throw InputError(fmt::format("--header: expected auto, yes or no, found '{}'", o.header));
  // One byte (quoted fields work), or MovieLens' "::"; a longer string is almost always a
  // mistake that would otherwise surface as "cannot tell which columns".
  if (const std::string d = unescape_delimiter(o.delimiter); !o.delimiter.empty() && d.size() != 1 && d != "::")
    throw InputError(fmt::format("--delimiter '{}': expected one character (such as ',' ';' '|'), tab, space, "
                                 "pipe or '::'",
                                 o.delimiter));
}

void read_events(const std::string& path, const EventReadOptions& o, EventLog& log) {
  LineReader reader(path);
  std::string_view line;
  bool any = false;
  while (reader.next(line))
    if (!trim(line).empty()) { any = true; break; }
  if (!any)
    throw InputError(fmt::format("{}: the file is empty; expected interaction lines (user, item, "
                                 "time[, value])",
                                 path));
  Layout L = resolve_layout(path, line, reader.line_number(), o);
  // Reserve from the first line's length: growing by doubling would briefly hold three
  // times the events (old and new buffers), the peak memory of the whole ingest.
  const std::uint64_t estimate = reader.file_size() / (line.size() + 1) * 11 / 10;
  log.events.reserve(log.events.size() + std::min<std::uint64_t>(estimate, std::uint64_t{1} << 34));
  if (L.col[kValue] < 0) log.has_value = false;

  std::vector<std::string_view> f;
  std::string scratch;
  std::string last_user;
  Index last_user_index = -1;
  struct Pending {
    std::size_t key_offset;  // user then item bytes in `keys`
    std::size_t user_len, item_len;
    std::uint64_t user_hash, item_hash;
    graph::Time time;
    float value;
  };
  constexpr std::size_t kBatch = 256;
  std::vector<Pending> batch;
  std::string keys;
  batch.reserve(kBatch);
  auto flush = [&] {
    for (const Pending& p : batch) {
      std::string_view u(keys.data() + p.key_offset, p.user_len);
      std::string_view i(keys.data() + p.key_offset + p.user_len, p.item_len);
      if (u != last_user) {  // logs are often grouped by user: skip the lookup
        last_user_index = log.users.find_or_add(u, p.user_hash);
        last_user.assign(u);
      }
      log.events.push_back({p.time, last_user_index, log.items.find_or_add(i, p.item_hash), p.value});
    }
    batch.clear();
    keys.clear();
  };
  const bool auto_time = L.time_format == TimeFormat::auto_detect;
  std::optional<TimeFormat> decided;  // auto: the format every time must be in
  std::string decided_where, decided_text;
  bool have_line = !L.header;  // the first line is data unless it is the header
  std::int64_t read_lines = 0;

  for (;;) {
    if (!have_line && !reader.next(line)) break;
    have_line = false;
    if (line.empty() || trim(line).empty()) continue;
    if (o.progress && (++read_lines & 0xFFFFF) == 0) o.progress(reader.bytes_consumed(), reader.file_size());

    // A problem with the line: fail with the whole story, or count it and move on.
    auto bad = [&](const std::string& reason, const std::string& message) {
      if (o.on_error == OnError::fail) throw InputError(fmt::format("{}: {}", reader.where(), message));
      log.skipped.add(reason, reader.where());
    };
    auto bad_field = [&](int role, const std::string& expected, std::string_view found) {
      int c = L.col[role];
      bad(fmt::format("bad {} in column '{}'", kRoleNames[role], L.names[c]),
          fmt::format("field '{}' (column {}, the {}): {}, found '{}'", L.names[c], c + 1,
                      kRoleNames[role], expected, excerpt(found)));
    };

    if (L.header && line == L.header_line) {
      bad("duplicate header", "the header line appears again; expected data");
      continue;
    }
    if (!split_fields(line, L.delim, f, scratch)) {
      bad("bad quoting", "a quoted field is not closed, or text follows its closing quote");
      continue;
    }
    if (f.size() != L.n_fields) {
      bad(f.size() < L.n_fields ? "missing fields" : "extra fields",
          fmt::format("expected {} fields separated by '{}', found {}", L.n_fields,
                      L.delim == "\t" ? "\\t" : L.delim, f.size()));
      continue;
    }
    std::string_view u = trim(f[L.col[kUser]]);
    std::string_view i = trim(f[L.col[kItem]]);
    std::string_view t = trim(f[L.col[kTime]]);
    if (auto p = id_problem(u); !p.empty()) { bad_field(kUser, p, u); continue; }
    if (auto p = id_problem(i); !p.empty()) { bad_field(kItem, p, i); continue; }

    // "auto": the first time that parses proposes the format (so one bad first row cannot
    // decide it) and every later time must be in the same one: a file that mixes seconds,
    // milliseconds or dates is refused naming two lines, never read in the wrong unit.
    const TimeFormat own = auto_time ? detect_time_format(t) : L.time_format;
    bool out_of_range = false;
    std::optional<graph::Time> time = parse_time(t, own, out_of_range);
    if (time && auto_time) {
      if (!decided) {
        decided = own;
        decided_where = reader.where();
        decided_text = std::string(t);
        log.notes.push_back(fmt::format("{}: times read as {} (detected at line {}; every line checked to agree)",
                                        path, describe(own), reader.line_number()));
      } else if (own != *decided) {
        throw InputError(fmt::format(
            "{}: the times are not all in one format: {} has '{}', {}, but {} has '{}', {}; pass "
            "--time-format {} or --time-format {} to say which (lines in the other format are then "
            "refused, or skipped with --on-error skip)",
            path, decided_where, excerpt(decided_text), describe(*decided), reader.where(), excerpt(t),
            describe(own), to_string(*decided), to_string(own)));
      }
    }
    if (!time) {
      if (out_of_range)
        bad_field(kTime, "expected a time between 1900-01-01 and 9999-12-31", t);
      else
        bad_field(kTime, "expected " + describe(decided ? *decided : own), t);
      continue;
    }
    float value = 1.0f;
    if (L.col[kValue] >= 0) {
      std::string_view v = trim(f[L.col[kValue]]);
      double number = 0;
      if (!parse_number(v, number)) { bad_field(kValue, "expected a finite number", v); continue; }
      const ValueCheck check = check_value(number, o.negative);
      if (check.kind == ValueCheck::bad) {
        bad(fmt::format("{} in column '{}'", check.reason, L.names[L.col[kValue]]),
            fmt::format("field '{}' (column {}, the value): {}, found '{}'{}", L.names[L.col[kValue]],
                        L.col[kValue] + 1, check.expected, excerpt(v), check.hint));
        continue;
      }
      if (check.kind == ValueCheck::drop) { ++log.negative_dropped; continue; }
      log.negative_clipped += check.clipped;
      value = check.value;
      // The text read straight as float32, as before the checks: no double rounding.
      if (!check.clipped) parse_finite_float(v, value);
    }
    // Ids are resolved a batch at a time, after their slots were prefetched.
    const std::uint64_t hu = IdMap::hash(u), hi = IdMap::hash(i);
    log.users.prefetch(hu);
    log.items.prefetch(hi);
    batch.push_back({keys.size(), u.size(), i.size(), hu, hi, *time, value});
    keys.append(u);
    keys.append(i);
    if (batch.size() == kBatch) flush();
  }
  flush();
  if (o.progress) o.progress(reader.file_size(), reader.file_size());
  log.notes.push_back(fmt::format("{}: format {}, {} lines{}", path, L.format, reader.line_number(),
                                  L.header ? " with a header" : ""));
}

void read_event_columns(const EventColumnsIn& in, OnError on_error, EventLog& log, NegativeValues negative) {
  const std::size_t n = in.user.size();
  if (in.item.size() != n || in.time.size() != n || (!in.value.empty() && in.value.size() != n))
    throw InputError(fmt::format("events: the columns differ in length: user {}, item {}, time {}{}", n,
                                 in.item.size(), in.time.size(),
                                 in.value.empty() ? "" : fmt::format(", value {}", in.value.size())));
  if (in.value.empty()) log.has_value = false;
  log.events.reserve(log.events.size() + n);
  std::string user_scratch, item_scratch;
  std::size_t bad_rows = 0;
  for (std::size_t r = 0; r < n; ++r) {
    // A problem with the row: fail naming the column and row, or count it and move on.
    auto bad = [&](const char* column, const std::string& expected, const std::string& found,
                   const std::string& hint = "") {
      if (on_error == OnError::fail)
        throw InputError(fmt::format("{}[{}]: {}, found '{}'{}", column, r, expected, found, hint));
      log.skipped.add(fmt::format("bad {}", column), fmt::format("row {}", r));
      ++bad_rows;
    };
    const std::string_view u = in.user.at(r, user_scratch);
    const std::string_view i = in.item.at(r, item_scratch);
    if (auto p = id_problem(u); !p.empty()) { bad("user", p, excerpt(u)); continue; }
    if (auto p = id_problem(i); !p.empty()) { bad("item", p, excerpt(i)); continue; }
    const graph::Time t = in.time[r];
    if (t < kMinTime || t > kMaxTime) {
      bad("time", "expected Unix seconds between 1900-01-01 and 9999-12-31", std::to_string(t));
      continue;
    }
    float value = 1.0f;
    if (!in.value.empty()) {
      const ValueCheck check = check_value(in.value[r], negative);
      if (check.kind == ValueCheck::bad) {
        bad("value", check.expected, fmt::format("{}", in.value[r]), check.hint);
        continue;
      }
      if (check.kind == ValueCheck::drop) { ++log.negative_dropped; continue; }
      log.negative_clipped += check.clipped;
      value = check.value;
    }
    log.events.push_back({t, log.users.find_or_add(u), log.items.find_or_add(i), value});
  }
  log.notes.push_back(fmt::format("in-memory columns: {} rows{}", n,
                                  bad_rows ? fmt::format(", {} skipped", bad_rows) : std::string()));
}


}  // namespace driftrec::io
