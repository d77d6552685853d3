// Writes a planted-drift log (graph/generator.hpp) to a directory as the plain files that
// `driftrec ingest` reads, plus the truth the generator planted:
//   events.csv  user,item,time,value     u<N>,i<N>,<Unix seconds>,1 (users in order, each by time)
//   labels.csv  item,label               one row per (published item, label), labels g<NN>
//   truth.csv   user,period,begin,label,weight   the planted distribution of every user in
//               every period (active or not); weights of a (user, period) sum to 1
//   meta.json   the config, the slice spec that recovers the periods ("<period_seconds>s"),
//               the counts written and the ingest command line
// Fast enough for 10^8 events on a laptop: users are generated in blocks in parallel, each
// block formatted by hand into its thread's text buffer, and blocks are written in user
// order (an OpenMP ordered section) with one large write per file per block, so formatting
// and I/O overlap. Every file is written under a temporary name in the directory and
// renamed into place at the end (meta.json last, after removing any old one), so an
// interrupted run never leaves a half-written file under a final name, and a meta.json
// always describes complete files beside it.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "graph/generator.hpp"

namespace driftrec::graph {

struct SyntheticProgress {
  std::int64_t users_done = 0;
  std::int64_t users_total = 0;
  std::int64_t events = 0;  // written so far
  std::int64_t bytes = 0;   // written so far, the three CSV files
  double seconds = 0;       // since the writer started
};
// Called after each block of users is written, one call at a time, from whichever thread
// wrote the block. Keep it cheap (throttle drawing yourself).
using SyntheticProgressFn = std::function<void(const SyntheticProgress&)>;

struct SyntheticSummary {
  std::filesystem::path dir;
  std::string slice;                  // pass to `driftrec ingest --slice`
  std::int64_t users = 0;
  std::int64_t users_with_events = 0;
  std::int64_t items = 0;
  std::int64_t items_with_events = 0;
  std::int64_t labels = 0;
  std::int64_t labelled_items = 0;    // items with rows in labels.csv
  std::int64_t label_rows = 0;
  std::int64_t events = 0;
  std::int64_t truth_rows = 0;
  std::int64_t bytes = 0;             // the three CSV files
  double seconds = 0;                 // wall time of the whole write

  double events_per_second() const { return seconds > 0 ? events / seconds : 0.0; }
  double megabytes_per_second() const { return seconds > 0 ? bytes / seconds / 1e6 : 0.0; }
};

inline constexpr const char* kSyntheticEventsFile = "events.csv";
inline constexpr const char* kSyntheticLabelsFile = "labels.csv";
inline constexpr const char* kSyntheticTruthFile = "truth.csv";
inline constexpr const char* kSyntheticMetaFile = "meta.json";

// Generates the log for `config` and writes the four files under `dir` (created if
// missing; existing files of those names are replaced). Throws InputError for a
// bad config or a directory that cannot be created, std::runtime_error (naming the file)
// when a write fails; temporary files are removed either way. Runs on `threads` threads
// (0: OpenMP's default; negative: InputError naming `threads`); identical files for any
// thread count.
SyntheticSummary write_synthetic(const graph::DriftConfig& config,
                                 const std::filesystem::path& dir,
                                 const SyntheticProgressFn& progress = {}, int threads = 0);

// The content of meta.json: {"format", "config": {...}, "slice", "first_period_begin",
// "period_seconds", "files": {...}, "counts": {...}, "ingest"}. Holds no timings, so
// the same seed gives the same meta.json.
nlohmann::json synthetic_meta(const graph::DriftConfig& config, const SyntheticSummary& summary);

// Name of a label and ids as written: g00, g01, ..., g100; u<N>; i<N>.
std::string synthetic_label_name(graph::Index label);

}  // namespace driftrec::graph
