// driftrec export: every user's recommendations or predicted interests, or every item's
// similar items, in one CSV or HDF5 file (pipeline/export.hpp).
#include <fmt/format.h>

#include "cli/commands.hpp"
#include "pipeline/export.hpp"

namespace driftrec::cli {

void add_export(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Every user's top-K items or predicted interests (or every item's "
                                           "similar items) in one CSV or HDF5 file");
  cmd->footer(
      "recommendations rank as `driftrec recommend` ranks: by a factorize (temporal_als: x_u . y_i), train "
      "(sequence_model: the item model train chose, the hybrid or the learned item ranker, refitted on every "
      "period) or propagate (p3alpha/rp3beta/ppr) result, or `--model ranker` (the ranker, its setting chosen on "
      "the last period), without the items each user had unless --include-seen (not for the ranker or a "
      "propagate result); ranked_by in --json and the HDF5 attributes says which. A user with no "
      "events in the scored period is scored with the user factors of their last active period (temporal_als; "
      "the period column says which). interests: a train result's predicted labels (new = never had). "
      "similar-items: cosine of a factorize result's item factors. The file appears whole or not at all, and "
      "is the same for any --threads.\n"
      "Example: driftrec export ml.h5 --what recommendations --model als --k 50 --out recs.csv");
  struct Args {
    pipeline::ExportRequest request;
    CommonOptions common;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  cmd->add_option("store", q.store, "Store with the result")->required();
  cmd->add_option("--what", q.what, "recommendations | interests | similar-items")->default_val(q.what);
  cmd->add_option("--model", q.model, "Result name: factorize/train/propagate --name, or ranker")->default_val(q.model);
  cmd->add_option("--k", q.k, "Items (or labels) per user")->default_val(q.k);
  cmd->add_option("--users", q.users, "all, or a file of user ids (one per line), exported in its order")
      ->default_val(q.users);
  cmd->add_option("--format", q.format, "csv | hdf5")->default_val(q.format);
  cmd->add_option("--out", q.out, "File to write")->required();
  cmd->add_flag("--include-seen", q.include_seen, "recommendations: also rank items the user already had");
  cmd->add_option("--filter-items", q.filter_items, "recommendations: file of item ids (one per line) never to rank")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--full", q.full, "interests: every label's probability instead of the top K");
  cmd->add_flag("--force", q.force, "Replace --out if it exists");
  cmd->add_option("--chunk", q.chunk, "Users per chunk (memory: one chunk's rows)")->default_val(q.chunk);
  cmd->add_flag("--json", a->json, "Print a JSON summary");
  add_threads_option(*cmd, a->common);
  add_quiet_option(*cmd, a->common);
  cmd->callback([a] {
    a->common.apply();
    a->request.threads = a->common.threads;
    a->request.progress = make_progress(a->common);
    const pipeline::ExportSummary s = pipeline::export_store(a->request);
    end_progress();
    if (a->json) {
      fmt::print("{}\n", s.to_json().dump(2));
      return;
    }
    fmt::print("{}: {} {} by '{}' ({}, ranked by {}, period {}), k {}, {} lines in {:.2f} s ({:.0f} per second)",
               s.out, s.rows, s.what == "similar-items" ? "items" : "users", s.model, s.kind, s.ranked_by, s.period,
               s.k, s.lines, s.seconds, s.rows_per_second());
    if (s.quiet_users > 0)
      fmt::print("; {} quiet users scored with the user factors of an earlier period (the period column)",
                 s.quiet_users);
    fmt::print("\n");
  });
}

}  // namespace driftrec::cli
