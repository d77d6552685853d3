// Tests for graph/rmat: shape and CSR invariants, determinism across thread counts, the
// merged values summing to the edges drawn, scrambling as a pure relabelling, and the
// degree skew against a serial reference of the same recursion (bit marginals c + d for
// rows and b + d for columns).
#include "graph/rmat.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "graph/random.hpp"
#include "tests/test_util.hpp"

using namespace driftrec::graph;

namespace {

RmatConfig small_config(std::uint64_t seed) {
  RmatConfig c;
  c.row_scale = 9;
  c.col_scale = 6;
  c.edges = 40000;
  c.seed = seed;
  return c;
}

std::vector<double> row_sums(const CsrMatrix& m) {
  std::vector<double> s(static_cast<std::size_t>(m.n_rows), 0.0);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) s[r] += m.data[e];
  return s;
}

std::vector<double> col_sums(const CsrMatrix& m) {
  std::vector<double> s(static_cast<std::size_t>(m.n_cols), 0.0);
  for (Offset e = 0; e < m.nnz(); ++e) s[m.indices[e]] += m.data[e];
  return s;
}

// Share of the edge weight on ids with j one-bits, j = 0..bits.
std::vector<double> popcount_shares(const std::vector<double>& sums, int bits) {
  std::vector<double> share(static_cast<std::size_t>(bits) + 1, 0.0);
  double total = 0;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    share[static_cast<std::size_t>(__builtin_popcount(static_cast<unsigned>(i)))] += sums[i];
    total += sums[i];
  }
  for (double& s : share) s /= total;
  return share;
}

// The serial reference: the recursion written out plainly, one uniform per level, from
// its own random stream (so it agrees in distribution, not draw for draw).
void reference_sums(const RmatConfig& c, std::uint64_t seed, std::vector<double>& rows,
                    std::vector<double>& cols) {
  rows.assign(static_cast<std::size_t>(c.rows()), 0.0);
  cols.assign(static_cast<std::size_t>(c.cols()), 0.0);
  Rng rng(seed, 99, 7);
  const int levels = std::max(c.row_scale, c.col_scale);
  for (Offset e = 0; e < c.edges; ++e) {
    Index r = 0, k = 0;
    for (int l = 0; l < levels; ++l) {
      const double u = rng.uniform();
      int rb = 0, cb = 0;
      if (l < c.row_scale && l < c.col_scale) {
        if (u < c.a) { rb = 0; cb = 0; }
        else if (u < c.a + c.b) { rb = 0; cb = 1; }
        else if (u < c.a + c.b + c.c) { rb = 1; cb = 0; }
        else { rb = 1; cb = 1; }
      } else if (l < c.row_scale) {
        rb = u < c.a + c.b ? 0 : 1;
      } else {
        cb = u < c.a + c.c ? 0 : 1;
      }
      if (l < c.row_scale) r = r * 2 + rb;
      if (l < c.col_scale) k = k * 2 + cb;
    }
    rows[r] += 1;
    cols[k] += 1;
  }
}

double binomial(int n, int j, double p) {
  double coef = 1;
  for (int i = 0; i < j; ++i) coef = coef * (n - i) / (i + 1);
  return coef * std::pow(p, j) * std::pow(1 - p, n - j);
}

}  // namespace

TEST_CASE("rmat: shape, CSR invariants, merged duplicates", "[rmat]") {
  const auto seed = driftrec::test::test_seed();
  RmatConfig c = small_config(seed);
  const CsrMatrix m = rmat_matrix(c, 2);
  CHECK(m.n_rows == 512);
  CHECK(m.n_cols == 64);
  validate_csr(m, "rmat");  // sorted, unique, in-range column ids
  const std::vector<double> rs = row_sums(m);
  CHECK(std::accumulate(rs.begin(), rs.end(), 0.0) == static_cast<double>(c.edges));
  CHECK(m.nnz() < c.edges);  // 40000 draws into 512 x 64 = 32768 cells must collide
  for (float v : m.data) CHECK(v >= 1);

  c.edges = 0;
  const CsrMatrix empty = rmat_matrix(c, 2);
  CHECK(empty.nnz() == 0);
  CHECK(empty.n_rows == 512);
}

TEST_CASE("rmat: identical for any thread count; seeds differ", "[rmat]") {
  const auto seed = driftrec::test::test_seed();
  RmatConfig c = small_config(seed);
  c.edges = 3 * (Offset{1} << 16) + 123;  // several generation blocks
  const CsrMatrix one = rmat_matrix(c, 1);
  for (int threads : {2, 3}) {
    const CsrMatrix m = rmat_matrix(c, threads);
    CHECK(m.indptr == one.indptr);
    CHECK(m.indices == one.indices);
    CHECK(m.data == one.data);
  }
  c.seed = seed + 1;
  const CsrMatrix other = rmat_matrix(c, 2);
  CHECK((other.indices != one.indices || other.indptr != one.indptr));
}

TEST_CASE("rmat: scrambling only relabels rows and columns", "[rmat]") {
  const auto seed = driftrec::test::test_seed();
  RmatConfig c = small_config(seed);
  c.scramble_ids = false;
  const CsrMatrix plain = rmat_matrix(c, 2);
  c.scramble_ids = true;
  const CsrMatrix scrambled = rmat_matrix(c, 2);
  CHECK(scrambled.nnz() == plain.nnz());
  auto sorted = [](std::vector<double> v) { std::sort(v.begin(), v.end()); return v; };
  CHECK(sorted(row_sums(plain)) == sorted(row_sums(scrambled)));
  CHECK(sorted(col_sums(plain)) == sorted(col_sums(scrambled)));
  CHECK(row_sums(plain) != row_sums(scrambled));  // 512! orders; equal would be a bug
}

TEST_CASE("rmat: degree skew matches the serial recursion and the bit marginals", "[rmat]") {
  const auto seed = driftrec::test::test_seed();
  for (auto [rs, cs] : {std::pair{9, 6}, std::pair{5, 8}}) {
    RmatConfig c = small_config(seed);
    c.row_scale = rs;
    c.col_scale = cs;
    c.edges = 200000;
    c.scramble_ids = false;
    const CsrMatrix m = rmat_matrix(c, 2);
    std::vector<double> ref_rows, ref_cols;
    reference_sums(c, seed, ref_rows, ref_cols);
    const auto got_r = popcount_shares(row_sums(m), rs), ref_r = popcount_shares(ref_rows, rs);
    const auto got_c = popcount_shares(col_sums(m), cs), ref_c = popcount_shares(ref_cols, cs);
    // Each share is a mean of 200000 indicators: sd <= 0.0012; allow about 5 sd.
    for (int j = 0; j <= rs; ++j) {
      CHECK(got_r[j] == Approx(ref_r[j]).margin(0.008));
      CHECK(got_r[j] == Approx(binomial(rs, j, c.c + (1 - c.a - c.b - c.c))).margin(0.006));
    }
    for (int j = 0; j <= cs; ++j) {
      CHECK(got_c[j] == Approx(ref_c[j]).margin(0.008));
      CHECK(got_c[j] == Approx(binomial(cs, j, c.b + (1 - c.a - c.b - c.c))).margin(0.006));
    }
    // Skew: the heaviest row carries far more than the mean (0.57 + 0.19)^rs of all edges.
    const auto sums = row_sums(m);
    const double top = *std::max_element(sums.begin(), sums.end());
    CHECK(top / c.edges == Approx(std::pow(c.a + c.b, rs)).epsilon(0.1));
    CHECK(top > 5 * static_cast<double>(c.edges) / c.rows());
  }
}

TEST_CASE("rmat: bad options name themselves", "[rmat]") {
  RmatConfig c;
  c.row_scale = 31;
  CHECK_THROWS_WITH(rmat_matrix(c), Catch::Contains("--row-scale"));
  c = RmatConfig{};
  c.edges = -1;
  CHECK_THROWS_WITH(rmat_matrix(c), Catch::Contains("--edges"));
  c = RmatConfig{};
  c.a = 0.7;
  c.b = 0.3;
  c.c = 0.2;
  CHECK_THROWS_WITH(rmat_matrix(c), Catch::Contains("--a/--b/--c"));
}
