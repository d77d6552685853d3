// A small, fast, seekable random source for generators and samplers: xoshiro256**
// (Blackman & Vigna 2018) seeded through splitmix64, keyed by (seed, stream, index) so each
// user or block gets its own stream and results do not depend on the thread count.
#pragma once
#include <cstdint>

namespace driftrec::graph {

// The random source: xoshiro256** seeded through splitmix64. Satisfies
// UniformRandomBitGenerator, so <random> adaptors accept it too.
class Rng {
 public:
  using result_type = std::uint64_t;
  // A stream keyed by (seed, stream, index): distinct keys give independent streams.
  Rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index);
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()();
  double uniform();                       // [0, 1)
  std::uint64_t below(std::uint64_t n);   // [0, n), n > 0 (Lemire's multiply-shift)
  double normal();                        // standard normal (Box-Muller)
  double gamma(double shape);             // Gamma(shape, 1), shape > 0 (Marsaglia & Tsang 2000)
  std::int64_t poisson(double mean);      // Knuth below 10, PTRS (Hoermann 1993) above

 private:
  std::uint64_t s_[4];
};

}  // namespace driftrec::graph
