#include "io/ingest.hpp"

#include <chrono>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
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

// Hands the free memory of the heap back to the system. Ingest frees tables of a few bytes
// an event (id maps, the reader's per-part ids) before it allocates the sort's scratch; glibc
// keeps freed blocks below its mmap threshold for reuse, so without this they would count
// in the peak a second time under the sort's fresh mappings.
void release_free_memory() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

// False when no slice entry can sum beyond float32's range: a count of events stays far
// below it, and no sum of some of the values can exceed the sum of all their magnitudes.
bool slice_sums_may_overflow(const std::vector<float>& values, graph::Aggregate aggregate) {
  if (aggregate != graph::Aggregate::sum) return false;
  double total = 0;
  for (const float v : values) total += std::abs(static_cast<double>(v));
  return total > std::numeric_limits<float>::max();
}

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

  release_free_memory();  // the reader's per-part ids
  ItemLabels labels;
  if (read_labels) read_labels(log.items, labels);
  r.seconds_read = seconds_since(t0);

  const Index n_users = log.users.size(), n_items = log.items.size();
  r.users = n_users;
  r.items = n_items;
  r.labels = labels.labels.size();
  r.events = static_cast<std::int64_t>(events.size());
  graph::CsrMatrix item_labels = item_label_matrix(labels, n_items);
  labels.entries = {};
  for (graph::Index i = 0; i < item_labels.n_rows; ++i) r.labelled_items += item_labels.row_length(i) > 0;
  const std::vector<std::string> label_names = labels.labels.names();

  // The tables go out from the id maps, which are then freed, before the sort's scratch is
  // allocated: the maps of a log with many users are a few bytes an event. Only a log whose
  // values might sum beyond float32 keeps them through the sort, for check_slice_sums's message.
  double seconds_tables = 0;
  auto write_tables = [&] {
    const auto t = std::chrono::steady_clock::now();
    StoreTables tables;
    tables.n_users = static_cast<std::uint64_t>(n_users);
    tables.n_items = static_cast<std::uint64_t>(n_items);
    tables.user = [&](std::uint64_t i) { return log.users.name(static_cast<Index>(i)); };
    tables.item = [&](std::uint64_t i) { return log.items.name(static_cast<Index>(i)); };
    tables.item_titles = &labels.titles;
    tables.labels = &label_names;
    tables.item_labels = &item_labels;
    write_store_tables(writer, tables, slicing);
    log.users = IdMap();
    log.items = IdMap();
    labels.titles = {};
    item_labels = {};
    release_free_memory();
    seconds_tables = seconds_since(t);
  };
  const bool check_sums = slice_sums_may_overflow(events.value, aggregate);
  if (!check_sums) write_tables();

  auto t1 = std::chrono::steady_clock::now();
  graph::sort_columns(events, writer.threads());
  release_free_memory();  // the sort's scratch, before the slices are built
  r.seconds_sort = seconds_since(t1);

  auto t2 = std::chrono::steady_clock::now();
  if (check_sums) {
    StoreContent c;
    c.users = log.users.names();
    c.items = log.items.names();
    c.events = std::move(events);
    check_slice_sums(c, slicing, aggregate, source);
    events = std::move(c.events);
    write_tables();
  }
  const std::size_t slices = write_store_events(writer, events, n_users, n_items, slicing, aggregate,
                                                [&](std::uint64_t d, std::uint64_t t) {
                                                  if (progress) progress("slices", d, t);
                                                });
  r.seconds_write = seconds_since(t2) + (check_sums ? 0 : seconds_tables);

  // The report is filled before the commit: nothing that can fail (allocate) may follow
  // the rename, or a run would report an error for a store it did replace.
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
  r.seconds_write = seconds_since(t2) + (check_sums ? 0 : seconds_tables);
  r.seconds_total = seconds_since(t0);
  return r;
}

}  // namespace

void check_slice_sums(const StoreContent& c, const graph::Slicing& slicing, graph::Aggregate aggregate,
                      const std::string& source) {
  constexpr double kFloatMax = std::numeric_limits<float>::max();
  if (!slice_sums_may_overflow(c.events.value, aggregate)) return;
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
