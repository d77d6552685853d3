// What `driftrec info` reports about a store: sizes, time span, per-slice activity,
// label and title coverage, degree distributions and connected components (Boost Graph Library).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/components.hpp"
#include "io/store.hpp"

namespace driftrec::io {

struct DegreeStats {
  std::int64_t min = 0, max = 0;
  double mean = 0, median = 0, p90 = 0;
};
DegreeStats degree_stats(std::vector<std::int64_t> values);

struct SliceInfo {
  graph::Time begin = 0, end = 0;
  std::int64_t events = 0, users = 0, items = 0, nnz = 0;
};

struct StoreInfo {
  std::string path, slicing, aggregate, created_by;
  std::int64_t users = 0, items = 0, labels = 0, events = 0, labelled_items = 0;
  bool titles = false;            // the store keeps item titles (/items/title)
  std::int64_t titled_items = 0;  // items with a non-empty title
  graph::Time first_time = 0, last_time = 0;
  DegreeStats user_items;   // distinct items per user
  DegreeStats item_users;   // distinct users per item
  DegreeStats user_events;  // events per user
  std::int64_t distinct_pairs = 0;
  graph::ComponentStats components;
  std::vector<SliceInfo> slices;
  std::vector<std::string> results;

  nlohmann::json to_json() const;
  std::string to_text(std::size_t max_slice_rows = 24) const;
};

StoreInfo store_info(const Store& store);

std::string format_time(graph::Time t);  // "2018-09-24T14:27:30Z"

}  // namespace driftrec::io
