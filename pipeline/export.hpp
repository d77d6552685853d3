// export_store: `driftrec export` as a call. Every user's (or every item's) ranked output
// in one file for another system to load:
//   recommendations  each user's top k next-period items by a result, ranked by the code
//                    `recommend` ranks by (pipeline/ranking.hpp): temporal_als (factors),
//                    sequence_model (the item model train chose: hybrid or ranker),
//                    p3alpha/rp3beta/ppr, or "ranker" (the learned item ranker, its setting
//                    chosen on the last period); the items the user had excluded unless
//                    include_seen (refused for the ranker and walks), filter_items never;
//   interests        each user's predicted label distribution for the period after the
//                    store's last (a train result): the top k labels, or all with `full`,
//                    each flagged new when the user never had an item with that label;
//   similar-items    each item's k nearest items by the cosine of their factors.
// Rows are computed a chunk of users at a time on `threads` threads and written in user
// order, so the file is the same byte for byte for any thread count, and memory beyond
// the result itself does not grow with the number of users. The file is written under a
// temporary name and renamed into place (io/atomic_file.hpp): a failure leaves nothing.
//
// CSV (one row per user and rank, ids and titles as in the input; RFC 4180 quoting):
//   recommendations  user,rank,item,title,score,period
//   interests        user,rank,label,probability,new      (full: user,label,probability,new)
//   similar-items    item,rank,similar_item,title,cosine
// HDF5 (io/table_file.hpp; rows follow /user_ids):
//   recommendations  items int32 and scores float32, rows x k (item index into /item_ids,
//                    -1 / -inf past the candidates); period int32 per row
//   interests        labels int32, probability float32, new int8, rows x k (full: rows x
//                    labels in label order); /label_names
//   similar-items    items, scores as for recommendations; rows follow /row_ids
// with /user_ids, /item_ids, /item_titles (when the store has titles) and the request as
// attributes (what, model, kind, ranked_by, k, period).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "pipeline/common.hpp"

namespace driftrec::pipeline {

struct ExportRequest {
  std::string store;
  std::string what = "recommendations";  // recommendations | interests | similar-items
  std::string model = "als";             // the result to rank by (a train result for interests)
  int k = 50;                            // items or labels per row, >= 1
  std::string users = "all";             // all | a file of user ids, one per line (not for similar-items)
  std::string format = "csv";            // csv | hdf5
  std::string out;                       // the file written
  bool include_seen = false;             // recommendations: also rank items the user had
  std::string filter_items;              // recommendations: a file of item ids never to rank
  bool full = false;                     // interests: every label instead of the top k
  bool force = false;                    // replace `out` when it exists
  std::int64_t chunk = 4096;             // users per chunk, >= 1
  int threads = 0;                       // 0: OpenMP's default
  Progress progress;                     // "export", rows done of rows
};

struct ExportSummary {
  std::string store, what, model, kind, format, out;
  // What ranked the rows: recommendations as UserRanking::ranked_by ("factors", "hybrid",
  // "ranker" or a walk's kind); interests the train result's ("sequence" or "mixture");
  // similar-items "cosine".
  std::string ranked_by;
  int k = 0;
  std::size_t period = 0;         // the period ranked for (the store's last for a train or walk result)
  std::int64_t rows = 0;          // users (items for similar-items)
  std::int64_t lines = 0;         // data rows written (CSV) or table cells per column (HDF5)
  std::int64_t quiet_users = 0;   // users scored from an earlier period's state (pipeline/ranking.hpp)
  int threads = 0;
  double seconds = 0;

  double rows_per_second() const { return seconds > 0 ? static_cast<double>(rows) / seconds : 0; }
  nlohmann::json to_json() const;
};

// Throws InputError naming the field (what, k, users, format, out, ...) before anything is
// written; nothing is left at `out` when a later step fails.
ExportSummary export_store(const ExportRequest& request);

}  // namespace driftrec::pipeline
