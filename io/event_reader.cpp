#include "io/event_reader.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::io {
namespace {

enum Role { kUser, kItem, kTime, kValue, kRoles };
constexpr std::array<const char*, kRoles> kRoleNames = {"user", "item", "time", "value"};

// Header names we recognise for each role (compared case-insensitively).
const std::array<std::vector<std::string>, kRoles> kSynonyms = {{
    {"user", "userid", "user_id", "uid", "customer", "customerid", "customer_id", "visitorid",
     "visitor_id"},
    {"item", "itemid", "item_id", "iid", "movieid", "movie_id", "productid", "product_id",
     "trackid", "track_id", "artistid", "artist_id"},
    {"time", "timestamp", "ts", "date", "datetime", "time_stamp", "created_at"},
    {"value", "rating", "weight", "count", "plays", "playcount", "score"},
}};

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

std::string unescape_delimiter(const std::string& d) {
  if (d == "tab" || d == "\\t") return "\t";
  if (d == "space") return " ";
  if (d == "pipe") return "|";
  return d;
}

std::string guess_delimiter(std::string_view line) {
  for (const char* d : {"::", "\t", ",", ";", "|"})
    if (line.find(d) != std::string_view::npos) return d;
  return ",";
}

int synonym_role(std::string_view name) {
  std::string l = ascii_lower(trim(name));
  for (int r = 0; r < kRoles; ++r)
    if (std::find(kSynonyms[r].begin(), kSynonyms[r].end(), l) != kSynonyms[r].end()) return r;
  return -1;
}

// Resolves --columns against the header (if any). Positions are 1-based.
void apply_columns_spec(const std::string& path, const std::string& spec,
                        const std::vector<std::string_view>& header, Layout& L) {
  std::vector<std::string_view> parts;
  std::string scratch;
  split_fields(spec, ",", parts, scratch);
  bool keyed = std::any_of(parts.begin(), parts.end(),
                           [](std::string_view p) { return p.find('=') != std::string_view::npos; });
  if (!keyed && (parts.size() < 3 || parts.size() > 4))
    throw InputError(fmt::format("--columns '{}': expected user,item,time[,value] or "
                                 "user=...,item=...,time=...[,value=...]",
                                 spec));
  for (std::size_t k = 0; k < parts.size(); ++k) {
    std::string_view part = trim(parts[k]);
    int role = static_cast<int>(k);
    std::string_view ref = part;
    if (keyed) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos)
        throw InputError(fmt::format("--columns '{}': '{}' is not of the form role=column", spec, part));
      std::string key = ascii_lower(trim(part.substr(0, eq)));
      auto it = std::find(kRoleNames.begin(), kRoleNames.end(), key);
      if (it == kRoleNames.end())
        throw InputError(fmt::format("--columns '{}': unknown role '{}'; expected user, item, time "
                                     "or value",
                                     spec, key));
      role = static_cast<int>(it - kRoleNames.begin());
      ref = trim(part.substr(eq + 1));
    }
    int col = -1;
    std::int64_t pos;
    for (std::size_t c = 0; c < header.size(); ++c)
      if (trim(header[c]) == ref) col = static_cast<int>(c);
    if (col < 0 && parse_int64(ref, pos)) {
      if (pos < 1 || pos > 100000)
        throw InputError(fmt::format("--columns '{}': position {} must be between 1 and 100000", spec, pos));
      col = static_cast<int>(pos - 1);
    }
    if (col < 0)
      throw InputError(fmt::format("--columns '{}': {} has no column named '{}'{}", spec, path, ref,
                                   header.empty() ? " (it has no header; give 1-based positions)"
                                                  : ""));
    if (L.col[role] >= 0)
      throw InputError(fmt::format("--columns '{}': the {} is given twice", spec, kRoleNames[role]));
    for (int other = 0; other < kRoles; ++other)
      if (L.col[other] == col)
        throw InputError(fmt::format("--columns '{}': one column cannot be both the {} and the {}", spec,
                                     kRoleNames[other], kRoleNames[role]));
    L.col[role] = col;
  }
  for (int r : {kUser, kItem, kTime})
    if (L.col[r] < 0)
      throw InputError(fmt::format("--columns '{}': no column given for the {}", spec, kRoleNames[r]));
}

Layout resolve_layout(const std::string& path, std::string_view first, std::int64_t first_line,
                      const EventReadOptions& o) {
  Layout L;
  std::string fname = std::filesystem::path(path).filename().string();
  std::string format = o.format;
  if (format == "auto") {
    // The fixed MovieLens layouts only when the user described none of the file.
    const bool described = !o.columns.empty() || !o.delimiter.empty() || o.header != "auto" ||
                           o.time_format != TimeFormat::auto_detect;
    if (!described && (fname == "ratings.dat" || first.find("::") != std::string_view::npos))
      format = "movielens-dat";
    else if (!described && fname == "u.data")
      format = "ml100k";
    else
      format = "delimited";
  }
  L.format = format;
  if (format == "movielens-dat" || format == "ml100k") {
    L.delim = format == "ml100k" ? "\t" : "::";
    L.col = {0, 1, 3, 2};
    L.n_fields = 4;
    L.names = {"user", "item", "rating", "timestamp"};
    L.time_format = TimeFormat::seconds;
    return L;
  }
  if (format == "movielens-csv") {
    L.delim = ",";
    if (first != "userId,movieId,rating,timestamp")
      throw InputError(fmt::format("{}:{}: expected the MovieLens header "
                                   "'userId,movieId,rating,timestamp', found '{}'",
                                   path, first_line, excerpt(first)));
  } else if (format != "delimited") {
    throw InputError(fmt::format("--format: expected auto, movielens-csv, movielens-dat, ml100k "
                                 "or delimited, found '{}'",
                                 format));
  } else {
    L.delim = o.delimiter.empty() ? guess_delimiter(first) : unescape_delimiter(o.delimiter);
  }
  std::vector<std::string_view> fields;
  std::string scratch;
  if (!split_fields(first, L.delim, fields, scratch))
    throw InputError(fmt::format("{}:{}: a quoted field is not closed, or text follows its closing quote", path, first_line));

  int synonyms_found = 0;
  std::array<int, kRoles> by_name{-1, -1, -1, -1};
  for (std::size_t c = 0; c < fields.size(); ++c) {
    int r = synonym_role(fields[c]);
    if (r >= 0 && by_name[r] < 0) {
      by_name[r] = static_cast<int>(c);
      ++synonyms_found;
    }
  }
  if (o.header == "yes" || format == "movielens-csv")
    L.header = true;
  else if (o.header == "no")
    L.header = false;
  else if (o.header == "auto") {
    L.header = synonyms_found >= 2;
    if (!L.header && !o.columns.empty()) {  // a header is there if --columns names its fields
      std::vector<std::string_view> refs;
      std::string spec_scratch;
      split_fields(o.columns, ",", refs, spec_scratch);
      for (std::string_view ref : refs) {
        if (auto eq = ref.find('='); eq != std::string_view::npos) ref = ref.substr(eq + 1);
        ref = trim(ref);
        std::int64_t position;
        if (parse_int64(ref, position)) continue;  // a position, not a name
        for (auto f : fields)
          if (trim(f) == ref) L.header = true;
      }
    }
  } else {
    throw InputError(fmt::format("--header: expected auto, yes or no, found '{}'", o.header));
  }
  L.n_fields = fields.size();
  if (format == "delimited" && first == "userId,movieId,rating,timestamp") L.format = "movielens-csv";
  if (L.header) {
    L.header_line = std::string(first);
    for (auto f : fields) L.names.emplace_back(trim(f));
  } else {
    for (std::size_t c = 0; c < fields.size(); ++c) L.names.push_back(fmt::format("column {}", c + 1));
  }
  if (!o.columns.empty()) {
    apply_columns_spec(path, o.columns, L.header ? fields : std::vector<std::string_view>{}, L);
  } else if (L.header && by_name[kUser] >= 0 && by_name[kItem] >= 0 && by_name[kTime] >= 0) {
    L.col = by_name;
  } else {
    throw InputError(fmt::format(
        "{}: cannot tell which columns hold the user, item and time{}; pass --columns "
        "user=<name or position>,item=...,time=...[,value=...] (positions start at 1)",
        path, L.header ? fmt::format(" from the header '{}'", excerpt(first)) : " (no header line)"));
  }
  for (int r = 0; r < kRoles; ++r)
    if (L.col[r] >= static_cast<int>(L.n_fields))
      throw InputError(fmt::format("--columns: the {} column is {} but {}'s first line has {} fields",
                                   kRoleNames[r], L.col[r] + 1, path, L.n_fields));
  L.time_format = o.time_format;
  return L;
}

}  // namespace

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


namespace {

// The ids of one part of a file, numbered in two steps so that the table lookups of many
// rows overlap instead of waiting on one cache miss each: code() while the lines are read,
// then resolve() over the part's rows turns codes into local ids (in order of first
// appearance, as one IdMap would number them). Logs mostly number their ids ("u123",
// "i77", "42"): an id that is the part's first id's leading non-digits followed by a decimal
// number (no leading zero, below kDense) has that number as its code and a dense table
// finds it; any other id goes through an IdMap. name() gives back an id's text.
class PartIds {
 public:
  static constexpr std::uint32_t kDense = 1u << 22;
  std::uint32_t code(std::string_view id) {
    if (!prefix_) prefix_ = std::string(id.substr(0, id.find_first_of("0123456789")));
    std::uint32_t number = 0;
    if (numbered(id, number)) {
      if (number >= dense_.size()) dense_.resize(std::min<std::size_t>(kDense, std::max<std::size_t>(number + 1, 2 * dense_.size())), -1);
      return number;
    }
    const Index j = other_.find_or_add(id);
    if (static_cast<std::size_t>(j) == other_local_.size()) other_local_.push_back(-1);
    DRIFTREC_THROW_IF_NOT(static_cast<std::uint64_t>(j) + kDense <= std::numeric_limits<Index>::max(),
                          "more distinct ids than driftrec indexes with 32 bits");
    return kDense + static_cast<std::uint32_t>(j);
  }
  void resolve(Index* codes, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      const auto c = static_cast<std::uint32_t>(codes[k]);
      Index& slot = c < kDense ? dense_[c] : other_local_[c - kDense];
      if (slot < 0) {
        slot = size();
        what_.push_back(c < kDense ? static_cast<std::int64_t>(c) : -1 - static_cast<std::int64_t>(c - kDense));
      }
      codes[k] = slot;
    }
  }
  Index size() const { return static_cast<Index>(what_.size()); }
  std::string name(Index local) const {
    const std::int64_t w = what_[static_cast<std::size_t>(local)];
    if (w >= 0) return *prefix_ + std::to_string(w);
    return std::string(other_.name(static_cast<Index>(-1 - w)));
  }

 private:
  bool numbered(std::string_view id, std::uint32_t& number) const {
    if (id.size() <= prefix_->size() || id.size() > prefix_->size() + 7 || !id.starts_with(*prefix_)) return false;
    const std::string_view digits = id.substr(prefix_->size());
    if (digits.size() > 1 && digits[0] == '0') return false;  // "u007" is not "u7"
    std::uint32_t n = 0;
    for (const char c : digits) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (n >= kDense) return false;
    number = n;
    return true;
  }
  std::optional<std::string> prefix_;  // fixed by the first id
  std::vector<Index> dense_;           // number -> local id, -1: not seen
  IdMap other_;
  std::vector<Index> other_local_;     // other_'s index -> local id, -1: not seen
  std::vector<std::int64_t> what_;     // local id -> its number, or -1 - its index in other_
};

// One byte range of a file, read by one thread of read_events_parallel.
struct Part {
  std::uint64_t begin = 0, end = 0;  // bytes [begin, end): whole lines
  std::uint64_t first_row = 0;       // where its rows start in the columns
  std::uint64_t capacity = 0;        // rows reserved for it: its line count
  std::uint64_t rows = 0;            // events read
  std::int64_t lines = 0;            // lines read, blank ones too
  std::optional<TimeFormat> format;  // auto: the format of its first time
  std::int64_t format_line = 0;      // the line of that time within the part (1-based)
  std::int64_t negative_dropped = 0, negative_clipped = 0;
  PartIds users, items;  // the part's own ids, in order of first appearance in it
  bool simple = true;  // false: it has a line to leave to read_events
};

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Bytes [pos, pos + want) of fd into `to`; false on a read error or a short file.
bool read_at(int fd, char* to, std::size_t want, std::uint64_t pos) {
  while (want > 0) {
    const ssize_t got = ::pread(fd, to, want, static_cast<off_t>(pos));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    to += got;
    pos += static_cast<std::uint64_t>(got);
    want -= static_cast<std::size_t>(got);
  }
  return true;
}

// Calls f(line) for each line of bytes [begin, end) of fd (without its \n or \r\n), as
// LineReader cuts them. False when f does, on a read error, or on a line longer than
// kMaxLineBytes (read_events then names the problem).
template <class F>
bool for_each_line(int fd, std::uint64_t begin, std::uint64_t end, F&& f) {
  constexpr std::size_t kBlock = std::size_t{4} << 20;
  static_assert(kBlock > 2 * kMaxLineBytes);
  std::vector<char> buf(kBlock);
  std::uint64_t pos = begin;
  std::size_t have = 0;  // unread bytes at the start of buf
  auto one = [&](const char* s, std::size_t len) {
    if (len > kMaxLineBytes) return false;
    if (len > 0 && s[len - 1] == '\r') --len;
    return f(std::string_view(s, len));
  };
  while (pos < end) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock - have, end - pos));
    if (!read_at(fd, buf.data() + have, want, pos)) return false;
    have += want;
    pos += want;
    std::size_t at = 0;
    for (;;) {
      const char* s = buf.data() + at;
      const auto* nl = static_cast<const char*>(std::memchr(s, '\n', have - at));
      if (nl == nullptr) break;
      if (!one(s, static_cast<std::size_t>(nl - s))) return false;
      at += static_cast<std::size_t>(nl - s) + 1;
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
    if (have > kMaxLineBytes) return false;
  }
  return have == 0 || one(buf.data(), have);  // a last line without its \n
}

// The first line start at or after `pos` (the byte after a \n), or `end`.
std::optional<std::uint64_t> line_start_after(int fd, std::uint64_t pos, std::uint64_t end) {
  if (pos >= end) return end;
  std::vector<char> buf(kMaxLineBytes + 2);
  const std::uint64_t from = pos - 1;  // pos > 0: a part never starts the file
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - from));
  if (!read_at(fd, buf.data(), want, from)) return std::nullopt;
  const auto* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', want));
  if (nl == nullptr) return want == end - from ? std::optional<std::uint64_t>(end) : std::nullopt;
  return from + static_cast<std::uint64_t>(nl - buf.data()) + 1;
}

std::optional<std::uint64_t> count_lines(int fd, std::uint64_t begin, std::uint64_t end) {
  constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::vector<char> buf(kBlock);
  std::uint64_t lines = 1;  // a last line without its \n
  for (std::uint64_t pos = begin; pos < end;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, end - pos));
    if (!read_at(fd, buf.data(), want, pos)) return std::nullopt;
    lines += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + want, '\n'));
    pos += want;
  }
  return lines;
}

// Reads the lines of one part into rows [first_row, first_row + capacity) of `out`, with
// the part's own ids. Returns false at the first line read_events would not read as a
// plain event (it then reads the whole file and reports or skips that line).
bool read_part(int fd, const Layout& L, const EventReadOptions& o, Part& part, graph::EventColumns& out,
               const std::atomic<bool>& stop) {
  std::vector<std::string_view> f;
  std::string scratch;
  std::string last_user;
  Index last_user_code = -1;
  const bool auto_time = L.time_format == TimeFormat::auto_detect;
  std::uint64_t row = part.first_row;
  const std::uint64_t row_end = part.first_row + part.capacity;
  const bool simple = for_each_line(fd, part.begin, part.end, [&](std::string_view line) {
    ++part.lines;
    if (line.empty() || trim(line).empty()) return true;
    if ((part.lines & 0xFFFF) == 0 && stop.load(std::memory_order_relaxed)) return false;
    if (L.header && line == L.header_line) return false;
    if (!split_fields(line, L.delim, f, scratch) || f.size() != L.n_fields) return false;
    const std::string_view u = trim(f[L.col[kUser]]);
    const std::string_view i = trim(f[L.col[kItem]]);
    const std::string_view t = trim(f[L.col[kTime]]);
    if (!id_problem(u).empty() || !id_problem(i).empty()) return false;
    const TimeFormat own = auto_time ? detect_time_format(t) : L.time_format;
    bool out_of_range = false;
    const std::optional<graph::Time> time = parse_time(t, own, out_of_range);
    if (!time) return false;
    if (auto_time) {
      if (!part.format) {
        part.format = own;
        part.format_line = part.lines;
      } else if (own != *part.format) {
        return false;
      }
    }
    float value = 1.0f;
    if (L.col[kValue] >= 0) {
      const std::string_view v = trim(f[L.col[kValue]]);
      double number = 0;
      if (!parse_number(v, number)) return false;
      const ValueCheck check = check_value(number, o.negative);
      if (check.kind == ValueCheck::bad) return false;
      if (check.kind == ValueCheck::drop) {
        ++part.negative_dropped;
        return true;
      }
      part.negative_clipped += check.clipped;
      value = check.value;
      if (!check.clipped) parse_finite_float(v, value);
    }
    if (u != last_user) {
      last_user_code = static_cast<Index>(part.users.code(u));
      last_user.assign(u);
    }
    DRIFTREC_ASSERT(row < row_end);
    out.time[row] = *time;
    out.user[row] = last_user_code;
    out.item[row] = static_cast<Index>(part.items.code(i));
    out.value[row] = value;
    ++row;
    ++part.rows;
    return true;
  });
  if (!simple) return false;
  part.users.resolve(out.user.data() + part.first_row, part.rows);
  part.items.resolve(out.item.data() + part.first_row, part.rows);
  return true;
}

// Local ids of the parts -> the log's: each part's ids in their order of first appearance,
// parts in file order, which is the order one reader of the whole file would number them.
// An empty map for a part means its local ids are the log's already.
std::vector<std::vector<Index>> merge_ids(std::vector<Part>& parts, IdMap& global, PartIds Part::*local) {
  std::vector<std::vector<Index>> map(parts.size());
  for (std::size_t p = 0; p < parts.size(); ++p) {
    PartIds& m = parts[p].*local;
    const Index before = global.size();
    auto& to = map[p];
    to.resize(static_cast<std::size_t>(m.size()));
    bool same = true;
    for (Index j = 0; j < m.size(); ++j) {
      const Index g = global.find_or_add(m.name(j));
      to[static_cast<std::size_t>(j)] = g;
      same = same && g == j;
    }
    if (same && before == 0) to.clear();  // the first part of the first file: nothing to rewrite
    m = PartIds();
  }
  return map;
}

}  // namespace

bool read_events_parallel(const std::string& path, const EventReadOptions& o, int threads, EventLog& log,
                          graph::EventColumns& out, std::uint64_t min_part_bytes) {
  core::check_threads(threads);
  Layout L;
  std::uint64_t data_begin = 0, size = 0;
  std::int64_t base_line = 0;  // lines before data_begin
  {
    LineReader reader(path);
    std::string_view line;
    std::uint64_t before = 0;
    bool any = false;
    for (;;) {
      before = reader.bytes_consumed();
      if (!reader.next(line)) break;
      if (!trim(line).empty()) {
        any = true;
        break;
      }
    }
    if (!any) return false;  // read_events says the file is empty
    L = resolve_layout(path, line, reader.line_number(), o);
    size = reader.file_size();
    data_begin = L.header ? reader.bytes_consumed() : before;
    base_line = L.header ? reader.line_number() : reader.line_number() - 1;
  }
  if (L.delim.size() != 1) return false;
  Fd fd(path);
  if (fd.get() < 0) return false;
  if (data_begin == 0 && size >= 3) {  // LineReader drops a byte order mark
    char head[3];
    if (!read_at(fd.get(), head, 3, 0)) return false;
    if (std::string_view(head, 3) == "\xEF\xBB\xBF") data_begin = 3;
  }

  // Parts of whole lines, one a thread; a small file is one part.
  const int team = core::thread_count(threads);
  const std::uint64_t bytes = size - data_begin;
  const std::size_t n_parts = bytes < min_part_bytes ? 1 : static_cast<std::size_t>(team);
  std::vector<Part> parts(n_parts);
  std::uint64_t at = data_begin;
  for (std::size_t p = 0; p < n_parts; ++p) {
    parts[p].begin = at;
    if (p + 1 == n_parts) {
      at = size;
    } else {
      const auto cut = line_start_after(fd.get(), std::max(at, data_begin + bytes * (p + 1) / n_parts), size);
      if (!cut) return false;
      at = *cut;
    }
    parts[p].end = at;
  }
  core::ParallelFor per_part{threads, core::Schedule::dynamic};
  per_part.parallel = n_parts > 1;
  std::atomic<bool> failed{false};
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    Part& part = parts[static_cast<std::size_t>(p)];
    const auto lines = count_lines(fd.get(), part.begin, part.end);
    if (!lines) failed = true;
    part.capacity = lines.value_or(0);
  });
  if (failed) return false;

  const std::size_t old_rows = out.size();
  std::uint64_t rows = old_rows;
  for (Part& part : parts) {
    part.first_row = rows;
    rows += part.capacity;
  }
  out.time.resize(rows);
  out.user.resize(rows);
  out.item.resize(rows);
  out.value.resize(rows);
  auto give_up = [&] {
    out.time.resize(old_rows);
    out.user.resize(old_rows);
    out.item.resize(old_rows);
    out.value.resize(old_rows);
    return false;
  };
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    Part& part = parts[static_cast<std::size_t>(p)];
    part.simple = read_part(fd.get(), L, o, part, out, failed);
    if (!part.simple) failed = true;
  });
  if (failed) return give_up();
  // "auto": every time of the file in the format of its first one, as read_events wants.
  const Part* first_timed = nullptr;
  for (const Part& part : parts)
    if (part.format) {
      if (first_timed && *part.format != *first_timed->format) return give_up();
      if (!first_timed) first_timed = &part;
    }

  // Commit: global ids, then the rows of the parts made contiguous.
  const auto user_map = merge_ids(parts, log.users, &Part::users);
  const auto item_map = merge_ids(parts, log.items, &Part::items);
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    const Part& part = parts[static_cast<std::size_t>(p)];
    const auto& um = user_map[static_cast<std::size_t>(p)];
    const auto& im = item_map[static_cast<std::size_t>(p)];
    for (std::uint64_t r = part.first_row; r < part.first_row + part.rows; ++r) {
      if (!um.empty()) out.user[r] = um[static_cast<std::size_t>(out.user[r])];
      if (!im.empty()) out.item[r] = im[static_cast<std::size_t>(out.item[r])];
    }
  });
  std::uint64_t to = old_rows;
  std::int64_t lines = base_line, format_line = 0;
  for (const Part& part : parts) {
    if (&part == first_timed) format_line = lines + part.format_line;
    lines += part.lines;
    if (part.first_row != to) {
      const auto from = static_cast<std::ptrdiff_t>(part.first_row), n = static_cast<std::ptrdiff_t>(part.rows);
      const auto dst = static_cast<std::ptrdiff_t>(to);
      std::copy(out.time.begin() + from, out.time.begin() + from + n, out.time.begin() + dst);
      std::copy(out.user.begin() + from, out.user.begin() + from + n, out.user.begin() + dst);
      std::copy(out.item.begin() + from, out.item.begin() + from + n, out.item.begin() + dst);
      std::copy(out.value.begin() + from, out.value.begin() + from + n, out.value.begin() + dst);
    }
    to += part.rows;
    log.negative_dropped += part.negative_dropped;
    log.negative_clipped += part.negative_clipped;
  }
  out.time.resize(to);
  out.user.resize(to);
  out.item.resize(to);
  out.value.resize(to);
  if (L.col[kValue] < 0) log.has_value = false;
  if (first_timed)
    log.notes.push_back(fmt::format("{}: times read as {} (detected at line {}; every line checked to agree)", path,
                                    describe(*first_timed->format), format_line));
  log.notes.push_back(fmt::format("{}: format {}, {} lines{}", path, L.format, lines, L.header ? " with a header" : ""));
  if (o.progress) o.progress(size, size);
  return true;
}

}  // namespace driftrec::io
