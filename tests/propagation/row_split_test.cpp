// The CUDA half-step's work list (propagation/cuda/row_split.hpp), checked on the host
// against a serial walk over the rows: every edge in exactly one segment, in order; no
// segment longer than max_edges; one-segment rows finished by their warp (slot -1);
// heavy rows' slots numbered contiguously in row order.
#include <catch2/catch.hpp>
#include <random>

#include "propagation/cuda/row_split.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using propagation::cuda::RowSplit;
using propagation::cuda::split_rows;

TEST_CASE("split_rows cuts heavy rows into ordered segments of at most max_edges", "[propagation][row_split]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 300, 900, 6000);
  for (graph::Offset max_edges : {1, 3, 64, 512}) {
    CAPTURE(max_edges);
    const RowSplit s = split_rows(w.indptr, max_edges);
    std::int64_t seg = 0, next_slot = 0, heavy = 0;
    for (graph::Index r = 0; r < w.n_rows; ++r) {
      const graph::Offset len = w.row_length(r);
      const std::int64_t pieces = len <= max_edges ? 1 : (len + max_edges - 1) / max_edges;
      graph::Offset at = w.indptr[r];
      for (std::int64_t p = 0; p < pieces; ++p, ++seg) {
        REQUIRE(seg < s.segments());
        REQUIRE(s.row[seg] == r);
        REQUIRE(s.begin[seg] == at);
        REQUIRE(s.end[seg] - s.begin[seg] <= max_edges);
        at = s.end[seg];
        if (pieces == 1) REQUIRE(s.slot[seg] == -1);
        else REQUIRE(s.slot[seg] == next_slot++);
      }
      REQUIRE(at == w.indptr[r + 1]);
      if (pieces > 1) {
        REQUIRE(s.split_row[heavy] == r);
        REQUIRE(s.slot_begin[heavy + 1] - s.slot_begin[heavy] == pieces);
        ++heavy;
      }
    }
    REQUIRE(seg == s.segments());
    REQUIRE(heavy == s.split_rows());
    REQUIRE(next_slot == s.slots());
  }
  // Empty rows are one empty segment each.
  const std::vector<graph::Offset> empty{0, 0, 0};
  const RowSplit e = split_rows(empty, 4);
  REQUIRE(e.segments() == 2);
  REQUIRE(e.begin == std::vector<graph::Offset>{0, 0});
  REQUIRE(e.end == std::vector<graph::Offset>{0, 0});
  REQUIRE(e.slots() == 0);
}
