// sort_columns: ingest's sort of the event columns by (time, user, item), exact ties in
// input order. Two ways, the same order:
//
// Packed keys, when (time - min time, user - min user, item - min item) fit in 64 bits
// together (a log of years in seconds with a million users and items still does): each
// event becomes one integer key whose order is the events' order, written over its time,
// and (key, value) pairs are sorted by a stable radix sort. One scatter by the key's top
// bits cuts them into buckets of a few ten thousand events, then each bucket is sorted on
// its own by least-significant-digit passes while it sits in the thread's cache, so the
// memory is streamed through about three times in all. The columns are unpacked from the
// keys at the end. The scatter is the peak: the keys, the sorted values and the sorted
// keys, 20 bytes an event, as much as the columns.
//
// Buckets of row indices otherwise: a counting sort of the rows by the time's high bits,
// the columns gathered through that permutation, and each small bucket then sorted by
// comparison; the columns grow by at most 8 bytes an event.
#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "graph/events.hpp"

namespace driftrec::graph {
namespace {

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

// Rows [0, n) cut into `parts` contiguous ranges, part p the p-th.
std::pair<std::size_t, std::size_t> part_range(std::size_t n, std::size_t parts, std::size_t p) {
  return {n * p / parts, n * (p + 1) / parts};
}

// body(first, last) over [0, n) in `parts` contiguous blocks, one each, on `threads`.
template <class Body>
void for_blocks(std::size_t n, int threads, Body&& body) {
  const auto parts = static_cast<std::size_t>(std::max(1, core::thread_count(threads)));
  core::ParallelFor opt{threads};
  opt.parallel = n >= (std::size_t{1} << 16);
  core::parallel_for(static_cast<std::int64_t>(parts), opt, [&](std::int64_t p) {
    const auto [b, e] = part_range(n, parts, static_cast<std::size_t>(p));
    body(b, e);
  });
}

// Turns per-part bucket counts into each part's first slot in each bucket (parts in order
// within a bucket, so a scatter part by part is stable); returns where each bucket starts,
// and the end.
std::vector<std::size_t> bucket_starts(std::vector<std::vector<std::size_t>>& per_part, std::size_t n_buckets) {
  std::vector<std::size_t> start(n_buckets + 1, 0);
  std::size_t at = 0;
  for (std::size_t b = 0; b < n_buckets; ++b) {
    start[b] = at;
    for (auto& counts : per_part) {
      const std::size_t m = counts[b];
      counts[b] = at;
      at += m;
    }
  }
  start[n_buckets] = at;
  return start;
}

// ---- packed keys ----

// How an event packs into a key: (time - time0) << time_shift | (user - user0) << item_bits
// | (item - item0).
struct Packing {
  Time time0 = 0;
  Index user0 = 0, item0 = 0;
  int item_bits = 0, user_bits = 0, time_bits = 0;
  int bits() const { return time_bits + user_bits + item_bits; }
  int time_shift() const { return user_bits + item_bits; }
};

// Stable sort of the rows of (keys, values) by the key bits below `high` (the bits above it
// are equal in every row), least significant 8-bit digit first, through the scratch arrays
// (at least as long); digits every row shares are skipped.
void lsd_sort(std::uint64_t* keys, float* values, std::size_t m, int high, std::vector<std::uint64_t>& key_scratch,
              std::vector<float>& value_scratch) {
  if (m < 2 || high <= 0) return;
  constexpr int kDigit = 8;
  constexpr std::size_t kRadix = std::size_t{1} << kDigit;
  const int passes = (high + kDigit - 1) / kDigit;
  // Every digit's counts in one read.
  std::uint32_t count[8][kRadix];
  std::memset(count, 0, sizeof(std::uint32_t) * kRadix * static_cast<std::size_t>(passes));
  for (std::size_t j = 0; j < m; ++j) {
    const std::uint64_t k = keys[j];
    for (int d = 0; d < passes; ++d) ++count[d][(k >> (d * kDigit)) & (kRadix - 1)];
  }
  if (key_scratch.size() < m) {
    key_scratch.resize(m);
    value_scratch.resize(m);
  }
  std::uint64_t* from_k = keys;
  float* from_v = values;
  std::uint64_t* to_k = key_scratch.data();
  float* to_v = value_scratch.data();
  for (int d = 0; d < passes; ++d) {
    std::uint32_t* c = count[d];
    if (c[(from_k[0] >> (d * kDigit)) & (kRadix - 1)] == m) continue;  // one digit for all
    std::uint32_t at = 0;
    for (std::size_t b = 0; b < kRadix; ++b) {
      const std::uint32_t here = c[b];
      c[b] = at;
      at += here;
    }
    for (std::size_t j = 0; j < m; ++j) {
      const std::uint64_t k = from_k[j];
      const std::uint32_t slot = c[(k >> (d * kDigit)) & (kRadix - 1)]++;
      to_k[slot] = k;
      to_v[slot] = from_v[j];
    }
    std::swap(from_k, to_k);
    std::swap(from_v, to_v);
  }
  if (from_k != keys) {
    std::memcpy(keys, from_k, m * sizeof(std::uint64_t));
    std::memcpy(values, from_v, m * sizeof(float));
  }
}

void sort_packed(EventColumns& c, const Packing& p, int threads) {
  const std::size_t n = c.size();
  const int team = std::max(1, core::thread_count(threads));
  // The keys are written over the times (a key is kept as a Time's bits).
  for_blocks(n, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k)
      c.time[k] = static_cast<Time>((static_cast<std::uint64_t>(c.time[k]) - static_cast<std::uint64_t>(p.time0)) << p.time_shift() |
                                    static_cast<std::uint64_t>(static_cast<std::uint32_t>(c.user[k] - p.user0)) << p.item_bits |
                                    static_cast<std::uint32_t>(c.item[k] - p.item0));
  });
  std::vector<Index>().swap(c.user);
  std::vector<Index>().swap(c.item);

  // The scatter by the top bits: buckets of about 2^14 events (keys, values and their
  // scratch copies, 400 KB, stay in a core's L2), at most 2^11 of them.
  const int bits = p.bits();
  const int top = std::min(bits, std::clamp(static_cast<int>(std::bit_width(n)) - 14, 0, 11));
  const int shift = bits - top;
  const std::size_t n_buckets = std::size_t{1} << top;
  const auto parts = static_cast<std::size_t>(team);
  auto* keys = reinterpret_cast<std::uint64_t*>(c.time.data());
  static_assert(sizeof(Time) == sizeof(std::uint64_t));
  // Counts per part (a contiguous range of rows, so the scatter is stable), then each
  // part's start in each bucket.
  std::vector<std::vector<std::size_t>> next(parts, std::vector<std::size_t>(n_buckets, 0));
  if (top > 0) {
    core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t q) {
      auto& h = next[static_cast<std::size_t>(q)];
      const auto [b, e] = part_range(n, parts, static_cast<std::size_t>(q));
      for (std::size_t k = b; k < e; ++k) ++h[keys[k] >> shift];
    });
  } else {
    next[0][0] = n;  // one bucket; the other parts have no rows in it
    for (std::size_t q = 1; q < parts; ++q) next[q][0] = 0;
  }
  const std::vector<std::size_t> start = bucket_starts(next, n_buckets);
  DRIFTREC_ASSERT(start[n_buckets] == n);
  std::vector<Time> sorted_keys;
  std::vector<float> sorted_values;
  if (top > 0) {
    // The values first, then the keys, each scattered in a pass of its own over the keys:
    // the unsorted values are freed before the sorted keys are allocated, so the scatter
    // holds 20 bytes an event at most (keys, sorted values, sorted keys) where one pass
    // moving both held 24, the peak of ingest at 10^7 events.
    const std::vector<std::vector<std::size_t>> first_slots = next;
    sorted_values.resize(n);
    core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t q) {
      auto& at = next[static_cast<std::size_t>(q)];
      const auto [b, e] = part_range(n, parts, static_cast<std::size_t>(q));
      for (std::size_t k = b; k < e; ++k) sorted_values[at[keys[k] >> shift]++] = c.value[k];
    });
    std::vector<float>().swap(c.value);
    next = first_slots;
    sorted_keys.resize(n);
    auto* to_k = reinterpret_cast<std::uint64_t*>(sorted_keys.data());
    core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t q) {
      auto& at = next[static_cast<std::size_t>(q)];
      const auto [b, e] = part_range(n, parts, static_cast<std::size_t>(q));
      for (std::size_t k = b; k < e; ++k) {
        const std::uint64_t key = keys[k];
        to_k[at[key >> shift]++] = key;
      }
    });
    std::vector<Time>().swap(c.time);
  } else {
    sorted_keys.swap(c.time);
    sorted_values.swap(c.value);
  }
  next = {};
  keys = reinterpret_cast<std::uint64_t*>(sorted_keys.data());

  // Each bucket on its own, by the bits below the scatter's.
  struct Scratch {
    std::vector<std::uint64_t> keys;
    std::vector<float> values;
  };
  core::ParallelFor per_bucket{threads, core::Schedule::dynamic, 16};
  per_bucket.parallel = n_buckets > 1;
  core::parallel_for_with_state(
      static_cast<std::int64_t>(n_buckets), per_bucket, [] { return Scratch(); },
      [&](std::int64_t b, Scratch& s) {
        const std::size_t first = start[static_cast<std::size_t>(b)];
        const std::size_t m = start[static_cast<std::size_t>(b) + 1] - first;
        lsd_sort(keys + first, sorted_values.data() + first, m, shift, s.keys, s.values);
      });

  // The columns back from the keys; the times over the keys.
  c.value.swap(sorted_values);
  c.user.resize(n);
  c.item.resize(n);
  const std::uint64_t user_mask = (std::uint64_t{1} << p.user_bits) - 1;
  const std::uint64_t item_mask = (std::uint64_t{1} << p.item_bits) - 1;
  for_blocks(n, threads, [&](std::size_t b, std::size_t e) {
    for (std::size_t k = b; k < e; ++k) {
      const std::uint64_t key = keys[k];
      c.user[k] = static_cast<Index>(static_cast<std::uint32_t>((key >> p.item_bits) & user_mask) + static_cast<std::uint32_t>(p.user0));
      c.item[k] = static_cast<Index>(static_cast<std::uint32_t>(key & item_mask) + static_cast<std::uint32_t>(p.item0));
      sorted_keys[k] = static_cast<Time>(static_cast<std::uint64_t>(p.time0) + (key >> p.time_shift()));
    }
  });
  c.time.swap(sorted_keys);
}

// ---- buckets of row indices ----

// out[k] = in[order[k]], freeing `in`.
template <class T>
void gather(std::vector<T>& in, const std::vector<std::uint32_t>& order, int threads) {
  std::vector<T> out(order.size());
  core::parallel_for(static_cast<std::int64_t>(order.size()), {threads}, [&](std::int64_t k) {
    out[static_cast<std::size_t>(k)] = in[order[static_cast<std::size_t>(k)]];
  });
  in.swap(out);
}


void sort_by_buckets(EventColumns& c, Time lo, std::uint64_t span, int threads) {
  const std::size_t n = c.size();
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
  const std::vector<std::size_t> start = bucket_starts(count, n_buckets);
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

}  // namespace

void sort_columns(EventColumns& c, int threads) {
  core::check_threads(threads);
  const std::size_t n = c.size();
  DRIFTREC_ASSERT(c.user.size() == n && c.item.size() == n && c.value.size() == n);
  if (n < 2 || columns_sorted(c)) return;
  DRIFTREC_THROW_IF_NOT(n <= std::numeric_limits<std::uint32_t>::max(),
                        fmt::format("{} events: ingest sorts at most 2^32 - 1 in one store", n));
  // The ranges of the three fields, per block of rows, then merged.
  struct Range {
    Time time_lo = std::numeric_limits<Time>::max(), time_hi = std::numeric_limits<Time>::min();
    Index user_lo = std::numeric_limits<Index>::max(), user_hi = std::numeric_limits<Index>::min();
    Index item_lo = std::numeric_limits<Index>::max(), item_hi = std::numeric_limits<Index>::min();
  };
  const auto parts = static_cast<std::size_t>(std::max(1, core::thread_count(threads)));
  std::vector<Range> ranges(parts);
  core::parallel_for(static_cast<std::int64_t>(parts), {threads}, [&](std::int64_t q) {
    Range& r = ranges[static_cast<std::size_t>(q)];
    const auto [b, e] = part_range(n, parts, static_cast<std::size_t>(q));
    for (std::size_t k = b; k < e; ++k) {
      r.time_lo = std::min(r.time_lo, c.time[k]);
      r.time_hi = std::max(r.time_hi, c.time[k]);
      r.user_lo = std::min(r.user_lo, c.user[k]);
      r.user_hi = std::max(r.user_hi, c.user[k]);
      r.item_lo = std::min(r.item_lo, c.item[k]);
      r.item_hi = std::max(r.item_hi, c.item[k]);
    }
  });
  Range all;
  for (const Range& r : ranges) {
    all.time_lo = std::min(all.time_lo, r.time_lo);
    all.time_hi = std::max(all.time_hi, r.time_hi);
    all.user_lo = std::min(all.user_lo, r.user_lo);
    all.user_hi = std::max(all.user_hi, r.user_hi);
    all.item_lo = std::min(all.item_lo, r.item_lo);
    all.item_hi = std::max(all.item_hi, r.item_hi);
  }
  // Differences as unsigned: a span of more than 2^63 seconds wraps nothing.
  const std::uint64_t time_span = static_cast<std::uint64_t>(all.time_hi) - static_cast<std::uint64_t>(all.time_lo);
  const std::uint32_t user_span = static_cast<std::uint32_t>(all.user_hi) - static_cast<std::uint32_t>(all.user_lo);
  const std::uint32_t item_span = static_cast<std::uint32_t>(all.item_hi) - static_cast<std::uint32_t>(all.item_lo);
  Packing p;
  p.time0 = all.time_lo;
  p.user0 = all.user_lo;
  p.item0 = all.item_lo;
  p.time_bits = static_cast<int>(std::bit_width(time_span));
  p.user_bits = static_cast<int>(std::bit_width(user_span));
  p.item_bits = static_cast<int>(std::bit_width(item_span));
  // A shift by 64 is undefined: the key keeps its top bit for a time when users and items
  // take 64 bits.
  if (p.bits() <= 64 && p.time_shift() < 64)
    sort_packed(c, p, threads);
  else
    sort_by_buckets(c, all.time_lo, time_span, threads);
}

}  // namespace driftrec::graph
