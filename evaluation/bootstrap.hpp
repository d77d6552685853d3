// 95% bootstrap confidence intervals over (user, period) pairs (Efron & Tibshirani 1993,
// the percentile interval). The pairs evaluated are pooled over the test periods; a
// resample draws that many pairs with replacement, and a metric's resample value is the
// mean over the drawn pairs where the metric is defined (a pair drawn twice counts
// twice). Every series (model x metric) is scored on the SAME resamples, so intervals of
// two models are comparable. Resample b draws its pairs from graph::Rng(seed,
// kBootstrapStream, b): fixed seed, fixed intervals, for any thread count.
//
// Interval: the 2.5% and 97.5% quantiles of the resample means, by linear interpolation
// between order statistics (position q (m - 1) in the m sorted means; numpy's default).
// Resamples in which no drawn pair defines the metric are left out (m < resamples).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace driftrec::evaluation {

inline constexpr int kBootstrapResamples = 1000;
inline constexpr std::uint64_t kBootstrapStream = 0x626f6f74;  // "boot"

// One metric of one model on every pair: value[i] counts only where defined[i] != 0.
struct Series {
  std::vector<double> value;
  std::vector<std::uint8_t> defined;
};

struct Estimate {
  double value = 0;      // mean over the defined pairs (NaN when there are none)
  double lo = 0, hi = 0; // 95% percentile interval (NaN when there are no defined pairs)
  std::int64_t n = 0;    // defined pairs
};

// The pairs of resample b: `pairs` indices drawn uniformly with replacement.
std::vector<std::uint32_t> resample_indices(std::size_t pairs, std::uint64_t seed, int b);

// Linear-interpolation quantile of sorted values (q in [0, 1]); NaN if empty.
double quantile_sorted(std::span<const double> sorted, double q);

// Estimates for every series (each of size `pairs`) on the same `resamples` resamples.
// Parallel over resamples on `threads` OpenMP threads (0: OpenMP's default); the result
// does not depend on the thread count.
std::vector<Estimate> bootstrap(std::span<const Series> series, std::size_t pairs,
                                std::uint64_t seed, int resamples = kBootstrapResamples,
                                int threads = 0);

}  // namespace driftrec::evaluation
