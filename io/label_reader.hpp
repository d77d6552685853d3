// Readers for item -> label tables: MovieLens movies.csv (pipe-separated genres;
// "(no genres listed)" is no label), MovieLens 100K u.item + u.genre (genre flags), and a
// long format "item,label[,weight]". Only items that have events are kept; label ids are
// dense in order of first appearance among the kept rows. Item titles come along where the
// format has them: movies.csv's title, u.item's second field, and a long file's column
// named "title" in its header; the store keeps them for showing recommendations.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "io/id_map.hpp"
#include "io/text.hpp"

namespace driftrec::io {

// Longer titles are refused: they are stored as fixed-length strings as wide as the
// longest one (see io/hdf5.hpp), and no catalogue we read comes near this.
inline constexpr std::size_t kMaxTitleBytes = 1024;

struct LabelReadOptions {
  std::string format = "auto";  // auto | movielens | ml100k | long
  std::string genre_names;      // ml100k: the u.genre file; empty: u.genre beside u.item
  OnError on_error = OnError::fail;
};

struct ItemLabels {
  IdMap labels;
  std::vector<graph::Triplet> entries;  // (item, label, weight)
  std::int64_t rows = 0;                // data rows read
  std::int64_t unknown_item_rows = 0;   // rows naming an item with no events (ignored)
  std::int64_t duplicate_pairs = 0;     // repeated (item, label) pairs (first kept)
  // One per item of `items` ("" where the file gives none) when the format has titles;
  // empty when it has none (a long file without a title column).
  std::vector<std::string> titles;
  // movies.csv / u.item rows giving an item a second, different title (the first is kept).
  // In the long format, where an item's title repeats on each of its rows, that is an error.
  std::int64_t repeated_titles = 0;
  std::int64_t latin1_titles = 0;       // u.item titles read as ISO-8859-1 (not UTF-8)
  SkipReport skipped;
  std::vector<std::string> notes;
};

// Throws InputError if opts.format is not one we know.
void validate_label_options(const LabelReadOptions& opts);

// Reads `path`, matching item ids against `items`. Throws InputError for malformed
// input, and when no row at all names a known item (the ids almost surely differ).
void read_labels(const std::string& path, const LabelReadOptions& opts, const IdMap& items,
                 ItemLabels& out);

// Item -> label pairs held in memory, one per row; every column has the same length.
struct LabelColumnsIn {
  IdColumn item;
  IdColumn label;
  std::span<const float> weight;  // empty: 1 for every pair
};

// Reads `in` as read_labels reads a long-format table, with the same checks and counts;
// messages name the column and row ("label[3]: expected a non-empty id, found ''").
void read_label_columns(const LabelColumnsIn& in, OnError on_error, const IdMap& items, ItemLabels& out);

// The items x labels CSR of `labels` (weights as given).
graph::CsrMatrix item_label_matrix(const ItemLabels& labels, Index n_items);

}  // namespace driftrec::io
