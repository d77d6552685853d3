#include "io/label_reader.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include <fmt/format.h>

namespace driftrec::io {
namespace {

// Collects entries, dropping repeated (item, label) pairs.
class Collector {
 public:
  Collector(const IdMap& items, ItemLabels& out) : items_(items), out_(out) {}
  // Returns false (and counts it) if the item has no events.
  Index item(std::string_view id) {
    Index i = items_.find(id);
    if (i < 0) ++out_.unknown_item_rows;
    return i;
  }
  // Repeated pairs stay until drop_repeated_pairs().
  void add(Index item, std::string_view label, float weight) {
    out_.entries.push_back({item, out_.labels.find_or_add(label), weight});
  }
  // Drops the rows that repeat an earlier (item, label) pair and counts them. Once, after
  // the file: a sort of the pairs holds 8 bytes a pair for a moment, where a hash set of
  // the pairs met held about 40 through the whole read, at ingest's peak (the event
  // columns and id maps are alive then).
  void drop_repeated_pairs() {
    std::vector<graph::Triplet>& e = out_.entries;
    auto key = [](const graph::Triplet& t) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(t.row)) << 32 | static_cast<std::uint32_t>(t.col);
    };
    {
      std::vector<std::uint64_t> keys(e.size());
      for (std::size_t r = 0; r < e.size(); ++r) keys[r] = key(e[r]);
      std::sort(keys.begin(), keys.end());
      if (std::adjacent_find(keys.begin(), keys.end()) == keys.end()) return;  // the usual case
    }
    std::vector<std::pair<std::uint64_t, std::size_t>> at(e.size());  // (pair, row)
    for (std::size_t r = 0; r < e.size(); ++r) at[r] = {key(e[r]), r};
    std::sort(at.begin(), at.end());
    std::vector<char> repeated(e.size(), 0);
    for (std::size_t k = 1; k < at.size(); ++k)
      if (at[k].first == at[k - 1].first) repeated[at[k].second] = 1;  // not the pair's first row
    std::size_t kept = 0;
    for (std::size_t r = 0; r < e.size(); ++r)
      if (!repeated[r]) e[kept++] = e[r];
    out_.duplicate_pairs += static_cast<std::int64_t>(e.size() - kept);
    e.resize(kept);
  }
  // The format has titles: every item starts with none ("").
  void expect_titles() { out_.titles.assign(static_cast<std::size_t>(items_.size()), std::string()); }
  // Records a non-empty `title` for `item`. Returns the item's earlier, different title
  // (which stays), or nullptr.
  const std::string* title(Index item, std::string_view title) {
    if (title.empty()) return nullptr;
    std::string& slot = out_.titles[static_cast<std::size_t>(item)];
    if (slot.empty()) {
      slot = title;
      return nullptr;
    }
    return slot == title ? nullptr : &slot;
  }

 private:
  const IdMap& items_;
  ItemLabels& out_;
};

struct Context {
  LineReader& reader;
  const LabelReadOptions& opts;
  ItemLabels& out;
  // Fails, or counts the line as skipped; the caller then moves to the next line.
  void bad(const std::string& reason, const std::string& message) const {
    if (opts.on_error == OnError::fail)
      throw InputError(fmt::format("{}: {}", reader.where(), message));
    out.skipped.add(reason, reader.where());
  }
};

bool next_nonblank(LineReader& r, std::string_view& line) {
  while (r.next(line))
    if (!trim(line).empty()) return true;
  return false;
}

// What is wrong with a title, or "". An empty title is no title, not a problem.
std::string title_problem(std::string_view title) {
  if (title.size() > kMaxTitleBytes) return fmt::format("expected a title of at most {} bytes", kMaxTitleBytes);
  if (!valid_utf8(title)) return "expected a title in UTF-8";
  if (title.find('\0') != std::string_view::npos) return "expected a title without NUL bytes";
  return {};
}

// MovieLens 100K's u.item is ISO-8859-1 ("Mis\xe9rables, Les (1995)"), where every byte is
// the code point of the same value.
std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(2 * s.size());
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

constexpr std::string_view kMovieLensHeader = "movieId,title,genres";

// `first` views the reader's buffer: valid only until the next read.
void read_movielens(LineReader& r, std::string_view first, const Context& cx, Collector& col) {
  if (first != kMovieLensHeader)
    throw InputError(fmt::format("{}: expected the MovieLens header 'movieId,title,genres', "
                                 "found '{}'",
                                 r.where(), excerpt(first)));
  std::vector<std::string_view> f, genres;
  std::string scratch, scratch2;
  std::string_view line;
  col.expect_titles();
  while (next_nonblank(r, line)) {
    if (line == kMovieLensHeader) { cx.bad("duplicate header", "the header line appears again; expected data"); continue; }
    if (!split_fields(line, ",", f, scratch)) {
      cx.bad("bad quoting", "a quoted field is not closed, or text follows its closing quote");
      continue;
    }
    if (f.size() != 3) {
      cx.bad("wrong number of fields", fmt::format("expected 3 fields (movieId,title,genres), found {}", f.size()));
      continue;
    }
    ++cx.out.rows;
    std::string_view id = trim(f[0]);
    if (auto p = id_problem(id); !p.empty()) {
      cx.bad("bad movieId", fmt::format("field 'movieId' (column 1): {}, found '{}'", p, excerpt(id)));
      continue;
    }
    std::string_view title = trim(f[1]);
    if (auto p = title_problem(title); !p.empty()) {
      cx.bad("bad title", fmt::format("field 'title' (column 2): {}, found '{}'", p, excerpt(title)));
      continue;
    }
    Index item = col.item(id);
    if (item < 0) continue;
    if (col.title(item, title)) ++cx.out.repeated_titles;
    std::string_view g = trim(f[2]);
    if (g == "(no genres listed)" || g.empty()) continue;
    split_fields(g, "|", genres, scratch2);
    for (std::string_view name : genres) {
      name = trim(name);
      if (auto p = id_problem(name); !p.empty()) {
        cx.bad("bad genre", fmt::format("field 'genres' (column 3): {}, found '{}'", p, excerpt(name)));
        break;
      }
      col.add(item, name, 1.0f);
    }
  }
}

std::vector<std::string> read_genre_names(const std::string& path) {
  LineReader r(path);
  std::vector<std::pair<std::int64_t, std::string>> named;
  std::vector<std::string_view> f;
  std::string scratch;
  std::string_view line;
  while (next_nonblank(r, line)) {
    split_fields(line, "|", f, scratch);
    std::int64_t idx;
    if (f.size() != 2 || !parse_int64(trim(f[1]), idx) || idx < 0 || idx > 10000)
      throw InputError(fmt::format("{}: expected 'genre name|index', found '{}'", r.where(), excerpt(line)));
    if (auto p = id_problem(trim(f[0])); !p.empty())
      throw InputError(fmt::format("{}: field 1 (genre name): {}", r.where(), p));
    named.emplace_back(idx, std::string(trim(f[0])));
  }
  std::sort(named.begin(), named.end());
  std::vector<std::string> names;
  for (std::size_t k = 0; k < named.size(); ++k) {
    if (named[k].first != static_cast<std::int64_t>(k))
      throw InputError(fmt::format("{}: genre indices must run 0, 1, 2, ... without gaps; index {} "
                                   "is missing or repeated",
                                   path, k));
    names.push_back(named[k].second);
  }
  if (names.empty()) throw InputError(fmt::format("{}: no genres listed", path));
  return names;
}

void read_ml100k(LineReader& r, std::string_view first, const Context& cx, Collector& col) {
  std::string genre_path = cx.opts.genre_names;
  if (genre_path.empty())
    genre_path = (std::filesystem::path(r.path()).parent_path() / "u.genre").string();
  const std::vector<std::string> genres = read_genre_names(genre_path);
  const std::size_t n_fields = 5 + genres.size();
  std::vector<std::string_view> f;
  std::string scratch, latin1;
  std::string_view line = first;
  bool have = true;
  col.expect_titles();
  for (;;) {
    if (!have && !next_nonblank(r, line)) break;
    have = false;
    if (!split_fields(line, "|", f, scratch)) {
      cx.bad("bad quoting", "a quoted field is not closed, or text follows its closing quote");
      continue;
    }
    if (f.size() != n_fields) {
      cx.bad("wrong number of fields", fmt::format("expected {} '|'-separated fields (5 + {} genre "
                                                   "flags from {}), found {}",
                                                   n_fields, genres.size(), genre_path, f.size()));
      continue;
    }
    ++cx.out.rows;
    std::string_view id = trim(f[0]);
    if (auto p = id_problem(id); !p.empty()) {
      cx.bad("bad movie id", fmt::format("field 1 (movie id): {}, found '{}'", p, excerpt(id)));
      continue;
    }
    std::string_view title = trim(f[1]);
    if (!valid_utf8(title)) {
      latin1 = latin1_to_utf8(title);
      title = latin1;
      ++cx.out.latin1_titles;
    }
    if (auto p = title_problem(title); !p.empty()) {
      cx.bad("bad title", fmt::format("field 2 (movie title): {}, found '{}'", p, excerpt(title)));
      continue;
    }
    Index item = col.item(id);
    if (item < 0) continue;
    if (col.title(item, title)) ++cx.out.repeated_titles;
    for (std::size_t g = 0; g < genres.size(); ++g) {
      std::string_view flag = trim(f[5 + g]);
      if (flag != "0" && flag != "1") {
        cx.bad("bad genre flag", fmt::format("field {} (genre '{}'): expected 0 or 1, found '{}'",
                                             6 + g, genres[g], excerpt(flag)));
        break;
      }
      if (flag == "1") col.add(item, genres[g], 1.0f);
    }
  }
}

void read_long(LineReader& r, std::string_view first, const Context& cx, Collector& col) {
  std::string delim = ",";
  for (const char* d : {"\t", ",", ";", "|"})
    if (first.find(d) != std::string_view::npos) { delim = d; break; }
  std::vector<std::string_view> f;
  std::string scratch;
  split_fields(first, delim, f, scratch);
  // A header may name a "title" column anywhere; the other columns are item,label[,weight].
  constexpr std::size_t kNone = std::string_view::npos;
  std::size_t title_col = kNone;
  for (std::size_t k = 0; k < f.size() && title_col == kNone; ++k)
    if (ascii_lower(trim(f[k])) == "title") title_col = k;
  const std::size_t header_fields = f.size();
  if (title_col != kNone) f.erase(f.begin() + static_cast<std::ptrdiff_t>(title_col));
  static const std::set<std::string> kItemNames = {"item", "itemid", "item_id", "movieid", "movie_id", "productid", "product_id"};
  static const std::set<std::string> kLabelNames = {"label", "labels", "genre", "category", "tag", "class"};
  bool header = !f.empty() && (kItemNames.count(ascii_lower(trim(f[0]))) > 0 ||
                               (f.size() > 1 && kLabelNames.count(ascii_lower(trim(f[1]))) > 0));
  if (!header) title_col = kNone;
  if (title_col != kNone) {
    if (f.size() < 2 || f.size() > 3)
      throw InputError(fmt::format("{0}: the header has a title column; expected item{1}label[{1}weight] beside it, "
                                   "found {2} other column{3}",
                                   r.where(), delim == "\t" ? "\\t" : delim, f.size(), f.size() == 1 ? "" : "s"));
    col.expect_titles();
  }
  std::string header_line(first);
  std::string_view line = first;
  bool have = !header;
  for (;;) {
    if (!have && !next_nonblank(r, line)) break;
    have = false;
    if (header && line == header_line) {
      if (r.line_number() > 1) cx.bad("duplicate header", "the header line appears again; expected data");
      continue;
    }
    if (!split_fields(line, delim, f, scratch)) {
      cx.bad("bad quoting", "a quoted field is not closed, or text follows its closing quote");
      continue;
    }
    std::string_view title;
    if (title_col != kNone) {
      // With a title column the weight is no longer optional by position: rows match the header.
      if (f.size() != header_fields) {
        cx.bad("wrong number of fields", fmt::format("expected {} fields as in the header ('{}'), found {}",
                                                     header_fields, excerpt(header_line), f.size()));
        continue;
      }
      title = trim(f[title_col]);
      f.erase(f.begin() + static_cast<std::ptrdiff_t>(title_col));
    }
    if (f.size() < 2 || f.size() > 3) {
      cx.bad("wrong number of fields", fmt::format("expected item{0}label[{0}weight], found {1} field{2}",
                                                   delim == "\t" ? "\\t" : delim, f.size(), f.size() == 1 ? "" : "s"));
      continue;
    }
    ++cx.out.rows;
    std::string_view id = trim(f[0]), label = trim(f[1]);
    float weight = 1.0f;
    if (auto p = id_problem(id); !p.empty()) {
      cx.bad("bad item", fmt::format("field 1 (item): {}, found '{}'", p, excerpt(id)));
      continue;
    }
    if (auto p = id_problem(label); !p.empty()) {
      cx.bad("bad label", fmt::format("field 2 (label): {}, found '{}'", p, excerpt(label)));
      continue;
    }
    if (f.size() == 3 && (!parse_finite_float(trim(f[2]), weight) || weight <= 0)) {
      cx.bad("bad weight", fmt::format("field 3 (weight): expected a positive number, found '{}'", excerpt(trim(f[2]))));
      continue;
    }
    if (auto p = title_problem(title); !p.empty()) {
      cx.bad("bad title", fmt::format("field {} (title): {}, found '{}'", title_col + 1, p, excerpt(title)));
      continue;
    }
    Index item = col.item(id);
    if (item < 0) continue;
    if (const std::string* earlier = col.title(item, title)) {
      cx.bad("conflicting title", fmt::format("item '{}' has the title '{}' here but '{}' on an earlier line",
                                              excerpt(id), excerpt(title), excerpt(*earlier)));
      continue;
    }
    col.add(item, label, weight);
  }
}

// The checks and the note that end every label read; `source` names the file or argument.
void finish_labels(const std::string& source, const std::string& format, ItemLabels& out) {
  if (out.rows > 0 && out.unknown_item_rows == out.rows)
    throw InputError(fmt::format("{}: none of its {} rows names an item that has events; the "
                                 "labels probably use other item ids than the events",
                                 source, out.rows));
  if (out.rows == 0 && out.skipped.empty()) throw InputError(fmt::format("{}: no label rows", source));
  out.notes.push_back(fmt::format("{}: format {}, {} rows, {} for items without events (ignored), "
                                  "{} repeated item-label pairs (ignored)",
                                  source, format, out.rows, out.unknown_item_rows, out.duplicate_pairs));
  if (!out.titles.empty()) {
    const auto titled = std::count_if(out.titles.begin(), out.titles.end(), [](const std::string& t) { return !t.empty(); });
    std::string note = fmt::format("{}: {} items with a title", source, titled);
    if (out.repeated_titles > 0)
      note += fmt::format("; {} rows gave an item a second, different title (first kept)", out.repeated_titles);
    if (out.latin1_titles > 0) note += fmt::format("; {} titles read as ISO-8859-1 (not UTF-8)", out.latin1_titles);
    out.notes.push_back(note);
  }
}

}  // namespace

void validate_label_options(const LabelReadOptions& opts) {
  if (opts.format != "auto" && opts.format != "movielens" && opts.format != "ml100k" && opts.format != "long")
    throw InputError(fmt::format("--labels-format: expected auto, movielens, ml100k or long, found '{}'", opts.format));
}

void read_labels(const std::string& path, const LabelReadOptions& opts, const IdMap& items,
                 ItemLabels& out) {
  LineReader r(path);
  std::string_view first;
  if (!next_nonblank(r, first))
    throw InputError(fmt::format("{}: the file is empty; expected item labels", path));
  std::string format = opts.format;
  const std::string fname = std::filesystem::path(path).filename().string();
  if (format == "auto") {
    if (first == kMovieLensHeader)
      format = "movielens";
    else if (fname == "u.item")
      format = "ml100k";
    else
      format = "long";
  }
  Context cx{r, opts, out};
  Collector col(items, out);
  if (format == "movielens")
    read_movielens(r, first, cx, col);
  else if (format == "ml100k")
    read_ml100k(r, first, cx, col);
  else if (format == "long")
    read_long(r, first, cx, col);
  else
    throw InputError(fmt::format("--labels-format: expected auto, movielens, ml100k or long, found '{}'", format));
  col.drop_repeated_pairs();
  finish_labels(path, format, out);
}

void read_label_columns(const LabelColumnsIn& in, OnError on_error, const IdMap& items, ItemLabels& out) {
  const std::size_t n = in.item.size();
  if (in.label.size() != n || (!in.weight.empty() && in.weight.size() != n))
    throw InputError(fmt::format("labels: the columns differ in length: item {}, label {}{}", n, in.label.size(),
                                 in.weight.empty() ? "" : fmt::format(", weight {}", in.weight.size())));
  Collector col(items, out);
  std::string item_scratch, label_scratch;
  for (std::size_t r = 0; r < n; ++r) {
    auto bad = [&](const char* column, const std::string& expected, const std::string& found) {
      if (on_error == OnError::fail)
        throw InputError(fmt::format("{}[{}]: {}, found '{}'", column, r, expected, found));
      out.skipped.add(fmt::format("bad {}", column), fmt::format("row {}", r));
    };
    ++out.rows;
    const std::string_view id = in.item.at(r, item_scratch);
    const std::string_view label = in.label.at(r, label_scratch);
    const float weight = in.weight.empty() ? 1.0f : in.weight[r];
    if (auto p = id_problem(id); !p.empty()) { bad("item", p, excerpt(id)); continue; }
    if (auto p = id_problem(label); !p.empty()) { bad("label", p, excerpt(label)); continue; }
    if (!std::isfinite(weight) || weight <= 0) {
      bad("weight", "expected a positive number", fmt::format("{}", weight));
      continue;
    }
    Index item = col.item(id);
    if (item >= 0) col.add(item, label, weight);
  }
  col.drop_repeated_pairs();
  finish_labels("labels", "in-memory columns", out);
}

graph::CsrMatrix item_label_matrix(const ItemLabels& labels, Index n_items) {
  return graph::csr_from_triplets(n_items, labels.labels.size(), labels.entries);
}

}  // namespace driftrec::io
