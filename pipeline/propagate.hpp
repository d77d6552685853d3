// propagate_store: `driftrec propagate` as a call. Runs over a store's slices and saves the
// result under /results/<name>:
//   label               temporal label propagation (propagation/temporal_propagation.hpp);
//                       layout io/label_result.hpp
//   p3alpha | rp3beta   item-item similarity from walks on the decayed history G of the last
//                       period (propagation/random_walk.hpp), and each user's top items;
//   ppr                 personalised PageRank on G, each user's top items;
//                       layout of the three io/walk_result.hpp
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/common.hpp"
#include "pipeline/walk_options.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::pipeline {

struct PropagateRequest {
  std::string store;
  std::string name;              // the result; empty: the method's name
  std::string method = "label";  // label | p3alpha | rp3beta | ppr
  propagation::TemporalOptions label;  // method label
  std::string keep = "all";      // label: the periods whose scores are saved, all | last:N
  WalkOptions walk;              // p3alpha, rp3beta, ppr
  int threads = 0;               // 0: OpenMP's default
  std::string device = "cpu";    // cpu | cuda | auto (label propagation's half-steps)
  Progress progress;
};

struct PropagatedPeriod {
  std::size_t period = 0;
  std::int64_t begin = 0;  // Unix seconds
  int iterations = 0;
  double residual = 0;
  bool converged = false;
  bool saved = false;
};

struct PropagateSummary {
  std::string store, result, method;
  std::size_t periods = 0;  // the store's
  double seconds = 0;
  // label
  propagation::TemporalOptions label;
  std::vector<PropagatedPeriod> label_periods;
  std::size_t not_converged = 0;  // periods
  std::size_t worst_period = 0;   // the largest residual
  // p3alpha, rp3beta, ppr
  WalkOptions walk;         // as run (beta 0 for p3alpha)
  WalkCounts counts;

  bool is_label() const { return method == "label"; }
  std::int64_t total_iterations() const;  // label: over every period
  nlohmann::json to_json() const;
};

// label propagation's degree order as `driftrec propagate --reorder` words it: "auto", "on"
// or "off" (InputError naming `field` otherwise), and back.
propagation::Reorder parse_reorder(const std::string& text, const char* field);
const char* reorder_name(propagation::Reorder reorder);

// Whether label propagation keeps W without W^T, as a flag that may be unset: unset is
// automatic (no --low-memory), true on (--low-memory), false off (--no-low-memory); the
// Python module's low_memory=None/True/False. And back.
propagation::LowMemory low_memory_mode(std::optional<bool> flag);
std::optional<bool> low_memory_flag(propagation::LowMemory mode);

// Throws InputError naming the field for a bad request (method, keep, name, an option),
// a store without slices, or (label) a store without item labels. Non-convergence is
// reported in the summary, not thrown.
PropagateSummary propagate_store(const PropagateRequest& request);

}  // namespace driftrec::pipeline
