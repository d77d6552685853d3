#include "io/event_layout.hpp"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "io/text.hpp"

namespace driftrec::io {
namespace {

// Header names we recognise for each role (compared case-insensitively).
const std::array<std::vector<std::string>, kRoles> kSynonyms = {{
    {"user", "userid", "user_id", "uid", "customer", "customerid", "customer_id", "visitorid",
     "visitor_id"},
    {"item", "itemid", "item_id", "iid", "movieid", "movie_id", "productid", "product_id",
     "trackid", "track_id", "artistid", "artist_id"},
    {"time", "timestamp", "ts", "date", "datetime", "time_stamp", "created_at"},
    {"value", "rating", "weight", "count", "plays", "playcount", "score"},
}};

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

}  // namespace

std::string unescape_delimiter(const std::string& d) {
  if (d == "tab" || d == "\\t") return "\t";
  if (d == "space") return " ";
  if (d == "pipe") return "|";
  return d;
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


}  // namespace driftrec::io
