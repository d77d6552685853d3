// The opt-in bfloat16 gather of propagation/cpu/spmm (GatherPrecision::bfloat16): its
// rounding, and its fused product against a serial double loop within the stated bound
// 2^-8 * alpha * out_r * sum_e |a_e in_c x_c| (+ the float32 bound), for every width and
// thread count, bit for bit the same on 1..3 threads, and through CpuBackend::half_step.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>

#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;
using graph::Offset;

namespace {

std::uint16_t packed_one(float v) {
  const float x[1] = {v};
  std::uint16_t out[1] = {0};
  cpu::pack_bf16(ConstDenseView{x, 1, 1}, {}, out, 1);
  return out[0];
}

}  // namespace

TEST_CASE("pack_bf16 rounds to nearest even, keeps NaN, scales and pads rows", "[propagation][spmm][rmat]") {
  CHECK(packed_one(1.0f) == 0x3F80);
  CHECK(packed_one(-2.0f) == 0xC000);
  CHECK(packed_one(1.0f + 0x1p-8f) == 0x3F80);       // tie: to even (down)
  CHECK(packed_one(1.0f + 3 * 0x1p-8f) == 0x3F82);   // tie: to even (up)
  CHECK(packed_one(1.0f + 0x1p-8f + 0x1p-12f) == 0x3F81);  // above the tie: up
  const std::uint16_t nan = packed_one(std::numeric_limits<float>::quiet_NaN());
  CHECK(std::isnan(std::bit_cast<float>(static_cast<std::uint32_t>(nan) << 16)));
  CHECK(packed_one(std::numeric_limits<float>::infinity()) == 0x7F80);

  CHECK(cpu::bf16_row_stride(1) == 1);
  CHECK(cpu::bf16_row_stride(20) == 32);
  CHECK(cpu::bf16_row_stride(32) == 32);
  CHECK(cpu::bf16_row_stride(37) == 64);
  const float x[2 * 3] = {1, 2, 3, 4, 5, 6};
  const float scale[2] = {0.5f, 2.0f};
  std::uint16_t out[2 * 4];
  cpu::pack_bf16(ConstDenseView{x, 2, 3}, scale, out, 2);
  const float want[8] = {0.5f, 1, 1.5f, 0, 8, 10, 12, 0};
  for (int i = 0; i < 8; ++i)
    CHECK(std::bit_cast<float>(static_cast<std::uint32_t>(out[i]) << 16) == want[i]);
}

TEST_CASE("fused_spmm_bf16 is within the bfloat16 bound of a serial double loop, on any thread count",
          "[propagation][spmm][rmat]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix a = test::random_skewed_matrix(rng, 3000, 900, 60000);
  std::uniform_real_distribution<float> u(0.0f, 1.5f);
  std::vector<float> out(static_cast<std::size_t>(a.n_rows)), in(static_cast<std::size_t>(a.n_cols));
  for (float& v : out) v = u(rng);
  for (float& v : in) v = u(rng);
  std::vector<std::uint16_t> scratch;
  for (int k : {1, 3, 8, 16, 20, 32, 37}) {
    INFO("k = " << k);
    const DenseMatrix x = test::random_dense(rng, a.n_cols, k);
    const DenseMatrix seed = test::random_dense(rng, a.n_rows, k);
    const DenseMatrix before = test::random_dense(rng, a.n_rows, k);
    cpu::FusedScales s;
    s.out_scale = out;
    s.in_scale = in;
    s.alpha = 0.8f;
    s.seed = view(seed);
    s.seed_coef = 0.1f;
    // Serial reference in double, and the magnitude sum the bound scales with.
    Eigen::MatrixXd want = Eigen::MatrixXd::Zero(a.n_rows, k), mag = want;
    for (Index r = 0; r < a.n_rows; ++r)
      for (Offset e = a.indptr[r]; e < a.indptr[r + 1]; ++e)
        for (int c = 0; c < k; ++c) {
          const double t = 0.8 * out[r] * double(a.data[e]) * in[a.indices[e]] * x(a.indices[e], c);
          want(r, c) += t;
          mag(r, c) += std::abs(t);
        }
    want += 0.1 * seed.cast<double>();
    mag += 0.1 * seed.cast<double>().cwiseAbs();
    DenseMatrix first;
    for (int threads = 1; threads <= 3; ++threads) {
      DenseMatrix y = before;
      const float change = cpu::fused_spmm_bf16(a, s, view(x), view(y), threads, scratch);
      double worst = 0;
      for (Index r = 0; r < a.n_rows; ++r)
        for (int c = 0; c < k; ++c)
          worst = std::max(worst, std::abs(y(r, c) - want(r, c)) / ((0x1p-8 + 1e-5) * mag(r, c) + 1e-6));
      REQUIRE(worst <= 1.0);
      REQUIRE(change == (y - before).cwiseAbs().maxCoeff());
      if (threads == 1) first = y;
      else REQUIRE(y == first);  // bitwise
    }
    // Not float32 in disguise: some entry differs from the float32 kernel.
    DenseMatrix y32 = before;
    cpu::fused_spmm(a, s, view(x), view(y32), 2);
    CHECK(y32 != first);
  }
}

TEST_CASE("CpuBackend with the bfloat16 gather runs both half-steps within the bound",
          "[propagation][spmm][rmat]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 2000, 700, 30000));
  const int k = 20;
  const DenseMatrix f_items = test::random_dense(rng, g.items(), k);
  const DenseMatrix f_users = test::random_dense(rng, g.users(), k);
  const cpu::CpuBackend narrow(2, GatherPrecision::bfloat16), wide(2);
  const auto narrow_g = narrow.prepare(g), wide_g = wide.prepare(g);
  for (Side side : {Side::users, Side::items}) {
    const bool users = side == Side::users;
    const Index rows = users ? g.users() : g.items();
    DenseMatrix a = DenseMatrix::Zero(rows, k), b = a;
    HalfStep step;
    step.out = side;
    step.alpha = 0.9f;
    step.f_in = view(users ? f_items : f_users);
    step.f_out = view(a);
    narrow.half_step(*narrow_g, step);
    step.f_out = view(b);
    wide.half_step(*wide_g, step);
    // |x| <= 1 and the scaled weights of a row sum to at most sqrt(deg) terms of size
    // <= 1, so compare against the float32 result relative to the row's magnitude bound.
    const graph::CsrMatrix& m = users ? g.user_items : g.item_users;
    const auto& out_s = users ? g.user_inv_sqrt_degree : g.item_inv_sqrt_degree;
    const auto& in_s = users ? g.item_inv_sqrt_degree : g.user_inv_sqrt_degree;
    for (Index r = 0; r < rows; ++r) {
      double bound = 0;
      for (Offset e = m.indptr[r]; e < m.indptr[r + 1]; ++e) bound += m.data[e] * in_s[m.indices[e]];
      bound *= 0.9 * out_s[r];
      for (int c = 0; c < k; ++c) REQUIRE(std::abs(a(r, c) - b(r, c)) <= (0x1p-8 + 2e-5) * bound + 1e-7);
    }
    CHECK(a != b);
  }
}
