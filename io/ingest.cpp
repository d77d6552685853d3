#include "io/ingest.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/parallel.hpp"
#include "io/store_info.hpp"

namespace driftrec::io {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

nlohmann::json skip_json(const SkipReport& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [reason, info] : s.reasons()) j[reason] = {{"count", info.first}, {"first", info.second}};
  return j;
}

}  // namespace

nlohmann::json IngestReport::to_json() const {
  return {{"output", output},
          {"users", users},
          {"items", items},
          {"labels", labels},
          {"events", events},
          {"labelled_items", labelled_items},
          {"slices", slices},
          {"slicing", slicing},
          {"aggregate", aggregate},
          {"input_bytes", input_bytes},
          {"seconds", {{"read", seconds_read}, {"sort", seconds_sort}, {"write", seconds_write}, {"total", seconds_total}}},
          {"skipped_event_lines", skip_json(skipped_events)},
          {"skipped_label_lines", skip_json(skipped_labels)},
          {"label_rows_for_unknown_items", label_rows_unknown_items},
          {"label_pairs_repeated", label_pairs_repeated},
          {"negative_values", {{"dropped", negative_dropped}, {"clipped", negative_clipped}}},
          {"notes", notes}};
}

namespace {

// What ingest and ingest_columns share once the events are read: the aggregation, the
// labels (read by `read_labels` against the event log's items), the sort, the store and
// the report. `source` names the input in messages.
using LabelReading = std::function<void(const IdMap& items, ItemLabels& labels)>;

// Appends the events read_events left in log.events to the columns, freeing them.
void move_to_columns(EventLog& log, graph::EventColumns& columns, int threads) {
  graph::EventColumns more = graph::to_columns(std::move(log.events), threads);
  if (columns.size() == 0) {
    columns = std::move(more);
    return;
  }
  columns.time.insert(columns.time.end(), more.time.begin(), more.time.end());
  columns.user.insert(columns.user.end(), more.user.begin(), more.user.end());
  columns.item.insert(columns.item.end(), more.item.begin(), more.item.end());
  columns.value.insert(columns.value.end(), more.value.begin(), more.value.end());
}

// `events`: the log's events in input order (log.events is empty).
IngestReport write_ingested(StoreWriter& writer, EventLog& log, graph::EventColumns&& events, const std::string& source,
                            const std::string& aggregate_option, const LabelReading& read_labels,
                            const graph::Slicing& slicing, const StageProgress& progress,
                            std::chrono::steady_clock::time_point t0, IngestReport r) {
  DRIFTREC_ASSERT(log.events.empty());
  if (events.size() == 0)
    throw InputError(fmt::format("no valid events in {}{}", source,
                                 log.skipped.empty() ? "" : " (" + log.skipped.summary() + ")"));
  graph::Aggregate aggregate = aggregate_option == "auto"
                                   ? (log.has_value ? graph::Aggregate::sum : graph::Aggregate::count)
                                   : graph::parse_aggregate(aggregate_option);

  ItemLabels labels;
  if (read_labels) read_labels(log.items, labels);
  r.seconds_read = seconds_since(t0);

  auto t1 = std::chrono::steady_clock::now();
  StoreContent c;
  c.events = std::move(events);
  graph::sort_columns(c.events, writer.threads());
  r.seconds_sort = seconds_since(t1);

  auto t2 = std::chrono::steady_clock::now();
  c.users = log.users.names();
  c.items = log.items.names();
  c.item_titles = std::move(labels.titles);
  c.labels = labels.labels.names();
  c.item_labels = item_label_matrix(labels, log.items.size());
  check_slice_sums(c, slicing, aggregate, source);
  const std::size_t slices = write_store(writer, c, slicing, aggregate, [&](std::uint64_t d, std::uint64_t t) {
    if (progress) progress("slices", d, t);
  });
  r.seconds_write = seconds_since(t2);

  // The report is filled before the commit: nothing that can fail (allocate) may follow
  // the rename, or a run would report an error for a store it did replace.
  r.users = log.users.size();
  r.items = log.items.size();
  r.labels = labels.labels.size();
  r.events = static_cast<std::int64_t>(c.events.size());
  for (graph::Index i = 0; i < c.item_labels.n_rows; ++i) r.labelled_items += c.item_labels.row_length(i) > 0;
  r.slices = static_cast<std::int64_t>(slices);
  r.slicing = slicing.spec();
  r.aggregate = graph::to_string(aggregate);
  r.skipped_events = log.skipped;
  r.skipped_labels = labels.skipped;
  r.label_rows_unknown_items = labels.unknown_item_rows;
  r.label_pairs_repeated = labels.duplicate_pairs;
  r.negative_dropped = log.negative_dropped;
  r.negative_clipped = log.negative_clipped;
  r.notes = log.notes;
  if (r.negative_dropped > 0) r.notes.push_back(fmt::format("{} events with a negative value dropped (--negative drop)", r.negative_dropped));
  if (r.negative_clipped > 0) r.notes.push_back(fmt::format("{} negative values clipped to 0 (--negative clip)", r.negative_clipped));
  r.notes.insert(r.notes.end(), labels.notes.begin(), labels.notes.end());
  writer.commit();
  r.seconds_write = seconds_since(t2);
  r.seconds_total = seconds_since(t0);
  return r;
}

}  // namespace

void check_slice_sums(const StoreContent& c, const graph::Slicing& slicing, graph::Aggregate aggregate,
                      const std::string& source) {
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  if (aggregate != graph::Aggregate::sum) return;  // a count of events stays far below float32's range
  double total = 0;
  for (const float v : c.events.value) total += std::abs(static_cast<double>(v));
  if (total <= kFloatMax) return;  // no sum of some of the values can reach it either
  // Rare: build each slice as write_store will and look for an entry that overflowed.
  const graph::Periods periods = graph::make_periods(slicing, c.events.time);
  const std::vector<std::size_t> first = graph::period_offsets(periods, c.events.time);
  const auto n_users = static_cast<Index>(c.users.size());
  const auto n_items = static_cast<Index>(c.items.size());
  for (std::size_t k = 0; k < periods.size(); ++k) {
    const graph::CsrMatrix m = graph::slice_matrix(c.events, first[k], first[k + 1], n_users, n_items, aggregate);
    for (Index u = 0; u < m.n_rows; ++u)
      for (graph::Offset e = m.indptr[u]; e < m.indptr[u + 1]; ++e) {
        if (std::isfinite(m.data[e])) continue;
        const Index item = m.indices[e];
        double sum = 0;
        std::int64_t n = 0;
        for (std::size_t j = first[k]; j < first[k + 1]; ++j)
          if (c.events.user[j] == u && c.events.item[j] == item) {
            sum += c.events.value[j];
            ++n;
          }
        throw InputError(fmt::format(
            "{}: user '{}', item '{}' in period {} ({} to {}): the values of its {} events sum to {:.6g}, beyond "
            "float32's range (magnitude at most {:.8g}) that slices are stored in; scale the values down, or "
            "ingest with --aggregate count",
            source, c.users[static_cast<std::size_t>(u)], c.items[static_cast<std::size_t>(item)], k,
            format_time(periods.begin[k]), format_time(periods.end[k]), n, sum, kFloatMax));
      }
  }
}

IngestReport ingest(const IngestOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.event_files.empty()) throw InputError("ingest: no event file given");
  // Option typos fail before gigabytes are read.
  if (o.aggregate != "auto") graph::parse_aggregate(o.aggregate);
  validate_event_options(o.events);
  validate_label_options(o.labels);
  IngestReport r;
  r.output = o.output;
  // Fail on an existing target before reading gigabytes, and never write over an input.
  std::vector<std::string> inputs = o.event_files;
  if (!o.labels_file.empty()) inputs.push_back(o.labels_file);
  refuse_output_onto_input(o.output, inputs);
  StoreWriter writer(o.output, o.overwrite, o.threads);

  EventLog log;
  graph::EventColumns events;
  for (const std::string& path : o.event_files) {
    EventReadOptions eo = o.events;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) r.input_bytes += size;
    if (o.progress) eo.progress = [&](std::uint64_t d, std::uint64_t t) { o.progress("read", d, t); };
    if (read_events_parallel(path, eo, o.threads, log, events)) continue;
    read_events(path, eo, log);  // a line to report or skip: the one reader that does
    move_to_columns(log, events, o.threads);
  }
  LabelReading labels;
  if (!o.labels_file.empty())
    labels = [&](const IdMap& items, ItemLabels& out) { read_labels(o.labels_file, o.labels, items, out); };
  return write_ingested(writer, log, std::move(events), fmt::format("{}", fmt::join(o.event_files, ", ")), o.aggregate, labels,
                        o.slicing, o.progress, t0, std::move(r));
}

IngestReport ingest_columns(const EventColumnsIn& events, const LabelColumnsIn* label_columns,
                            const ColumnIngestOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (o.aggregate != "auto") graph::parse_aggregate(o.aggregate);
  IngestReport r;
  r.output = o.output;
  StoreWriter writer(o.output, o.overwrite, o.threads);
  EventLog log;
  read_event_columns(events, o.on_error, log, o.negative);
  graph::EventColumns columns;
  move_to_columns(log, columns, o.threads);
  LabelReading labels;
  if (label_columns)
    labels = [&](const IdMap& items, ItemLabels& out) { read_label_columns(*label_columns, o.on_error, items, out); };
  return write_ingested(writer, log, std::move(columns), "the event columns", o.aggregate, labels, o.slicing, o.progress, t0,
                        std::move(r));
}

ResliceReport reslice(const std::string& store_path, const graph::Slicing& slicing,
                      const std::string& aggregate, const StageProgress& progress, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  core::check_threads(threads);
  ResliceReport r;
  StoreContent c;
  graph::Aggregate agg;
  // The writer (and its lock) first: the store read below is the one replaced.
  StoreWriter writer(store_path, StoreWriter::Rewrite{}, threads);
  {
    Store s = Store::open(store_path);
    c.users = s.users();
    c.items = s.items();
    if (s.has_titles()) c.item_titles = s.item_titles();
    c.labels = s.labels();
    c.item_labels = s.item_labels();
    c.events = s.events();
    r.dropped_results = s.results();
    agg = aggregate == "keep" ? s.aggregate() : graph::parse_aggregate(aggregate);
  }
  check_slice_sums(c, slicing, agg, store_path);
  const std::size_t slices = write_store(writer, c, slicing, agg, [&](std::uint64_t d, std::uint64_t t) {
    if (progress) progress("slices", d, t);
  });
  r.slicing = slicing.spec();  // before the commit: nothing that can fail may follow it
  r.slices = static_cast<std::int64_t>(slices);
  writer.commit();
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace driftrec::io
