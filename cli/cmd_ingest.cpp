// driftrec ingest: interaction logs (+ item labels) -> a time-sliced HDF5 store (io::ingest,
// the pipeline's ingest job).
#include <fmt/core.h>

#include "cli/commands.hpp"
#include "io/ingest.hpp"

namespace driftrec::cli {

void print_ingest_report(const io::IngestReport& r) {
  fmt::print("ingested {} events: {} users, {} items, {} labels ({} items labelled)\n", r.events,
             r.users, r.items, r.labels, r.labelled_items);
  fmt::print("{} non-empty '{}' slices, values aggregated by {}; wrote {} in {:.2f} s\n", r.slices,
             r.slicing, r.aggregate, r.output, r.seconds_total);
  for (const auto& n : r.notes) fmt::print("  {}\n", n);
}

void add_ingest(CLI::App& app) {
  auto* cmd = app.add_subcommand("ingest", "Read interaction logs and item labels into a time-sliced HDF5 store");
  cmd->footer(
      "Formats are detected from the file name and header: MovieLens ratings.csv "
      "(userId,movieId,rating,timestamp), ratings.dat (user::item::rating::time), u.data (tab "
      "separated), or any delimited file whose header names user/item/time[/value] columns. "
      "Otherwise name them: --columns user=2,item=5,time=1 (1-based positions) or by header "
      "name.\n\nExamples:\n"
      "  driftrec ingest ratings.csv --labels movies.csv --slice month -o ml.h5\n"
      "  driftrec ingest log.tsv --columns user=uid,item=song,time=ts --time-format iso \\\n"
      "      --labels tags.csv --slice week -o music.h5\n"
      "  driftrec ingest events.csv --labels labels.csv --slice 2592000s -o synth.h5   (from `driftrec generate`)");
  auto o = std::make_shared<io::IngestOptions>();
  auto slice = std::make_shared<std::string>("month");
  auto reader = std::make_shared<ReaderOptions>();
  auto json = std::make_shared<bool>(false);
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("events", o->event_files, "Interaction log file(s)")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "Store to write (HDF5)")->required();
  cmd->add_flag("--force", o->overwrite, "Replace the output store if it exists");
  cmd->add_option("--labels", o->labels_file, "Item labels (and titles): movies.csv, u.item, or item,label[,weight] (a header may add a 'title' column)")->check(CLI::ExistingFile);
  add_reader_options(*cmd, o->events, o->labels, *reader);
  cmd->add_option("--slice", *slice, kSliceHelp)->default_val("month");
  cmd->add_option("--aggregate", o->aggregate, "Slice weights: count of events, or sum of values; auto: sum if there is a value column")->default_val("auto");
  cmd->add_flag("--json", *json, "Print the report as JSON on stdout");
  add_threads_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    o->slicing = graph::Slicing::parse(*slice);
    apply_reader_options(*reader, o->events, o->labels);
    o->threads = common->threads;
    o->progress = make_progress();
    io::IngestReport r = io::ingest(*o);
    end_progress();
    if (!r.skipped_events.empty()) fmt::print(stderr, "driftrec: warning: events: {}\n", r.skipped_events.summary());
    if (!r.skipped_labels.empty()) fmt::print(stderr, "driftrec: warning: labels: {}\n", r.skipped_labels.summary());
    if (*json)
      fmt::print("{}\n", r.to_json().dump(2));
    else
      print_ingest_report(r);
  });
}

}  // namespace driftrec::cli
