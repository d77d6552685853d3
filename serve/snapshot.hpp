// The immutable model a driftrec service answers from: ids, the users' and items' factors
// of one period of a factorize result (items as int8 rows with scales, or float32 with
// `exact`), the items each user had, and optionally a sequence model's predicted
// next-period interests. A Server holds one behind a shared_ptr and swaps in a freshly
// loaded one on reload, so a request keeps the snapshot it started with.
//
// What ranks the recommendations depends on the result served (`ranked_by`):
//   a factorize result   "factors": the k items with the highest x_u . y_i, scanned over the
//                        int8 rows (or float32 with `exact`) by serve's own kernel;
//   a train result       the item model train chose ("hybrid" or "ranker"), ranked by
//                        pipeline::UserRanking, the code `driftrec recommend --model` and
//                        `export` rank by (float32; the ranker is fitted again on every
//                        period of the store when the snapshot loads, so a reload after
//                        `update` ranks by the updated store); its /similar uses the
//                        result's item factors (temporal ALS, the last period).
// Items the user had before the period ends are left out unless exclude_seen is false
// (which the ranker cannot answer). Similar items are the k highest cosines of item factors.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "serve/quantized.hpp"

namespace driftrec::pipeline {
class UserRanking;
}

namespace driftrec::serve {

// A CSR list per row: row r holds indices[indptr[r] .. indptr[r+1]), sorted ascending.
struct RowLists {
  std::vector<std::int64_t> indptr{0};
  std::vector<std::int32_t> indices;
  std::span<const std::int32_t> row(std::int32_t r) const {
    return {indices.data() + indptr[static_cast<std::size_t>(r)],
            static_cast<std::size_t>(indptr[static_cast<std::size_t>(r) + 1] - indptr[static_cast<std::size_t>(r)])};
  }
};

struct Interests {
  std::string model;                 // the train result
  std::vector<std::string> labels;   // label names
  std::int64_t n_labels = 0;
  std::vector<float> next;           // users x labels, row-major: the predicted distribution
  RowLists had;                      // per user, the labels of the items they had
  float new_label_boost = 1;         // the result's: ranks a never-had label (temporal/label_ranking.hpp)
};

struct Snapshot {
  // Where it came from (empty for a snapshot built in memory) and what it holds.
  std::string store, result;
  std::string kind = "temporal_als";  // of `result`: temporal_als | sequence_model
  std::string ranked_by = "factors";  // factors | hybrid | ranker (see above)
  std::string ranker_setting;         // ranked_by "ranker": "learned" or a source's name
  std::size_t period = 0;
  std::string period_begin_utc;
  std::uint64_t generation = 0;  // 1 for the first load, +1 per reload (set by the Server)
  double loaded_unix_seconds = 0; // set by the Server

  std::vector<std::string> user_ids, item_ids, item_titles, item_labels;  // titles, labels: "" where none
  std::unordered_map<std::string, std::int32_t> user_index, item_index;
  int factors = 0;
  std::vector<float> user_factors;       // users x factors
  bool exact = false;
  std::vector<float> item_factors;       // items x factors, float32: only when exact
  QuantizedRows item_codes;              // items x factors, int8: only when not exact
  std::vector<float> item_inverse_norms; // 1 / |y_i| (0 for a zero row), for cosines
  RowLists seen;                         // per user, items had before the period ends
  std::optional<Interests> interests;    // when the store has the sequence model
  // A train result's item model (ranked_by hybrid or ranker); null for a factorize result.
  std::shared_ptr<const pipeline::UserRanking> ranking;

  std::int64_t n_users() const { return static_cast<std::int64_t>(user_ids.size()); }
  std::int64_t n_items() const { return static_cast<std::int64_t>(item_ids.size()); }
  std::size_t item_bytes() const;  // memory of the item factors as held

  // k >= 1; user and item are indices (the caller looked the ids up). exclude_seen false
  // needs can_include_seen().
  std::vector<Scored> recommend(std::int32_t user, int k, bool exclude_seen) const;
  bool can_include_seen() const;
  // Whether recommendations are scored in float32 (exact, or ranked by a train result).
  bool scores_exact() const { return exact || ranking != nullptr; }
  std::vector<Scored> similar(std::int32_t item, int k) const;
  struct Interest {
    std::int32_t label;
    float probability;
    bool is_new;  // the user never had an item with this label
  };
  // The user's first k labels as `driftrec predict` ranks them (by probability, a never-had
  // label's times new_label_boost; ties toward the lower label); requires `interests`.
  std::vector<Interest> user_interests(std::int32_t user, int k) const;
};

// Fills the derived fields (indexes, codes or inverse norms) of a snapshot whose ids,
// factors, exact flag and item_factors are set; with !exact the float item factors are
// quantised and released. For a model built in memory (the bench, tests).
void finish_snapshot(Snapshot& s);

struct SnapshotSource {
  std::string store;
  std::string result = "als";       // a factorize result, or a train result (see above)
  std::string model = "sequence";   // a train result for /interests; absent: no interests
  bool exact = false;
};

// Reads the latest period with user and item factors of a factorize `result` (a train
// result: its ranking, item factors and the store's last period), the events before it
// ends, the titles and labels, and the model's predictions when the store has it.
// Throws InputError naming the store and what is missing.
Snapshot load_snapshot(const SnapshotSource& source);

}  // namespace driftrec::serve
