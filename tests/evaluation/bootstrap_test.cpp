// Bootstrap intervals: fixed seed -> fixed interval, the same as a plain serial
// resampling written from the definition, and independent of the thread count.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>

#include "evaluation/bootstrap.hpp"
#include "graph/random.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::evaluation;

namespace {

Series random_series(graph::Rng& rng, std::size_t n, bool holes) {
  Series s;
  for (std::size_t i = 0; i < n; ++i) {
    s.value.push_back(rng.uniform());
    s.defined.push_back(holes && rng.below(4) == 0 ? 0 : 1);
  }
  return s;
}

// The definition, serially: resample b draws n pairs from Rng(seed, "boot", b); its mean
// is over the drawn pairs that define the metric; the interval interpolates the sorted means.
Estimate reference(const Series& s, std::uint64_t seed, int resamples) {
  const std::size_t n = s.value.size();
  std::vector<double> means;
  for (int b = 0; b < resamples; ++b) {
    graph::Rng rng(seed, kBootstrapStream, static_cast<std::uint64_t>(b));
    double sum = 0, count = 0;
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = rng.below(n);
      if (s.defined[i]) {
        sum += s.value[i];
        count += 1;
      }
    }
    if (count > 0) means.push_back(sum / count);
  }
  std::sort(means.begin(), means.end());
  auto q = [&](double p) {
    const double h = p * static_cast<double>(means.size() - 1);
    const std::size_t lo = static_cast<std::size_t>(h);
    const std::size_t hi = std::min(lo + 1, means.size() - 1);
    return means[lo] + (h - static_cast<double>(lo)) * (means[hi] - means[lo]);
  };
  Estimate e;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (s.defined[i]) {
      sum += s.value[i];
      ++e.n;
    }
  e.value = sum / static_cast<double>(e.n);
  e.lo = q(0.025);
  e.hi = q(0.975);
  return e;
}

}  // namespace

TEST_CASE("quantile_sorted interpolates between order statistics", "[evaluation]") {
  const std::vector<double> v{1, 2, 3, 4};
  CHECK(quantile_sorted(v, 0.5) == Approx(2.5));
  CHECK(quantile_sorted(v, 0.025) == Approx(1.075));  // h = 0.075
  CHECK(quantile_sorted(v, 1.0) == 4.0);
  CHECK(quantile_sorted(v, 0.0) == 1.0);
  CHECK(std::isnan(quantile_sorted(std::vector<double>{}, 0.5)));
}

TEST_CASE("bootstrap matches the serial reference resampling", "[evaluation]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  graph::Rng rng(seed, 3, 0);
  const std::size_t n = 37;
  std::vector<Series> series{random_series(rng, n, false), random_series(rng, n, true)};
  const auto est = bootstrap(series, n, seed, kBootstrapResamples);
  REQUIRE(est.size() == 2);
  for (std::size_t s = 0; s < 2; ++s) {
    const Estimate ref = reference(series[s], seed, kBootstrapResamples);
    CHECK(est[s].n == ref.n);
    CHECK(est[s].value == Approx(ref.value).epsilon(1e-14));
    CHECK(est[s].lo == Approx(ref.lo).epsilon(1e-12));
    CHECK(est[s].hi == Approx(ref.hi).epsilon(1e-12));
    CHECK(est[s].lo <= est[s].value);
    CHECK(est[s].value <= est[s].hi);
  }
}

TEST_CASE("bootstrap: fixed seed gives a fixed interval for any thread count", "[evaluation]") {
  // Fixed data and seed: the interval is a fixed pair of numbers.
  Series s;
  for (int i = 0; i < 20; ++i) {
    s.value.push_back(i % 2 == 0 ? 1.0 : 0.0);
    s.defined.push_back(1);
  }
  const std::vector<Series> one{s};
  const Estimate a = bootstrap(one, 20, 7, kBootstrapResamples, 1)[0];
  const Estimate b = bootstrap(one, 20, 7, kBootstrapResamples, 2)[0];
  CHECK(a.value == 0.5);
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
  const Estimate ref = reference(s, 7, kBootstrapResamples);
  CHECK(a.lo == Approx(ref.lo).epsilon(1e-14));
  CHECK(a.hi == Approx(ref.hi).epsilon(1e-14));
  // A mean of 20 fair coins: the interval is about 0.5 +- 0.22.
  CHECK(a.lo > 0.2);
  CHECK(a.lo < 0.35);
  CHECK(a.hi > 0.65);
  CHECK(a.hi < 0.8);
}

TEST_CASE("bootstrap: another seed draws other resamples", "[evaluation]") {
  Series s;
  for (int i = 0; i < 30; ++i) {
    s.value.push_back(std::fmod(0.37 * i * i, 1.0));  // distinct values: no accidental ties
    s.defined.push_back(1);
  }
  const std::vector<Series> one{s};
  const Estimate a = bootstrap(one, 30, 7)[0], b = bootstrap(one, 30, 7)[0], c = bootstrap(one, 30, 8)[0];
  CHECK(a.lo == b.lo);
  CHECK(a.hi == b.hi);
  CHECK(a.lo != c.lo);
  CHECK(a.hi != c.hi);
}

TEST_CASE("bootstrap: every series uses the same resamples", "[evaluation]") {
  // Two series equal up to a constant shift: their intervals shift by exactly that constant.
  graph::Rng rng(driftrec::test::test_seed(), 4, 0);
  Series a = random_series(rng, 25, true);
  Series b = a;
  for (double& v : b.value) v += 10.0;
  const auto est = bootstrap(std::vector<Series>{a, b}, 25, 11);
  CHECK(est[1].lo - est[0].lo == Approx(10.0).epsilon(1e-12));
  CHECK(est[1].hi - est[0].hi == Approx(10.0).epsilon(1e-12));
}

TEST_CASE("bootstrap of a series nobody defines has no value", "[evaluation]") {
  Series s{std::vector<double>(5, 1.0), std::vector<std::uint8_t>(5, 0)};
  const Estimate e = bootstrap(std::vector<Series>{s}, 5, 1)[0];
  CHECK(e.n == 0);
  CHECK(std::isnan(e.value));
  CHECK(std::isnan(e.lo));
}
