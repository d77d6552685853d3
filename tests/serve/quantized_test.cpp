// serve/quantized: int8 rows with one scale each score within the quantisation bound of
// the float32 dot, the 2-bit residuals tighten that to a quarter, the fast kernels agree
// with the serial references, the two-stage top-k returns what a full sort returns, and its
// recall against exact float32 on i.i.d. Gaussian rows (the hardest case) stays high.
#include "serve/quantized.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "tests/test_util.hpp"

using namespace driftrec;
using serve::Scored;

namespace {

std::vector<float> random_rows(std::mt19937_64& rng, std::int64_t rows, int cols) {
  std::normal_distribution<float> normal;
  std::lognormal_distribution<float> norm(0.0f, 1.0f);  // rows of very different lengths
  std::vector<float> y(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r) {
    const float s = norm(rng);
    for (int f = 0; f < cols; ++f) y[static_cast<std::size_t>(r * cols + f)] = s * normal(rng);
  }
  return y;
}

double exact_dot(const float* q, const float* y, int n) {
  double s = 0;
  for (int f = 0; f < n; ++f) s += static_cast<double>(q[f]) * y[f];
  return s;
}

}  // namespace

TEST_CASE("int8 rows are within half a scale step of each factor, with residuals an eighth; a zero row stays zero",
          "[serve][quantized]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const int cols = 37;  // not a multiple of the kernels' widths
  std::vector<float> y = random_rows(rng, 50, cols);
  std::fill(y.begin() + 3 * cols, y.begin() + 4 * cols, 0.0f);
  const serve::QuantizedRows q = serve::quantize_rows(y.data(), 50, cols);
  REQUIRE(q.rows == 50);
  REQUIRE(q.codes.size() == static_cast<std::size_t>(50 * cols));
  REQUIRE(q.residuals.size() == static_cast<std::size_t>(50 * ((cols + 3) / 4)));
  CHECK(q.scales[3] == 0.0f);
  CHECK(q.bytes() == static_cast<std::size_t>(50 * (cols + (cols + 3) / 4 + 4)));
  for (std::int64_t r = 0; r < 50; ++r) {
    const float s = q.scales[static_cast<std::size_t>(r)];
    float m = 0;
    for (int f = 0; f < cols; ++f) m = std::max(m, std::fabs(y[static_cast<std::size_t>(r * cols + f)]));
    CHECK(s == Approx(m / 127.0f));
    const std::vector<float> d = q.dequantized(r);
    bool reaches_127 = s == 0;
    for (int f = 0; f < cols; ++f) {
      CAPTURE(r, f);
      const float yf = y[static_cast<std::size_t>(r * cols + f)];
      CHECK(std::fabs(s * q.row(r)[f] - yf) <= 0.5f * s * 1.0001f);
      CHECK(std::fabs(d[static_cast<std::size_t>(f)] - yf) <= 0.125f * s * 1.0001f + 1e-30f);
      reaches_127 = reaches_127 || std::abs(q.row(r)[f]) == 127;
    }
    CHECK(reaches_127);  // the largest entry uses the full range
  }
}

TEST_CASE("the int8 dot is within the quantisation bound of the float dot, the refined dot within a quarter of it",
          "[serve][quantized]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  INFO("AVX2 kernel: " << serve::dot_int8_uses_avx2());
  for (int cols : {1, 7, 8, 16, 31, 64, 100}) {
    CAPTURE(cols);
    const std::vector<float> y = random_rows(rng, 40, cols);
    const std::vector<float> queries = random_rows(rng, 5, cols);
    const serve::QuantizedRows q = serve::quantize_rows(y.data(), 40, cols);
    for (int j = 0; j < 5; ++j) {
      const float* x = queries.data() + j * cols;
      double l1 = 0;
      for (int f = 0; f < cols; ++f) l1 += std::fabs(x[f]);
      for (std::int64_t r = 0; r < 40; ++r) {
        const double s = q.scales[static_cast<std::size_t>(r)];
        const double reference = serve::dot_int8_reference(x, q.row(r), cols);
        const double fast = serve::dot_int8(x, q.row(r), cols);
        // Float accumulation of at most 100 terms of size <= 127 |q_f|.
        CHECK(std::fabs(fast - reference) <= 1e-5 * 127 * l1 + 1e-6);
        const double bound = 0.5 * s * l1;
        const double exact = exact_dot(x, y.data() + r * cols, cols);
        CHECK(std::fabs(s * reference - exact) <= bound * (1 + 1e-5) + 1e-6);
        CHECK(std::fabs(serve::refined_dot(q, r, x) - exact) <= bound / 4 * (1 + 1e-4) + 1e-6);
      }
    }
  }
}

TEST_CASE("TopK keeps the k highest scores, ties toward the lower index", "[serve][quantized]") {
  serve::TopK best(3);
  for (std::int32_t i = 0; i < 10; ++i) best.offer(i, i == 7 ? 2.0f : 1.0f);
  const std::vector<Scored> top = best.take();
  REQUIRE(top.size() == 3);
  CHECK(top[0].index == 7);
  CHECK(top[1].index == 0);
  CHECK(top[2].index == 1);
  serve::TopK few(5);
  few.offer(4, -1.0f);
  few.offer(9, 3.0f);
  const std::vector<Scored> two = few.take();
  REQUIRE(two.size() == 2);
  CHECK(two[0].index == 9);
  CHECK(two[1].index == 4);
}

TEST_CASE("top_k returns the brute-force ranking (float32, int8 re-ranked, int8 alone) with exclusions, row weights",
          "[serve][quantized]") {
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::int64_t rows = 3001;  // a partial block and a partial group of four rows
  const int cols = GENERATE(24, 20);  // the four-row kernel (multiples of 8) and the one-row one
  CAPTURE(cols);
  const std::vector<float> y = random_rows(rng, rows, cols);
  const serve::QuantizedRows q = serve::quantize_rows(y.data(), rows, cols);
  std::vector<float> weights(static_cast<std::size_t>(rows));
  std::uniform_real_distribution<float> unit(0.1f, 2.0f);
  for (float& w : weights) w = unit(rng);
  std::vector<std::int32_t> excluded;
  for (std::int32_t r = 0; r < rows; r += 7) excluded.push_back(r);
  const std::vector<float> queries = random_rows(rng, 6, cols);
  // float32; int8 with the residual re-ranking (as served); int8 alone.
  for (int mode : {0, 1, 2}) {
    CAPTURE(mode);
    const bool exact = mode == 0;
    const serve::ScoreRows sr{exact ? y.data() : nullptr, &q, rows, cols, mode == 2 ? 0 : serve::kRerankFactor};
    for (int j = 0; j < 6; ++j) {
      const float* x = queries.data() + j * cols;
      const bool weighted = j % 2 == 1;
      const std::span<const float> w = weighted ? std::span<const float>(weights) : std::span<const float>();
      const std::int32_t skip = j == 2 ? 11 : -1;
      const std::vector<Scored> got = serve::top_k(sr, x, 20, excluded, skip, w);
      const std::vector<Scored> want = serve::top_k_reference(sr, x, 20, excluded, skip, w);
      REQUIRE(got.size() == 20);
      REQUIRE(want.size() == 20);
      for (std::size_t r = 0; r < 20; ++r) {
        CAPTURE(r);
        // The same ranking; the scores differ only by float against double accumulation.
        CHECK(got[r].score == Approx(want[r].score).epsilon(1e-4).margin(1e-5));
        const bool apart = (r == 0 || want[r - 1].score - want[r].score > 1e-3f) &&
                           (r + 1 == 20 || want[r].score - want[r + 1].score > 1e-3f);
        if (apart) CHECK(got[r].index == want[r].index);
        CHECK(got[r].index != skip);
        CHECK(!std::binary_search(excluded.begin(), excluded.end(), got[r].index));
        if (r > 0) CHECK(got[r - 1].score >= got[r].score);
      }
    }
  }
  // k larger than the rows left gives them all.
  const serve::ScoreRows few{y.data(), nullptr, 5, cols};
  CHECK(serve::top_k(few, queries.data(), 10, {}, -1, {}).size() == 5);
}

TEST_CASE("int8 top-20 re-ranked by the residuals recalls at least 0.99 of the float32 top-20 on Gaussian rows",
          "[serve][quantized]") {
  // i.i.d. N(0,1) rows crowd the top scores together: the hardest case. On 2 x 10^4 rows x 32
  // factors, 100 queries, seeds 1 to 8 gave 0.996 to 0.998 re-ranked and 0.987 to 0.993 for
  // int8 alone: 0.99 (issue 14's goal) is about 13 misses of 2000 above the expected 7.
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  const std::int64_t rows = 20000;
  const int cols = 32, k = 20, queries = 100;
  std::vector<float> y(static_cast<std::size_t>(rows * cols)), x(static_cast<std::size_t>(queries * cols));
  for (float& v : y) v = normal(rng);
  for (float& v : x) v = normal(rng);
  const serve::QuantizedRows q = serve::quantize_rows(y.data(), rows, cols);
  const serve::ScoreRows exact{y.data(), nullptr, rows, cols};
  const serve::ScoreRows served{nullptr, &q, rows, cols};
  serve::ScoreRows int8_alone = served;
  int8_alone.rerank = 0;
  double hits = 0, hits_int8_alone = 0;
  for (int j = 0; j < queries; ++j) {
    const float* qj = x.data() + j * cols;
    const std::vector<Scored> want = serve::top_k(exact, qj, k, {}, -1, {});
    auto count = [&](const std::vector<Scored>& got) {
      double h = 0;
      for (const Scored& g : got)
        h += std::any_of(want.begin(), want.end(), [&](const Scored& w) { return w.index == g.index; }) ? 1 : 0;
      return h;
    };
    hits += count(serve::top_k(served, qj, k, {}, -1, {}));
    hits_int8_alone += count(serve::top_k(int8_alone, qj, k, {}, -1, {}));
  }
  const double recall = hits / (k * queries), recall_int8_alone = hits_int8_alone / (k * queries);
  CAPTURE(recall, recall_int8_alone);
  CHECK(recall >= 0.99);
}
