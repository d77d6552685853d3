#include "evaluation/bootstrap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/parallel.hpp"
#include "graph/random.hpp"

namespace driftrec::evaluation {

std::vector<std::uint32_t> resample_indices(std::size_t pairs, std::uint64_t seed, int b) {
  graph::Rng rng(seed, kBootstrapStream, static_cast<std::uint64_t>(b));
  std::vector<std::uint32_t> idx(pairs);
  for (auto& i : idx) i = static_cast<std::uint32_t>(rng.below(pairs));
  return idx;
}

double quantile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

std::vector<Estimate> bootstrap(std::span<const Series> series, std::size_t pairs,
                                std::uint64_t seed, int resamples, int threads) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (pairs > std::numeric_limits<std::uint32_t>::max())
    throw std::length_error("bootstrap: more than 2^32 pairs");
  for (const Series& s : series)
    if (s.value.size() != pairs || s.defined.size() != pairs)
      throw std::invalid_argument("bootstrap: a series does not have one value per pair");
  const std::size_t n_series = series.size();
  // means[s * resamples + b]; NaN where resample b defines nothing for series s.
  std::vector<double> means(n_series * static_cast<std::size_t>(std::max(resamples, 0)), kNaN);
  if (pairs > 0) {
    // Each resample writes only its own means, so the schedule changes nothing.
    core::ParallelFor o;
    o.threads = threads;
    core::parallel_for_with_state(
        resamples, o, [pairs] { return std::vector<double>(pairs); },
        [&](std::int64_t resample, std::vector<double>& count) {
          const int b = static_cast<int>(resample);
          std::fill(count.begin(), count.end(), 0.0);
          for (std::uint32_t i : resample_indices(pairs, seed, b)) count[i] += 1;
          // kGroup series side by side: each series' sums still add its pairs in order (the
          // same bits as one series at a time), but the groups' additions do not wait on
          // each other's latency.
          constexpr std::size_t kGroup = 4;
          for (std::size_t s0 = 0; s0 < n_series; s0 += kGroup) {
            const std::size_t g = std::min(kGroup, n_series - s0);
            double sum[kGroup] = {}, weight[kGroup] = {};
            for (std::size_t i = 0; i < pairs; ++i) {
              const double c = count[i];
              for (std::size_t j = 0; j < g; ++j) {
                const Series& x = series[s0 + j];
                if (x.defined[i]) {
                  sum[j] += c * x.value[i];
                  weight[j] += c;
                }
              }
            }
            for (std::size_t j = 0; j < g; ++j)
              if (weight[j] > 0)
                means[(s0 + j) * static_cast<std::size_t>(resamples) + static_cast<std::size_t>(b)] =
                    sum[j] / weight[j];
          }
        });
  }
  std::vector<Estimate> out(n_series);
  for (std::size_t s = 0; s < n_series; ++s) {
    Estimate& e = out[s];
    double sum = 0;
    for (std::size_t i = 0; i < pairs; ++i)
      if (series[s].defined[i]) {
        sum += series[s].value[i];
        ++e.n;
      }
    e.value = e.n > 0 ? sum / static_cast<double>(e.n) : kNaN;
    std::vector<double> m;
    m.reserve(static_cast<std::size_t>(std::max(resamples, 0)));
    for (int b = 0; b < resamples; ++b) {
      const double v = means[s * static_cast<std::size_t>(resamples) + static_cast<std::size_t>(b)];
      if (!std::isnan(v)) m.push_back(v);
    }
    std::sort(m.begin(), m.end());
    e.lo = quantile_sorted(m, 0.025);
    e.hi = quantile_sorted(m, 0.975);
  }
  return out;
}

}  // namespace driftrec::evaluation
