// driftrec update: append new events (and labels of new items) to a store and carry its
// label propagation and temporal ALS results forward (pipeline::update_store).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "pipeline/update.hpp"

namespace driftrec::cli {

void add_update(CLI::App& app) {
  auto* cmd = app.add_subcommand("update", "Append new events to a store and recompute only the periods they touch");
  cmd->footer(
      "Known user and item ids keep their indices; new ones are appended. The store's slicing cuts the new "
      "events, so its last period is extended and/or new periods are added. Label propagation results resume "
      "from the saved F_U of the period before the first changed one (bitwise what propagate on the whole store "
      "gives); temporal ALS results fold the new period in with --als-sweeps sweeps from the saved factors; "
      "sequence models (GRU, LSTM or attention cell, with or without the interest mixture) are stepped forward over the "
      "new periods from their saved state with the weights as trained (--retrain trains them again; one that cannot be "
      "stepped, for new labels, events in a period it has read or a state saved by an older train, is dropped with the "
      "reason); random-walk results are dropped (listed). Events before the store's last period are refused "
      "unless --allow-backfill. The store is rewritten atomically: on any error it is left as it was.\n\n"
      "Example:\n  driftrec update ml.h5 ratings-2018-10.csv --labels movies.csv");
  auto q = std::make_shared<pipeline::UpdateRequest>();
  auto reader = std::make_shared<ReaderOptions>();
  auto json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("store", q->store, "Store to update (HDF5, from driftrec ingest)")->required()->check(CLI::ExistingFile);
  cmd->add_option("events", q->event_files, "New interaction log file(s), read as ingest reads them")->required()->check(CLI::ExistingFile);
  cmd->add_option("--labels", q->labels_file, "Labels (and titles) of the new items, in a format ingest reads; rows for stored items are ignored")->check(CLI::ExistingFile);
  add_reader_options(*cmd, q->events, q->labels, *reader);
  cmd->add_flag("--allow-backfill", q->allow_backfill, "Accept events before the store's last period; results are recomputed from the earliest period they touch");
  cmd->add_flag("--retrain", q->retrain, "Retrain sequence-model results on the updated store instead of stepping them forward");
  cmd->add_option("--als-sweeps", q->als_sweeps, "Temporal ALS sweeps (users, then items) on each changed period")->default_val(3);
  cmd->add_flag("--json", *json, "Print the summary as JSON on stdout");
  add_threads_option(*cmd, *common);
  add_quiet_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    apply_reader_options(*reader, q->events, q->labels);
    q->threads = common->threads;
    q->progress = make_progress(*common);
    const pipeline::UpdateSummary s = pipeline::update_store(*q);
    end_progress();
    if (!s.skipped_events.empty()) fmt::print(stderr, "driftrec: warning: events: {}\n", s.skipped_events.summary());
    if (*json) {
      fmt::print("{}\n", s.to_json().dump(2));
      return;
    }
    fmt::print("appended {} events: {} new users, {} new items ({} labelled), {} new labels\n", s.events_added,
               s.users_added, s.items_added, s.labelled_items_added, s.labels_added);
    fmt::print("periods {} -> {}, first changed period {}{}\n", s.periods_before, s.periods_after,
               s.first_changed_period, s.backfill ? " (backfill)" : "");
    if (s.label_rows_for_known_items > 0)
      fmt::print("  {} new label pairs of items already in the store ignored (a stored item keeps its labels)\n",
                 s.label_rows_for_known_items);
    for (const pipeline::UpdatedResult& r : s.results) {
      fmt::print("result '{}' ({}): recomputed from period {} in {:.2f} s", r.name, r.kind, r.recomputed_from, r.seconds);
      if (r.objective) fmt::print(", last-period objective {:.6g}", *r.objective);
      fmt::print("\n");
      if (!r.note.empty()) fmt::print("  {}\n", r.note);
    }
    for (std::size_t k = 0; k < s.dropped_results.size(); ++k)
      fmt::print("result {} dropped: {}\n", s.dropped_results[k], s.dropped_reasons[k]);
    fmt::print("updated {} in {:.2f} s\n", s.store, s.seconds);
  });
}

}  // namespace driftrec::cli
