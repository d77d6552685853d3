// The interaction log, the source of truth every slicing is derived from.
// Stored as an array of small records while ingesting (one sort moves whole events);
// written out column by column.
#pragma once
#include <span>
#include <string_view>
#include <vector>

#include "graph/csr.hpp"
#include "graph/types.hpp"

namespace driftrec::graph {

struct Event {
  Time time;
  Index user;
  Index item;
  float value;
};

inline bool event_before(const Event& a, const Event& b) {
  if (a.time != b.time) return a.time < b.time;
  if (a.user != b.user) return a.user < b.user;
  return a.item < b.item;
}

// Sorts by (time, user, item), keeping the input order of exact ties, so the result is
// deterministic. Already-sorted input (the common case for logs) costs one pass.
void sort_events(std::vector<Event>& events);

bool events_sorted(std::span<const Event> events);

// The same events, one array per field: what the store holds and what slicing scans.
struct EventColumns {
  std::vector<Index> user;
  std::vector<Index> item;
  std::vector<Time> time;
  std::vector<float> value;
  std::size_t size() const { return time.size(); }
};

// Moves `events` into columns and frees it, on `threads` threads (0: OpenMP's default).
EventColumns to_columns(std::vector<Event>&& events, int threads = 0);

// Sorts the columns by (time, user, item), keeping the input order of exact ties: the order
// sort_events gives. Ingest's sort (graph/event_sort.cpp): where the three fields' ranges
// fit in 64 bits together, each event becomes one packed key and (key, value) pairs are
// radix sorted, 24 bytes an event at the peak; otherwise a permutation of the rows by the
// time's high bits, the columns gathered through it, at most 28. On `threads` threads.
void sort_columns(EventColumns& events, int threads = 0);

// How a slice turns events into one weight per (user, item): their number or the sum of
// their values.
enum class Aggregate { count, sum };
Aggregate parse_aggregate(std::string_view s);  // "count" | "sum"
const char* to_string(Aggregate a);

// The users x items matrix of events [first, last).
CsrMatrix slice_matrix(const EventColumns& events, std::size_t first, std::size_t last,
                       Index n_users, Index n_items, Aggregate aggregate);

}  // namespace driftrec::graph
