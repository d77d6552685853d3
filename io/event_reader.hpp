// Readers for interaction logs: MovieLens ratings.csv, ratings.dat ("::"), u.data (tab),
// and any delimited file whose user, item, time and optional value columns are named by
// a header or by --columns; and columns already in memory (the Python module's arrays),
// checked row by row as a file's fields are. Ids are mapped to dense indices as they are
// first seen.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "graph/events.hpp"
#include "io/id_map.hpp"
#include "io/text.hpp"
#include "io/time_parse.hpp"

namespace driftrec::io {

// What ingest does with a negative value. Interactions are weights >= 0 (propagation,
// random walks and ALS all assume it), so a negative value is refused unless the user
// says what it means: drop the event, or clip it to 0 (a log where -1 means dislike).
enum class NegativeValues { refuse, drop, clip };
NegativeValues parse_negative_values(std::string_view s);  // refuse | drop | clip
std::string to_string(NegativeValues n);

// The one check of an event's value, for files and in-memory columns alike: finite,
// within float32's range (values are stored as float32), and >= 0 unless `negative`
// says otherwise. `value` is a double so that 1e40 is told from infinity.
struct ValueCheck {
  enum Kind { keep, drop, bad } kind = keep;
  float value = 0;       // keep: the value to store (0 for a clipped negative value)
  bool clipped = false;  // keep: a negative value clipped to 0
  std::string reason;    // bad: short form for skip counts ("negative value")
  std::string expected;  // bad: what was expected, for the message
  std::string hint;      // bad: what to do, appended after what was found ("; ...")
};
ValueCheck check_value(double value, NegativeValues negative);

struct EventReadOptions {
  std::string format = "auto";  // auto | movielens-csv | movielens-dat | ml100k | delimited
  std::string delimiter;        // delimited: one character, "tab", "space", "pipe" or "::"; empty: guessed
  // "user=userId,item=movieId,time=timestamp,value=rating" (names or 1-based positions),
  // or the short form "userId,movieId,timestamp[,rating]" in that order.
  std::string columns;
  std::string header = "auto";  // auto | yes | no
  TimeFormat time_format = TimeFormat::auto_detect;
  OnError on_error = OnError::fail;
  NegativeValues negative = NegativeValues::refuse;
  ProgressFn progress;
};

struct EventLog {
  std::vector<graph::Event> events;
  IdMap users;
  IdMap items;
  bool has_value = true;           // false once a file without a value column is read
  SkipReport skipped;
  std::int64_t negative_dropped = 0, negative_clipped = 0;  // by NegativeValues::drop / clip
  std::vector<std::string> notes;  // how each file was read, for the report
};

// Throws InputError naming the option if a choice (format, header, delimiter) is not one
// we know.
void validate_event_options(const EventReadOptions& opts);

// Appends the events of `path` to `log`. Throws InputError for unreadable or malformed
// input (with on_error = skip, malformed lines are counted in log.skipped instead).
void read_events(const std::string& path, const EventReadOptions& opts, EventLog& log);

// Ingest's reader: the events of `path` appended to `out` (in file order, unsorted) and
// their ids to log.users / log.items, exactly as read_events would number them, read on
// `threads` threads (0: OpenMP's default), each one part of the file with ids of its own,
// merged in file order afterwards. Returns false, leaving `log` and `out` as they were, when
// the file has a line that read_events would refuse or skip (or a "::" delimiter): the
// caller then reads the file with read_events, which reports or skips that line.
// Files under `min_part_bytes` are one part (tests set it low to split small files).
bool read_events_parallel(const std::string& path, const EventReadOptions& opts, int threads, EventLog& log,
                          graph::EventColumns& out, std::uint64_t min_part_bytes = std::uint64_t{8} << 20);

// One event per row; every column has the same length.
struct EventColumnsIn {
  IdColumn user;
  IdColumn item;
  std::span<const graph::Time> time;  // Unix seconds
  std::span<const double> value;      // empty: no value column (aggregate "auto" counts)
};

// Appends the rows of `in` to `log` with a file's checks: ids as id_problem wants them,
// times between kMinTime and kMaxTime, values as check_value wants them. Throws
// InputError naming the column and row ("value[7]: expected a finite number, found nan"),
// or on columns of different lengths; with on_error = skip, bad rows are counted in
// log.skipped instead.
void read_event_columns(const EventColumnsIn& in, OnError on_error, EventLog& log,
                        NegativeValues negative = NegativeValues::refuse);

}  // namespace driftrec::io
