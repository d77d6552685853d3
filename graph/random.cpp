#include "graph/random.hpp"

#include <cmath>

namespace driftrec::graph {
namespace {

constexpr double kPi = 3.14159265358979323846;

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::uint64_t splitmix64(std::uint64_t& x) {
  x += 0x9E3779B97F4A7C15ULL;
  return mix64(x);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// log Gamma(x) for x >= 1 by the Stirling series (as numpy's random_loggam); std::lgamma
// writes the global signgam and so is not safe to call from several threads.
double log_gamma(double x) {
  static constexpr double a[10] = {8.333333333333333e-02, -2.777777777777778e-03,
                                   7.936507936507937e-04, -5.952380952380952e-04,
                                   8.417508417508418e-04, -1.917526917526918e-03,
                                   6.410256410256410e-03, -2.955065359477124e-02,
                                   1.796443723688307e-01, -1.39243221690590e+00};
  if (x == 1.0 || x == 2.0) return 0.0;
  const std::int64_t n = x < 7.0 ? static_cast<std::int64_t>(7 - x) : 0;
  double x0 = x + static_cast<double>(n);
  const double x2 = 1.0 / (x0 * x0);
  double gl0 = a[9];
  for (int k = 8; k >= 0; --k) gl0 = gl0 * x2 + a[k];
  double gl = gl0 / x0 + 0.5 * std::log(2 * kPi) + (x0 - 0.5) * std::log(x0) - x0;
  for (std::int64_t k = 0; k < n; ++k) {
    x0 -= 1.0;
    gl -= std::log(x0);
  }
  return gl;
}

}  // namespace

Rng::Rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
  std::uint64_t x = mix64(seed + 0x632BE59BD9B4E019ULL) ^ mix64(stream * 0xD1B54A32D192ED03ULL + 1);
  x = mix64(x) ^ mix64(index + 0xA0761D6478BD642FULL);
  for (auto& s : s_) s = splitmix64(x);
}

Rng::result_type Rng::operator()() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return static_cast<double>((*this)() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::below(std::uint64_t n) {
  __extension__ using U128 = unsigned __int128;
  return static_cast<std::uint64_t>((static_cast<U128>((*this)()) * n) >> 64);
}

double Rng::normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * kPi * u2);
}

double Rng::gamma(double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia & Tsang's boost for a < 1).
    const double g = gamma(shape + 1.0);
    return g * std::pow(1.0 - uniform(), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

std::int64_t Rng::poisson(double mean) {
  if (!(mean > 0.0)) return 0;
  if (mean < 10.0) {
    const double limit = std::exp(-mean);
    std::int64_t k = 0;
    double p = uniform();
    while (p > limit) {
      ++k;
      p *= uniform();
    }
    return k;
  }
  // PTRS, transformed rejection with squeeze (Hoermann 1993), as numpy uses for mean >= 10.
  const double slam = std::sqrt(mean);
  const double loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    if (us <= 0.0) continue;
    const auto k = static_cast<std::int64_t>(std::floor((2 * a / us + b) * u + mean + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -mean + static_cast<double>(k) * loglam - log_gamma(static_cast<double>(k) + 1.0))
      return k;
  }
}

}  // namespace driftrec::graph
