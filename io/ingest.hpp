// ingest: interaction logs + item labels -> a new driftrec store; ingest_columns: the same
// from columns in memory (the Python module's arrays and DataFrames), with the same
// checks, id mapping, sort and slicing; reslice: a store's own events -> the same store
// with new slices. Both write beside the target and rename into
// place, so the target is either the old file or the complete new one.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/slicing.hpp"
#include "io/event_reader.hpp"
#include "io/label_reader.hpp"
#include "io/store.hpp"

namespace driftrec::io {

// Progress of a long step: its name, work done and total (bytes, slices...).
using StageProgress = std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)>;

struct IngestOptions {
  std::vector<std::string> event_files;
  EventReadOptions events;
  std::string labels_file;  // optional
  LabelReadOptions labels;
  graph::Slicing slicing;
  std::string aggregate = "auto";  // auto: sum of values if every file has a value column, else count
  std::string output;
  bool overwrite = false;
  int threads = 0;  // reading the files in parts, the sort, building slices, compressing chunks; 0: OpenMP's default
  StageProgress progress;
};

struct IngestReport {
  std::string output;
  std::int64_t users = 0, items = 0, labels = 0, events = 0, labelled_items = 0, slices = 0;
  std::string slicing, aggregate;
  std::uint64_t input_bytes = 0;
  double seconds_read = 0, seconds_sort = 0, seconds_write = 0, seconds_total = 0;
  SkipReport skipped_events, skipped_labels;
  std::int64_t label_rows_unknown_items = 0, label_pairs_repeated = 0;
  std::int64_t negative_dropped = 0, negative_clipped = 0;  // --negative drop / clip
  std::vector<std::string> notes;
  nlohmann::json to_json() const;
};

IngestReport ingest(const IngestOptions& opts);

struct ColumnIngestOptions {
  graph::Slicing slicing;
  std::string aggregate = "auto";  // auto: sum of values if values are given, else count
  std::string output;
  bool overwrite = false;
  OnError on_error = OnError::fail;  // skip: count bad rows (events and labels) instead
  NegativeValues negative = NegativeValues::refuse;  // as EventReadOptions::negative
  int threads = 0;                   // as IngestOptions::threads
  StageProgress progress;
};

// Writes a store from events (and optionally item labels) held in memory: each row is
// checked as a file's line is (read_event_columns, read_label_columns), then ids are
// mapped, events sorted and sliced exactly as ingest does, so the same data gives the
// same store either way. The report's input_bytes is 0.
IngestReport ingest_columns(const EventColumnsIn& events, const LabelColumnsIn* labels,
                            const ColumnIngestOptions& opts);

struct ResliceReport {
  std::string slicing;
  std::int64_t slices = 0;
  std::vector<std::string> dropped_results;  // results computed on the old slices
  double seconds = 0;
};

// Throws InputError when an entry of a slice, the float32 sum of one user's values for one
// item in one period, would be beyond float32's range (two values of 3e38), naming the
// user and item ids and the period. `source` names the input in the message. Cheap
// unless the values' total is itself that large.
void check_slice_sums(const StoreContent& c, const graph::Slicing& slicing, graph::Aggregate aggregate,
                      const std::string& source);

// Rebuilds the slices of `store_path` from its stored events. `aggregate` "keep" keeps
// the store's aggregation. threads: the chunk compression's (0: OpenMP's default).
ResliceReport reslice(const std::string& store_path, const graph::Slicing& slicing,
                      const std::string& aggregate = "keep", const StageProgress& progress = {},
                      int threads = 0);

}  // namespace driftrec::io
