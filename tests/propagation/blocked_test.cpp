// The tiled users' gather of propagation/cpu/blocked.hpp (blocked_fused_spmm): bit for
// bit equal to fused_spmm on the same W (each row sums the same products in the same
// order), for the fixed widths and the generic path, 1..3 threads, panels from 2 to 2^16
// columns and chunks from 1 row to 65536, with and without scales and seed; and within
// float32 rounding of a dense double reference; blocked_spmm equals spmm. The CPU
// backend's iteration, half-steps and products over the tiles of W and W^T
// (CpuBackend::Tiling) equal the plain ones bit for bit: beside them (borrowed graphs, the
// one pass) and in place of them (an owned graph with W^T, whose W and W^T are then
// freed); so does propagate_labels, relabelling
// included, with the default tiling, the tiles forced and the tiles off. csr_of_blocked
// gives W back entry for entry, and so does take_user_items from an owning handle. Random
// skewed matrices, seeds printed.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <utility>

#include "core/error.hpp"
#include "propagation/cpu/blocked.hpp"
#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/label_propagation.hpp"
#include "tests/propagation/random_graphs.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;

namespace {

std::vector<float> positive(std::mt19937_64& rng, Index n) {
  std::uniform_real_distribution<float> u(0.2f, 1.5f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (float& x : v) x = u(rng);
  return v;
}

bool same_bits(const DenseMatrix& a, const DenseMatrix& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<std::size_t>(a.size())) == 0;
}

// a and b entry for entry: shape, offsets, ids and the values' bits.
bool same_csr(const graph::CsrMatrix& a, const graph::CsrMatrix& b) {
  return a.n_rows == b.n_rows && a.n_cols == b.n_cols && a.indptr == b.indptr && a.indices == b.indices &&
         a.data.size() == b.data.size() &&
         (a.data.empty() || std::memcmp(a.data.data(), b.data.data(), sizeof(float) * a.data.size()) == 0);
}

}  // namespace

TEST_CASE("blocked_fused_spmm equals fused_spmm bit for bit for every tiling, width and thread count",
          "[propagation][blocked]") {
  for (const std::uint64_t seed : {11u, 12u, 13u}) {
    std::mt19937_64 rng(seed);
    const Index rows = 50 + static_cast<Index>(rng() % 400), cols = 20 + static_cast<Index>(rng() % 700);
    const graph::CsrMatrix w = test::random_skewed_matrix(rng, rows, cols, 6 * static_cast<std::size_t>(rows));
    const std::vector<float> out = positive(rng, rows), in = positive(rng, cols);
    for (const int k : {1, 3, 8, 16, 20, 32, 37}) {
      const DenseMatrix x = test::random_dense(rng, cols, k), seed_rows = test::random_dense(rng, rows, k),
                        start = test::random_dense(rng, rows, k);
      for (const bool scaled : {false, true}) {
        cpu::FusedScales s;
        if (scaled) {
          s.out_scale = out;
          s.in_scale = in;
          s.alpha = 0.7f;
          s.seed = view(seed_rows);
          s.seed_coef = 0.3f;
        }
        DenseMatrix want = start;
        const float want_change = cpu::fused_spmm(w, s, view(x), view(want), 1);
        for (const int bits : {1, 3, 6, 16})
          for (const Index chunk : {1, 7, 64, 65536})
            for (const int threads : {1, 2, 3}) {
              CAPTURE(seed, rows, cols, k, scaled, bits, chunk, threads);
              const cpu::BlockedMatrix b = cpu::make_blocked(w, bits, chunk, threads);
              REQUIRE(b.cols.size() == static_cast<std::size_t>(w.nnz()));
              DenseMatrix got = start;
              const float change = cpu::blocked_fused_spmm(b, s, view(x), view(got), threads);
              REQUIRE(same_bits(got, want));
              REQUIRE(change == want_change);
              if (scaled) continue;
              DenseMatrix plain(rows, k), tiled(rows, k);  // the plain product of multiply
              cpu::spmm(w, view(x), view(plain), 1);
              cpu::blocked_spmm(b, view(x), view(tiled), threads);
              REQUIRE(same_bits(plain, tiled));
            }
      }
    }
  }
}

TEST_CASE("blocked_fused_spmm matches alpha D_out W D_in x + seed_coef seed in double precision",
          "[propagation][blocked]") {
  const std::uint64_t seed = 21;
  std::mt19937_64 rng(seed);
  const Index rows = 300, cols = 900, k = 20;
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, rows, cols, 3000);
  const std::vector<float> out = positive(rng, rows), in = positive(rng, cols);
  const DenseMatrix x = test::random_dense(rng, cols, k), seed_rows = test::random_dense(rng, rows, k);
  cpu::FusedScales s{out, in, 0.8f, view(seed_rows), 0.2f};
  DenseMatrix got = DenseMatrix::Zero(rows, k);
  cpu::blocked_fused_spmm(cpu::make_blocked(w, 7, 50, 2), s, view(x), view(got), 2);
  const Eigen::MatrixXd wd = test::dense(w);
  Eigen::VectorXd o(rows), i(cols);
  for (Index r = 0; r < rows; ++r) o(r) = out[static_cast<std::size_t>(r)];
  for (Index c = 0; c < cols; ++c) i(c) = in[static_cast<std::size_t>(c)];
  const Eigen::MatrixXd xd = x.cast<double>(), sd = seed_rows.cast<double>();
  const Eigen::MatrixXd want = 0.8 * o.asDiagonal() * wd * i.asDiagonal() * xd + 0.2 * sd;
  // Each entry: float32 rounding of a sum of at most `cols` terms and its scaling.
  const Eigen::MatrixXd bound =
      (cols + 8) * 6e-8 * (0.8 * o.asDiagonal() * wd.cwiseAbs() * i.asDiagonal() * xd.cwiseAbs() + 0.2 * sd.cwiseAbs())
                              .array()
                              .matrix() +
      Eigen::MatrixXd::Constant(rows, k, 1e-30);
  CAPTURE(seed);
  test::require_within(got, want, bound);
}

TEST_CASE("make_blocked rejects panels wider than 16-bit ids and chunks beyond 65536 rows with InputError",
          "[propagation][blocked]") {
  std::mt19937_64 rng(5);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 10, 10, 30);
  REQUIRE_THROWS_AS(cpu::make_blocked(w, 17, 64, 1), driftrec::InputError);
  REQUIRE_THROWS_AS(cpu::make_blocked(w, 0, 64, 1), driftrec::InputError);
  REQUIRE_THROWS_AS(cpu::make_blocked(w, 8, 0, 1), driftrec::InputError);
  REQUIRE_THROWS_AS(cpu::make_blocked(w, 8, 65537, 1), driftrec::InputError);
}

TEST_CASE("the CPU backend's iteration and half-steps over the tiled copy equal the plain ones, bit for bit",
          "[propagation][blocked]") {
  // One seed: each case builds four graphs and their tiles (four minutes under the
  // sanitizers with two seeds); the kernel test above draws the tilings' variety.
  const std::uint64_t seed = 31;
  const int threads = GENERATE(1, 2, 3);
  const int bits = GENERATE(4, 12);
  const Index chunk = GENERATE(Index{100}, Index{4096});
  CAPTURE(seed, threads, bits, chunk);
  std::mt19937_64 rng(seed);
  // > 3 x kMinWorkPerThread entries + rows, so that three threads really run.
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 20000, 7000, 450000);
  for (int variant = 0; variant < 4; ++variant) {  // (W alone, with W^T) x (borrowed, owned)
    const Transpose tr = variant < 2 ? Transpose::none : Transpose::stored;
    const bool owned = variant % 2 == 1;
    const BipartiteGraph g = make_bipartite_graph(w, "W", tr);
    cpu::CpuBackend plain(threads), tiled(threads);
    plain.set_tiling(cpu::CpuBackend::Tiling::off);
    tiled.set_tiling(cpu::CpuBackend::Tiling::always, bits, chunk);
    const auto pp = plain.prepare(g), pt = owned ? tiled.prepare(BipartiteGraph(g)) : tiled.prepare(g);
    // Owned with W^T: the tiles replace W and W^T, whose arrays are gone from the handle.
    const std::size_t w_bytes = 8 * (w.indptr.size() + static_cast<std::size_t>(w.nnz()));
    const std::size_t wt_bytes = 8 * (g.item_users.indptr.size() + static_cast<std::size_t>(g.item_users.nnz()));
    std::size_t tile_bytes = cpu::make_blocked(w, bits, chunk, 1).bytes();
    if (g.transpose_stored) tile_bytes += cpu::make_blocked(g.item_users, bits, chunk, 1).bytes();
    CAPTURE(owned);
    REQUIRE(tiled.resident_bytes(*pt) ==
            plain.resident_bytes(*pp) + tile_bytes - (owned && g.transpose_stored ? w_bytes + wt_bytes : 0));
    for (const int k : {1, 8, 20, 37}) {
      CAPTURE(k, g.transpose_stored);
      DenseMatrix fu = test::random_dense(rng, g.users(), k), fi = test::random_dense(rng, g.items(), k);
      const DenseMatrix yu = test::random_dense(rng, g.users(), k), yi = test::random_dense(rng, g.items(), k);
      DenseMatrix fu2 = fu, fi2 = fi;
      for (int it = 0; it < 2; ++it) {
        Iteration a{0.85f, view(fu), view(fi), view(yu), 0.5f, view(yi), 1.0f};
        Iteration b{0.85f, view(fu2), view(fi2), view(yu), 0.5f, view(yi), 1.0f};
        const IterationChange ca = plain.iteration(*pp, a), cb = tiled.iteration(*pt, b);
        REQUIRE(same_bits(fu, fu2));
        REQUIRE(same_bits(fi, fi2));
        REQUIRE(ca.users == cb.users);
        REQUIRE(ca.items == cb.items);
      }
      const double ha = plain.half_step(*pp, {Side::users, 0.7f, view(std::as_const(fi)), view(fu), view(yu), 1.0f});
      const double hb = tiled.half_step(*pt, {Side::users, 0.7f, view(std::as_const(fi2)), view(fu2), view(yu), 1.0f});
      REQUIRE(same_bits(fu, fu2));
      REQUIRE(ha == hb);
      const double hc = plain.half_step(*pp, {Side::items, 0.7f, view(std::as_const(fu)), view(fi), view(yi), 1.0f});
      const double hd = tiled.half_step(*pt, {Side::items, 0.7f, view(std::as_const(fu2)), view(fi2), view(yi), 1.0f});
      REQUIRE(same_bits(fi, fi2));
      REQUIRE(hc == hd);
      for (const Side out : {Side::users, Side::items}) {
        const DenseMatrix& x = out == Side::users ? fi : fu;
        DenseMatrix ya(out == Side::users ? g.users() : g.items(), k), yb(ya.rows(), k);
        plain.multiply(*pp, out, view(x), view(ya));
        tiled.multiply(*pt, out, view(x), view(yb));
        REQUIRE(same_bits(ya, yb));
      }
    }
  }
  cpu::CpuBackend be(1);
  REQUIRE_THROWS_AS(be.set_tiling(cpu::CpuBackend::Tiling::always, 17), driftrec::InputError);
  REQUIRE_THROWS_AS(be.set_tiling(cpu::CpuBackend::Tiling::always, 0), driftrec::InputError);
  REQUIRE_THROWS_AS(be.set_tiling(cpu::CpuBackend::Tiling::always, 8, 0), driftrec::InputError);
}

TEST_CASE("the default tiling replaces W and W^T only in an owned graph with W^T and a float32 gather",
          "[propagation][blocked]") {
  const std::uint64_t seed = 35;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 3000, 900, 30000);
  const auto csr_bytes = [](const graph::CsrMatrix& a) { return 8 * (a.indptr.size() + static_cast<std::size_t>(a.nnz())); };
  const auto tile_bytes = [](const graph::CsrMatrix& a) {
    return cpu::make_blocked(a, cpu::CpuBackend::kDefaultPanelBits, cpu::CpuBackend::kDefaultChunkRows, 1).bytes();
  };
  for (const Transpose tr : {Transpose::none, Transpose::stored}) {
    const BipartiteGraph g = make_bipartite_graph(w, "W", tr);
    // automatic from any size; the default's threshold (2^23 entries) leaves this one untiled.
    cpu::CpuBackend automatic(2), off(2), bf16(2, GatherPrecision::bfloat16), by_default(2);
    automatic.set_tiling(cpu::CpuBackend::Tiling::automatic, cpu::CpuBackend::kDefaultPanelBits,
                         cpu::CpuBackend::kDefaultChunkRows, 0);
    off.set_tiling(cpu::CpuBackend::Tiling::off);
    const std::size_t plain = off.resident_bytes(*off.prepare(g));
    CAPTURE(g.transpose_stored);
    REQUIRE(automatic.resident_bytes(*automatic.prepare(g)) == plain);  // borrowed: W stays, no tiles
    REQUIRE(bf16.resident_bytes(*bf16.prepare(BipartiteGraph(g))) == plain);
    REQUIRE(off.resident_bytes(*off.prepare(BipartiteGraph(g))) == plain);
    REQUIRE(by_default.resident_bytes(*by_default.prepare(BipartiteGraph(g))) == plain);
    const std::size_t tiled =
        plain - csr_bytes(w) - csr_bytes(g.item_users) + tile_bytes(w) + tile_bytes(g.item_users);
    REQUIRE(automatic.resident_bytes(*automatic.prepare(BipartiteGraph(g))) == (g.transpose_stored ? tiled : plain));
  }
}

TEST_CASE("propagate_labels with the tiles in place of W, beside it and off gives the same bits",
          "[propagation][blocked]") {
  const std::uint64_t seed = 41;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  // Above kReorderMinNonzeros: relabelled by degree, so the tiles are of the relabelled W.
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 60000, 20000, 2400000);
  REQUIRE(w.nnz() >= LabelPropagationOptions::kReorderMinNonzeros);
  const graph::CsrMatrix item_labels = test::random_item_labels(rng, w.n_cols, 8, 0.3);
  const DenseMatrix prior = test::random_dense(rng, w.n_rows, 8).cwiseAbs();
  cpu::CpuBackend off(2), always(2), automatic(2);
  off.set_tiling(cpu::CpuBackend::Tiling::off);
  always.set_tiling(cpu::CpuBackend::Tiling::always, 13, 4096);
  automatic.set_tiling(cpu::CpuBackend::Tiling::automatic, cpu::CpuBackend::kDefaultPanelBits,
                       cpu::CpuBackend::kDefaultChunkRows, 0);  // in place of W and W^T at this size too
  LabelPropagationOptions o;
  o.threads = 2;
  o.max_iterations = 4;
  o.tolerance = 0;
  o.backend = &off;
  const PropagationResult plain = propagate_labels(w, item_labels, &prior, o);
  // The automatic tiling (W^T kept: the tiles replace W and W^T; the default's would from
  // 2^23 entries), the tiles forced with W^T and without it (the one pass over W and its
  // tiles).
  for (const cpu::CpuBackend* b : {&automatic, &always})
    for (const LowMemory lm : {LowMemory::off, LowMemory::on}) {
      CAPTURE(b == &automatic, lm == LowMemory::on);
      o.backend = b;
      o.low_memory = lm;
      const PropagationResult got = propagate_labels(w, item_labels, &prior, o);
      REQUIRE(got.iterations == plain.iterations);
      REQUIRE(same_bits(got.user_labels, plain.user_labels));
      REQUIRE(same_bits(got.item_labels, plain.item_labels));
      REQUIRE(got.residual == plain.residual);
    }
}

TEST_CASE("csr_of_blocked gives W back entry for entry for every tiling and thread count", "[propagation][blocked]") {
  const std::uint64_t seed = 43;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix empty_rows{5, 7, {0, 0, 0, 0, 0, 0}, {}, {}};
  for (const graph::CsrMatrix& w : {test::random_skewed_matrix(rng, 700, 300, 6000),
                                    test::random_skewed_matrix(rng, 40, 2000, 900), empty_rows})
    for (const auto& [bits, chunk] : {std::pair{1, Index{1}}, std::pair{4, Index{37}}, std::pair{14, Index{16384}}})
      for (const int threads : {1, 2}) {
        CAPTURE(w.n_rows, w.n_cols, bits, chunk, threads);
        REQUIRE(same_csr(cpu::csr_of_blocked(cpu::make_blocked(w, bits, chunk, threads), threads), w));
      }
}

TEST_CASE("take_user_items hands W back from an owning handle, tiled or not, and refuses a borrowed one",
          "[propagation][blocked]") {
  const std::uint64_t seed = 47;
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix w = test::random_skewed_matrix(rng, 900, 400, 9000);
  cpu::CpuBackend tiled(2), off(2), bf16(2, GatherPrecision::bfloat16);
  tiled.set_tiling(cpu::CpuBackend::Tiling::automatic, 5, 64, 0);
  off.set_tiling(cpu::CpuBackend::Tiling::off);
  REQUIRE(tiled.hands_back_user_items());
  for (const cpu::CpuBackend* b : {&tiled, &off, &bf16})
    for (const Transpose tr : {Transpose::stored, Transpose::none}) {
      CAPTURE(b == &tiled, b == &bf16, tr == Transpose::stored);
      REQUIRE(same_csr(b->take_user_items(b->prepare(make_bipartite_graph(w, "W", tr))), w));
    }
  const BipartiteGraph g = make_bipartite_graph(w);
  REQUIRE_THROWS_AS(tiled.take_user_items(tiled.prepare(g)), std::logic_error);
  REQUIRE_THROWS_AS(off.take_user_items(tiled.prepare(BipartiteGraph(g))), std::logic_error);
}
