// The jobs on a store as a whole: ingest, reslice, describe, and generating synthetic data
// to ingest. Ingest is io::ingest (io/ingest.hpp: io::IngestOptions in, io::IngestReport
// with to_json() out); the others wrap their io/ and graph/ calls in pipeline requests.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/generator.hpp"
#include "graph/synthetic_writer.hpp"
#include "io/ingest.hpp"
#include "io/store_info.hpp"
#include "pipeline/common.hpp"

namespace driftrec::pipeline {

// Rebuilds a store's slices from its stored events (`driftrec reslice`); the results under
// /results no longer match the slices and are dropped.
struct ResliceRequest {
  std::string store;
  std::string slicing;             // day|week|month|quarter|year|<N>s|quantiles:<N>
  std::string aggregate = "keep";  // keep | count | sum
  int threads = 0;                 // the chunk compression's; 0: OpenMP's default
  Progress progress;
};

struct ResliceSummary {
  std::string store, slicing;
  std::int64_t slices = 0;
  std::vector<std::string> dropped_results;
  double seconds = 0;

  nlohmann::json to_json() const;
};

ResliceSummary reslice_store(const ResliceRequest& request);

// What a store holds (`driftrec info`).
io::StoreInfo describe_store(const std::string& store);

// A synthetic log with planted drift written as CSV files under `out` (`driftrec
// generate`; graph/generator.hpp, graph/synthetic_writer.hpp). The writer runs on
// `threads` threads; its files are the same for any number.
struct GenerateRequest {
  graph::DriftConfig config;
  std::string out;
  int threads = 0;    // 0: OpenMP's default
  bool force = false;  // replace events.csv, labels.csv, truth.csv, meta.json already in `out`
  Progress progress;  // "generate", users done
};

struct GenerateSummary {
  graph::DriftConfig config;
  graph::SyntheticSummary files;
  int threads = 0;  // the writer's

  // meta.json's content plus "run": {seconds, events_per_second, megabytes_per_second, threads}.
  nlohmann::json to_json() const;
};

// Without `force`, throws InputError naming the first of the four files that exists in
// `out`, before anything is written.
GenerateSummary generate(const GenerateRequest& request);

}  // namespace driftrec::pipeline
