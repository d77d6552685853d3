#include "graph/events.hpp"

#include <algorithm>
#include <bit>
#include <limits>

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
  std::vector<Triplet> t(last - first);
  for (std::size_t k = first; k < last; ++k)
    t[k - first] = {events.user[k], events.item[k],
                    aggregate == Aggregate::count ? 1.0f : events.value[k]};
  return csr_from_triplets(n_users, n_items, t);
}

}  // namespace driftrec::graph

namespace driftrec::graph {
namespace {

// out[k] = in[order[k]], freeing `in`.
template <class T>
void gather(std::vector<T>& in, const std::vector<std::uint32_t>& order, int threads) {
  std::vector<T> out(order.size());
  core::parallel_for(static_cast<std::int64_t>(order.size()), {threads}, [&](std::int64_t k) {
    out[static_cast<std::size_t>(k)] = in[order[static_cast<std::size_t>(k)]];
  });
  in.swap(out);
}

bool columns_sorted(const EventColumns& c) {
  for (std::size_t k = 1; k < c.size(); ++k) {
    if (c.time[k] != c.time[k - 1]) {
      if (c.time[k] < c.time[k - 1]) return false;
    } else if (c.user[k] != c.user[k - 1] ? c.user[k] < c.user[k - 1] : c.item[k] < c.item[k - 1]) {
      return false;
    }
  }
  return true;
}

}  // namespace

void sort_columns(EventColumns& c, int threads) {
  core::check_threads(threads);
  const std::size_t n = c.size();
  DRIFTREC_ASSERT(c.user.size() == n && c.item.size() == n && c.value.size() == n);
  if (n < 2 || columns_sorted(c)) return;
  DRIFTREC_THROW_IF_NOT(n <= std::numeric_limits<std::uint32_t>::max(),
                        fmt::format("{} events: ingest sorts at most 2^32 - 1 in one store", n));
  const auto [lo_it, hi_it] = std::minmax_element(c.time.begin(), c.time.end());
  const Time lo = *lo_it;
  const auto span = static_cast<std::uint64_t>(*hi_it - lo);
  const int team = std::max(1, core::thread_count(threads));

  // Buckets of the time's high bits, about 16 events each on average.
  const int want_bits = std::clamp(static_cast<int>(std::bit_width(n)) - 4, 8, 22);
  const int shift = std::max(0, static_cast<int>(std::bit_width(span)) - want_bits);
  const std::size_t n_buckets = static_cast<std::size_t>(span >> shift) + 1;
  auto bucket = [&](std::size_t k) { return static_cast<std::size_t>(static_cast<std::uint64_t>(c.time[k] - lo) >> shift); };

  // Counting sort of the rows by bucket; each thread takes one contiguous range of rows, so
  // the scatter is stable.
  const auto parts = static_cast<std::size_t>(team);
  std::vector<std::vector<std::size_t>> count(parts);
  auto range = [&](std::size_t p) { return std::pair{n * p / parts, n * (p + 1) / parts}; };
  core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t p) {
    auto& h = count[static_cast<std::size_t>(p)];
    h.assign(n_buckets, 0);
    const auto [b, e] = range(static_cast<std::size_t>(p));
    for (std::size_t k = b; k < e; ++k) ++h[bucket(k)];
  });
  std::vector<std::size_t> start(n_buckets + 1, 0);
  {
    std::size_t at = 0;
    for (std::size_t b = 0; b < n_buckets; ++b) {
      start[b] = at;
      for (std::size_t p = 0; p < parts; ++p) {
        const std::size_t m = count[p][b];
        count[p][b] = at;
        at += m;
      }
    }
    start[n_buckets] = at;
  }
  std::vector<std::uint32_t> order(n);
  core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t p) {
    auto& next = count[static_cast<std::size_t>(p)];
    const auto [b, e] = range(static_cast<std::size_t>(p));
    for (std::size_t k = b; k < e; ++k) order[next[bucket(k)]++] = static_cast<std::uint32_t>(k);
  });
  std::vector<std::vector<std::size_t>>().swap(count);

  // The columns in bucket order: one gather each, times as 32-bit offsets where the span
  // allows, so the old and new time columns are never held at once.
  gather(c.user, order, threads);
  gather(c.item, order, threads);
  gather(c.value, order, threads);
  if (span <= std::numeric_limits<std::uint32_t>::max()) {
    std::vector<std::uint32_t> offset(n);
    core::parallel_for(static_cast<std::int64_t>(n), {threads}, [&](std::int64_t k) {
      offset[static_cast<std::size_t>(k)] = static_cast<std::uint32_t>(c.time[order[static_cast<std::size_t>(k)]] - lo);
    });
    std::vector<Time>().swap(c.time);
    std::vector<std::uint32_t>().swap(order);
    c.time.resize(n);
    core::parallel_for(static_cast<std::int64_t>(n), {threads}, [&](std::int64_t k) {
      c.time[static_cast<std::size_t>(k)] = lo + offset[static_cast<std::size_t>(k)];
    });
  } else {
    gather(c.time, order, threads);
    std::vector<std::uint32_t>().swap(order);
  }

  // Then each bucket, now contiguous and in input order, by (time, user, item, position):
  // the position keeps exact ties in input order.
  struct Scratch {
    std::vector<std::uint32_t> pos;
    std::vector<Time> time;
    std::vector<Index> user, item;
    std::vector<float> value;
  };
  constexpr std::int64_t kBucketsPerTask = 4096;
  const auto tasks = static_cast<std::int64_t>((n_buckets + kBucketsPerTask - 1) / kBucketsPerTask);
  core::parallel_for_with_state(
      tasks, {threads, core::Schedule::dynamic}, [] { return Scratch(); },
      [&](std::int64_t t, Scratch& s) {
        const std::size_t b0 = static_cast<std::size_t>(t) * kBucketsPerTask;
        const std::size_t b1 = std::min(n_buckets, b0 + kBucketsPerTask);
        for (std::size_t b = b0; b < b1; ++b) {
          const std::size_t first = start[b], m = start[b + 1] - first;
          auto before = [&](std::size_t x, std::size_t y) {  // rows first + x, first + y
            x += first;
            y += first;
            if (c.time[x] != c.time[y]) return c.time[x] < c.time[y];
            if (c.user[x] != c.user[y]) return c.user[x] < c.user[y];
            return c.item[x] < c.item[y];
          };
          bool sorted = true;
          for (std::size_t j = 1; j < m && sorted; ++j) sorted = !before(j, j - 1);
          if (sorted) continue;
          s.pos.resize(m);
          for (std::size_t j = 0; j < m; ++j) s.pos[j] = static_cast<std::uint32_t>(j);
          std::sort(s.pos.begin(), s.pos.end(), [&](std::uint32_t x, std::uint32_t y) {
            if (before(x, y)) return true;
            if (before(y, x)) return false;
            return x < y;
          });
          auto permute = [&](auto& column, auto& tmp) {
            tmp.resize(m);
            for (std::size_t j = 0; j < m; ++j) tmp[j] = column[first + s.pos[j]];
            std::copy(tmp.begin(), tmp.end(), column.begin() + static_cast<std::ptrdiff_t>(first));
          };
          permute(c.time, s.time);
          permute(c.user, s.user);
          permute(c.item, s.item);
          permute(c.value, s.value);
        }
      });
}

}  // namespace driftrec::graph
