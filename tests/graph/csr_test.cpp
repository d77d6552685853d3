#include <catch2/catch.hpp>
#include <random>

#include "graph/csr.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

namespace {
// Dense reference: the sum of all triplet values at each (row, col).
std::vector<std::vector<double>> dense_of(Index rows, Index cols, const std::vector<Triplet>& t) {
  std::vector<std::vector<double>> d(rows, std::vector<double>(cols, 0.0));
  for (const auto& x : t) d[x.row][x.col] += x.value;
  return d;
}
std::vector<std::vector<double>> dense_of(const CsrMatrix& m) {
  std::vector<std::vector<double>> d(m.n_rows, std::vector<double>(m.n_cols, 0.0));
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k) d[r][m.indices[k]] += m.data[k];
  return d;
}
}  // namespace

TEST_CASE("csr_from_triplets sums duplicates and equals a dense accumulation", "[graph][csr]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int round = 0; round < 20; ++round) {
    Index rows = 1 + static_cast<Index>(rng() % 30), cols = 1 + static_cast<Index>(rng() % 30);
    std::vector<Triplet> t(rng() % 200);
    for (auto& x : t)
      x = {static_cast<Index>(rng() % rows), static_cast<Index>(rng() % cols), static_cast<float>(rng() % 5 + 1)};
    CsrMatrix m = csr_from_triplets(rows, cols, t);
    REQUIRE_NOTHROW(validate_csr(m, "m"));
    auto want = dense_of(rows, cols, t);
    auto got = dense_of(m);
    REQUIRE(got == want);
    // No explicit entry for a pair that never occurred.
    std::size_t distinct = 0;
    for (auto& row : want)
      for (double v : row) distinct += v != 0.0;
    REQUIRE(static_cast<std::size_t>(m.nnz()) == distinct);
  }
}

TEST_CASE("transpose swaps rows and columns and keeps rows sorted", "[graph][csr]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  std::vector<Triplet> t(300);
  for (auto& x : t) x = {static_cast<Index>(rng() % 17), static_cast<Index>(rng() % 23), 1.0f + static_cast<float>(rng() % 3)};
  CsrMatrix m = csr_from_triplets(17, 23, t);
  CsrMatrix tt = transpose(m);
  REQUIRE(tt.n_rows == 23);
  REQUIRE(tt.n_cols == 17);
  REQUIRE_NOTHROW(validate_csr(tt, "t"));
  auto a = dense_of(m), b = dense_of(tt);
  for (Index r = 0; r < 17; ++r)
    for (Index c = 0; c < 23; ++c) REQUIRE(a[r][c] == b[c][r]);
  CsrMatrix back = transpose(tt);
  REQUIRE(back.indptr == m.indptr);
  REQUIRE(back.indices == m.indices);
  REQUIRE(back.data == m.data);
}

TEST_CASE("csr_from_triplets rejects entries outside the shape", "[graph][csr]") {
  std::vector<Triplet> t{{0, 0, 1.0f}, {2, 1, 1.0f}};
  REQUIRE_THROWS_AS(csr_from_triplets(2, 2, t), driftrec::InputError);
}

TEST_CASE("validate_csr names the broken invariant", "[graph][csr]") {
  CsrMatrix m = csr_from_triplets(2, 3, std::vector<Triplet>{{0, 1, 1.0f}, {1, 2, 1.0f}});
  CsrMatrix bad = m;
  bad.indices[1] = 7;
  REQUIRE_THROWS_WITH(validate_csr(bad, "slice 3"), Catch::Contains("slice 3") && Catch::Contains("column 7"));
  bad = m;
  bad.indptr[1] = 5;
  REQUIRE_THROWS_AS(validate_csr(bad, "x"), driftrec::InputError);
  bad = m;
  bad.indptr.pop_back();
  REQUIRE_THROWS_WITH(validate_csr(bad, "x"), Catch::Contains("indptr"));
}
