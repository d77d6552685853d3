// The automatic choice between W with its stored transpose and W alone (one pass per
// iteration): the footprint estimate against an independent count, the decision against a
// fake memory budget (never by exhausting memory), and the easy and temporal tiers taking
// the one pass under a tiny budget with the same results bit for bit.
#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "propagation/label_propagation.hpp"
#include "propagation/temporal_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

TEST_CASE("estimate_footprint counts the graph copy, W^T, the dense matrices and the accumulators",
          "[propagation][memory_choice]") {
  const double u = 1000, i = 300, n = 5000, k = 7;
  // Counted by hand: W's copy (8 per entry, 8 per offset), float scales and double degrees
  // per vertex; with W^T: W^T and the tiles that replace W and then W^T (12 per entry at
  // most each), whose peak here is W^T with both tilings once W is freed;
  // Y_I, F_U, F_I; reordered: Y_I and Y_U permuted in, F_U mapped back.
  const double graph = 8 * n + 8 * (u + 1) + 12 * (u + i);
  const double plain_dense = 4 * k * (2 * i + u);
  const Footprint plain = estimate_footprint(1000, 300, 5000, 7, false, false);
  CHECK(plain.with_transpose == graph - 8 * n - 8 * (u + 1) + 8 * n + 8 * (i + 1) + 24 * n + plain_dense);
  CHECK(plain.low_memory == graph + plain_dense + 4 * k * i);  // + the accumulators
  const Footprint ordered = estimate_footprint(1000, 300, 5000, 7, true, true);
  CHECK(ordered.with_transpose - plain.with_transpose == 4 * k * (i + u + u));
  CHECK(ordered.low_memory - plain.low_memory == 4 * k * (i + u + u));
  // No prior: nothing of the users' permuted in.
  const Footprint no_prior = estimate_footprint(1000, 300, 5000, 7, false, true);
  CHECK(ordered.low_memory - no_prior.low_memory == 4 * k * u);
  // A 3e8-edge shape stays exact in double (no wrap of 64-bit products).
  const Footprint big = estimate_footprint(Index{1} << 24, Index{1} << 22, 290'000'000, 20, true, true);
  CHECK(big.with_transpose - big.low_memory ==
        24.0 * 290'000'000 + 8.0 * ((1 << 22) + 1) - 8.0 * ((1 << 24) + 1) - 80.0 * (1 << 22));
}

TEST_CASE("runs_low_memory: on and off as asked, automatic only when W^T would not fit the budget",
          "[propagation][memory_choice]") {
  const Footprint f{1000.0, 600.0};
  for (const std::uint64_t budget : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{999}, std::uint64_t{1000},
                                     std::uint64_t{1} << 40}) {
    CAPTURE(budget);
    CHECK(runs_low_memory(LowMemory::on, f, budget));
    CHECK_FALSE(runs_low_memory(LowMemory::off, f, budget));
  }
  CHECK(runs_low_memory(LowMemory::automatic, f, 999));
  CHECK(runs_low_memory(LowMemory::automatic, f, 1));
  CHECK_FALSE(runs_low_memory(LowMemory::automatic, f, 1000));  // fits exactly
  CHECK_FALSE(runs_low_memory(LowMemory::automatic, f, std::uint64_t{1} << 40));
  CHECK_FALSE(runs_low_memory(LowMemory::automatic, f, 0));  // unknown: keep W^T
}

TEST_CASE("choose_transpose reads the options' memory budget and keeps the explicit overrides",
          "[propagation][memory_choice]") {
  const Footprint f{5e6, 3e6};
  LabelPropagationOptions o;
  o.memory_budget = 4'000'000;
  CHECK(choose_transpose(o, f, "W", false) == Transpose::none);
  o.memory_budget = 6'000'000;
  CHECK(choose_transpose(o, f, "W", false) == Transpose::stored);
  o.low_memory = LowMemory::on;
  CHECK(choose_transpose(o, f, "W", false) == Transpose::none);
  o.memory_budget = 1;
  o.low_memory = LowMemory::off;
  CHECK(choose_transpose(o, f, "W", false) == Transpose::stored);
}

TEST_CASE("under a budget too small for W^T the automatic choice gives the results of both paths bit for bit",
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
  o.memory_budget = 1;  // nothing fits: the one pass, said on stderr
  REQUIRE(choose_transpose(o, estimate_footprint(2000, 600, w.nnz(), 5, false, true), "W", false) == Transpose::none);
  const PropagationResult automatic = propagate_labels(w, labels, nullptr, o);
  for (const LowMemory mode : {LowMemory::on, LowMemory::off}) {
    CAPTURE(static_cast<int>(mode));
    o.low_memory = mode;
    const PropagationResult r = propagate_labels(w, labels, nullptr, o);
    CHECK(r.iterations == automatic.iterations);
    CHECK(r.user_labels == automatic.user_labels);  // bitwise
    CHECK(r.item_labels == automatic.item_labels);
  }

  // The temporal runs decide per period with the same budget.
  std::vector<graph::CsrMatrix> slices{w, test::random_skewed_matrix(rng, 2000, 600, 8000)};
  TemporalOptions t;
  t.propagation = o;
  t.propagation.low_memory = LowMemory::automatic;
  const std::vector<PeriodResult> tiny = propagate_temporal(slices, labels, t);
  t.propagation.low_memory = LowMemory::off;
  const std::vector<PeriodResult> stored = propagate_temporal(slices, labels, t);
  REQUIRE(tiny.size() == 2);
  for (std::size_t p = 0; p < 2; ++p) {
    CAPTURE(p);
    CHECK(tiny[p].user_scores == stored[p].user_scores);
    CHECK(tiny[p].item_labels == stored[p].item_labels);
  }
}
