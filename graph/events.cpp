#include "graph/events.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::graph {

bool events_sorted(std::span<const Event> events) {
  for (std::size_t i = 1; i < events.size(); ++i)
    if (event_before(events[i], events[i - 1])) return false;
  return true;
}

namespace {

// Stable LSD radix sort of events by time: 11-bit digits of (time - min time), skipping
// digits every event shares. Three passes cover a 2^33-second (272-year) span.
void radix_sort_by_time(std::vector<Event>& events) {
  constexpr int kBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kBits;
  Time lo = events.front().time, hi = lo;
  for (const Event& e : events) {
    lo = std::min(lo, e.time);
    hi = std::max(hi, e.time);
  }
  const auto span = static_cast<std::uint64_t>(hi - lo);
  std::vector<Event> tmp(events.size());
  for (int shift = 0; shift < 64 && (span >> shift) != 0; shift += kBits) {
    std::vector<std::size_t> count(kBuckets + 1, 0);
    for (const Event& e : events) ++count[((static_cast<std::uint64_t>(e.time - lo) >> shift) & (kBuckets - 1)) + 1];
    if (*std::max_element(count.begin(), count.end()) == events.size()) continue;
    for (std::size_t b = 1; b <= kBuckets; ++b) count[b] += count[b - 1];
    for (const Event& e : events) tmp[count[(static_cast<std::uint64_t>(e.time - lo) >> shift) & (kBuckets - 1)]++] = e;
    events.swap(tmp);
  }
}

}  // namespace

void sort_events(std::vector<Event>& events) {
  if (events_sorted(events)) return;
  // Time first (radix, linear), then (user, item) within runs of equal time, which are
  // short in real logs; both steps are stable, so exact ties keep their input order.
  radix_sort_by_time(events);
  auto by_user_item = [](const Event& a, const Event& b) {
    return a.user != b.user ? a.user < b.user : a.item < b.item;
  };
  for (std::size_t k = 0; k < events.size();) {
    std::size_t end = k + 1;
    while (end < events.size() && events[end].time == events[k].time) ++end;
    if (end - k > 1) std::stable_sort(events.begin() + static_cast<std::ptrdiff_t>(k), events.begin() + static_cast<std::ptrdiff_t>(end), by_user_item);
    k = end;
  }
}

EventColumns to_columns(std::vector<Event>&& events, int threads) {
  core::check_threads(threads);
  EventColumns c;
  const std::size_t n = events.size();
  c.user.resize(n);
  c.item.resize(n);
  c.time.resize(n);
  c.value.resize(n);
  // Copies only: nothing here throws or allocates, so a plain region will do.
#pragma omp parallel for schedule(static) num_threads(core::thread_count(threads))
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
  // csr_from_triplets' steps straight from the columns (no triplet copy): the entries of a
  // row reach its sort in the same order, so the sums are the same to the bit.
  CsrMatrix m;
  m.n_rows = n_users;
  m.n_cols = n_items;
  m.indptr.assign(static_cast<std::size_t>(n_users) + 1, 0);
  for (std::size_t k = first; k < last; ++k) {
    const Index u = events.user[k], i = events.item[k];
    if (u < 0 || u >= n_users || i < 0 || i >= n_items)
      throw InputError(fmt::format("csr_from_triplets: entry ({}, {}) outside a {} x {} matrix", u, i, n_users, n_items));
    ++m.indptr[static_cast<std::size_t>(u) + 1];
  }
  std::partial_sum(m.indptr.begin(), m.indptr.end(), m.indptr.begin());
  std::vector<std::pair<Index, float>> entries(last - first);
  {
    std::vector<Offset> fill(m.indptr.begin(), m.indptr.end() - 1);
    for (std::size_t k = first; k < last; ++k)
      entries[static_cast<std::size_t>(fill[static_cast<std::size_t>(events.user[k])]++)] = {
          events.item[k], aggregate == Aggregate::count ? 1.0f : events.value[k]};
  }
  m.indices.reserve(entries.size());
  m.data.reserve(entries.size());
  Offset begin = 0;
  for (Index r = 0; r < n_users; ++r) {
    const Offset end = m.indptr[static_cast<std::size_t>(r) + 1];
    const auto row_first = entries.begin() + begin, row_last = entries.begin() + end;
    std::sort(row_first, row_last, [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto row_start = static_cast<Offset>(m.indices.size());
    for (auto it = row_first; it != row_last; ++it) {
      if (static_cast<Offset>(m.indices.size()) > row_start && m.indices.back() == it->first)
        m.data.back() += it->second;
      else {
        m.indices.push_back(it->first);
        m.data.push_back(it->second);
      }
    }
    m.indptr[static_cast<std::size_t>(r) + 1] = static_cast<Offset>(m.indices.size());
    begin = end;
  }
  return m;
}

}  // namespace driftrec::graph

