// recommend and similar_items: `driftrec recommend` and `driftrec similar-items` as calls.
// Each ranked item carries its title (where the store has titles) and its label names.
// recommend ranks items for a user through pipeline::UserRanking (pipeline/ranking.hpp),
// the code export and serve rank by too: by the factors of a factorize result (x_u . y_i
// of one period), by a sequence model (train result: the item model train chose for the
// period after the last, the hybrid of the predicted factor and the predicted interests or
// the learned item ranker), or by the learned item ranker (model "ranker",
// evaluation/ranker_model.hpp), fitted on every period of the store when asked, its
// setting (learned weights for an l2, or one of its sources alone) chosen by recall@20 on
// the store's last period (the validation period: fitted on the periods before it),
// ranking the items for the period after the last; similar_items ranks items by the
// cosine of their factors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace driftrec::pipeline {

struct RecommendRequest {
  std::string store;
  std::string user;                    // id as in the log
  int k = 10;                          // items, >= 1
  std::string result = "als";          // a factorize result
  std::optional<std::size_t> period;   // default: the latest period with user and item factors
  std::string model;                   // a train result: rank by the sequence model instead;
                                       // "ranker": by the learned item ranker (see above)
  std::string filter_items;            // a file of item ids (one per line) never to recommend
  bool include_seen = false;           // also rank items the user had before the period ends
  int threads = 0;                     // the ranker's fit; 0: OpenMP's default
};

// What the ranker ranked by and how it was chosen (model "ranker" only).
struct RankerSummary {
  std::string setting;            // "learned" or a source's name
  double l2 = 0;                  // the learned setting's
  double validation_recall = 0;   // recall@20 on the validation period (NaN: no pair)
  std::size_t validation_pairs = 0;
  std::size_t validation_period = 0;
};

struct RankedItem {
  std::string item;    // id as in the log
  std::string title;   // "" where the item has none
  float score = 0;     // recommend: the score; similar_items: the cosine
  std::string labels;  // the item's label names joined by '|'
};

struct Recommendations {
  std::string user, result;  // result: the factorize or train result used, or "ranker"
  // What ranked the items (pipeline/ranking.hpp): "factors" (a factorize result), "hybrid"
  // or "ranker" (a train result's choice, or model "ranker"), or a walk result's kind.
  std::string ranked_by;
  std::size_t period = 0;    // the period whose factors scored (the store's last for a model)
  std::string period_begin_utc;
  // The period whose user state scored: `period`, or for a user who went quiet the period
  // of their last events (pipeline/ranking.hpp states the rule).
  std::size_t user_period = 0;
  std::string user_period_begin_utc;
  std::size_t excluded = 0;  // items left out (seen and filtered)
  std::vector<RankedItem> items;  // best first
  bool has_titles = false;        // the store has item titles
  std::optional<RankerSummary> ranker;

  nlohmann::json to_json() const;
};

// Throws InputError naming the field (k, period with model, ...), the user or the result.
Recommendations recommend(const RecommendRequest& request);

struct SimilarItemsRequest {
  std::string store;
  std::string item;  // id as in the log
  int k = 10;        // items, >= 1
  std::string result = "als";
  std::optional<std::size_t> period;  // default: the latest period with user and item factors
};

struct SimilarItems {
  std::string item, item_title, item_labels, result;  // item_title: "" where it has none
  std::size_t period = 0;
  std::vector<RankedItem> items;  // best first; score is the cosine
  bool has_titles = false;        // the store has item titles

  nlohmann::json to_json() const;
};

SimilarItems similar_items(const SimilarItemsRequest& request);

}  // namespace driftrec::pipeline
