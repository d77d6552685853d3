// The choice between W with its stored transpose and W alone (one pass per iteration):
// the footprint estimate against an independent count, the rule (automatic and on keep W
// alone, off keeps W^T), and the easy and temporal tiers giving the same results bit for bit
// by default and with W^T forced.
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "propagation/label_propagation.hpp"
#include "propagation/temporal_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;
using graph::Offset;

TEST_CASE("estimate_footprint counts the graph copy, W^T, the dense matrices and the accumulators",
          "[propagation][memory_choice]") {
  const double u = 1000, i = 300, n = 5000, k = 7;
  // Counted by hand: W's copy (8 per entry, 8 per offset), float scales and double degrees
  // per vertex; Y_I, F_U, F_I; reordered: Y_I and Y_U permuted in, F_U mapped back.
  const double graph = 8 * n + 8 * (u + 1) + 12 * (u + i);
  const double plain_dense = 4 * k * (2 * i + u);
  const Footprint plain = estimate_footprint(1000, 300, 5000, 7, false, false);
  CHECK(plain.with_transpose == graph + 8 * n + 8 * (i + 1) + plain_dense);
  CHECK(plain.low_memory == graph + plain_dense + 4 * k * i);  // + the accumulators
  const Footprint ordered = estimate_footprint(1000, 300, 5000, 7, true, true);
  CHECK(ordered.with_transpose - plain.with_transpose == 4 * k * (i + u + u));
  CHECK(ordered.low_memory - plain.low_memory == 4 * k * (i + u + u));
  // No prior: nothing of the users' permuted in.
  const Footprint no_prior = estimate_footprint(1000, 300, 5000, 7, false, true);
  CHECK(ordered.low_memory - no_prior.low_memory == 4 * k * u);
  // A 3e8-edge shape stays exact in double (no wrap of 64-bit products).
  const Footprint big = estimate_footprint(Index{1} << 24, Index{1} << 22, 290'000'000, 20, true, true);
  CHECK(big.with_transpose - big.low_memory == 8.0 * 290'000'000 + 8.0 * ((1 << 22) + 1) - 80.0 * (1 << 22));
}

TEST_CASE("runs_low_memory: on keeps W alone, off keeps W^T, automatic from 2^21 entries on",
          "[propagation][memory_choice]") {
  constexpr Offset big = LabelPropagationOptions::kLowMemoryMinNonzeros;
  CHECK(big == Offset{1} << 21);
  CHECK(runs_low_memory(LowMemory::automatic, big));
  CHECK_FALSE(runs_low_memory(LowMemory::automatic, big - 1));
  for (const Offset nnz : {Offset{0}, big - 1, big}) {
    CHECK(runs_low_memory(LowMemory::on, nnz));
    CHECK_FALSE(runs_low_memory(LowMemory::off, nnz));
  }
}

TEST_CASE("choose_transpose: the default options build W alone for large graphs, W^T for small ones",
          "[propagation][memory_choice]") {
  constexpr Offset big = LabelPropagationOptions::kLowMemoryMinNonzeros;
  LabelPropagationOptions o;
  CHECK(o.low_memory == LowMemory::automatic);
  CHECK(choose_transpose(o, big) == Transpose::none);
  CHECK(choose_transpose(o, big - 1) == Transpose::stored);
  o.low_memory = LowMemory::on;
  CHECK(choose_transpose(o, 10) == Transpose::none);
  o.low_memory = LowMemory::off;
  CHECK(choose_transpose(o, big) == Transpose::stored);
}

TEST_CASE("the default gives the results of both explicit choices bit for bit",
          "[propagation][memory_choice]") {
  const std::uint64_t seed = GENERATE(71u, 72u);
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 2000, 600, 20000);
  const graph::CsrMatrix labels = test::random_item_labels(rng, 600, 5, 0.3);
  LabelPropagationOptions o;
  o.tolerance = 1e-7;
  o.max_iterations = 40;
  o.threads = 2;
  o.reorder = Reorder::on;
  const PropagationResult automatic = propagate_labels(w, labels, nullptr, o);
  for (const LowMemory mode : {LowMemory::on, LowMemory::off}) {
    CAPTURE(static_cast<int>(mode));
    o.low_memory = mode;
    const PropagationResult r = propagate_labels(w, labels, nullptr, o);
    CHECK(r.iterations == automatic.iterations);
    CHECK(r.user_labels == automatic.user_labels);  // bitwise
    CHECK(r.item_labels == automatic.item_labels);
  }

  // The temporal runs, with the decayed history and the user prior, by default and with W^T.
  std::vector<graph::CsrMatrix> slices{w, test::random_skewed_matrix(rng, 2000, 600, 8000)};
  TemporalOptions t;
  t.propagation = o;
  t.propagation.low_memory = LowMemory::automatic;
  const std::vector<PeriodResult> lean = propagate_temporal(slices, labels, t);
  t.propagation.low_memory = LowMemory::off;
  const std::vector<PeriodResult> stored = propagate_temporal(slices, labels, t);
  REQUIRE(lean.size() == 2);
  for (std::size_t p = 0; p < 2; ++p) {
    CAPTURE(p);
    CHECK(lean[p].iterations == stored[p].iterations);
    CHECK(lean[p].user_scores == stored[p].user_scores);
    CHECK(lean[p].item_labels == stored[p].item_labels);
  }
}
