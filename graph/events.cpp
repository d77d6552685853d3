#include "graph/events.hpp"

#include <algorithm>
#include <parallel/algorithm>

#include <fmt/format.h>

namespace driftrec::graph {

bool events_sorted(std::span<const Event> events) {
  for (std::size_t i = 1; i < events.size(); ++i)
    if (event_before(events[i], events[i - 1])) return false;
  return true;
}

void sort_events(std::vector<Event>& events) {
  if (events_sorted(events)) return;
  // libstdc++'s parallel mode runs a multiway mergesort over the OpenMP threads; it is
  // stable, so equal keys keep the order in which they were read.
  __gnu_parallel::stable_sort(events.begin(), events.end(), event_before);
}

EventColumns to_columns(std::vector<Event>&& events) {
  EventColumns c;
  const std::size_t n = events.size();
  c.user.resize(n);
  c.item.resize(n);
  c.time.resize(n);
  c.value.resize(n);
#pragma omp parallel for schedule(static)
  for (std::size_t k = 0; k < n; ++k) {
    c.user[k] = events[k].user;
    c.item[k] = events[k].item;
    c.time[k] = events[k].time;
    c.value[k] = events[k].value;
  }
  std::vector<Event>().swap(events);
  return c;
}

Aggregate parse_aggregate(std::string_view s) {
  if (s == "count") return Aggregate::count;
  if (s == "sum") return Aggregate::sum;
  throw InputError(fmt::format("--aggregate: expected 'count' or 'sum', found '{}'", s));
}

const char* to_string(Aggregate a) { return a == Aggregate::count ? "count" : "sum"; }

CsrMatrix slice_matrix(const EventColumns& events, std::size_t first, std::size_t last,
                       Index n_users, Index n_items, Aggregate aggregate) {
  std::vector<Triplet> t(last - first);
  for (std::size_t k = first; k < last; ++k)
    t[k - first] = {events.user[k], events.item[k],
                    aggregate == Aggregate::count ? 1.0f : events.value[k]};
  return csr_from_triplets(n_users, n_items, t);
}

}  // namespace driftrec::graph
