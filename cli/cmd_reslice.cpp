// driftrec reslice: new slices from a store's own events (no original files needed).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "pipeline/store_jobs.hpp"

namespace driftrec::cli {

void add_reslice(CLI::App& app) {
  auto* cmd = app.add_subcommand("reslice", "Rebuild a store's slices from its stored events with a new slicing");
  cmd->footer("Example: driftrec reslice ml.h5 --slice quarter\n"
              "Results computed on the old slices (under /results) no longer match and are dropped.");
  auto q = std::make_shared<pipeline::ResliceRequest>();
  auto json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("store", q->store, "Store to reslice (rewritten atomically)")->required();
  cmd->add_option("--slice", q->slicing, kSliceHelp)->required();
  cmd->add_option("--aggregate", q->aggregate, "keep|count|sum")->default_val("keep");
  cmd->add_flag("--json", *json, "Print the report as JSON");
  add_threads_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    q->threads = common->threads;
    q->progress = make_progress();
    const pipeline::ResliceSummary r = pipeline::reslice_store(*q);
    end_progress();
    if (*json) {
      fmt::print("{}\n", r.to_json().dump(2));
      return;
    }
    fmt::print("{}: {} non-empty '{}' slices ({:.2f} s)\n", r.store, r.slices, r.slicing, r.seconds);
    for (const auto& d : r.dropped_results) fmt::print("  dropped result '{}' (computed on the old slices)\n", d);
  });
}

}  // namespace driftrec::cli
