// The CPU kernels against dead-simple serial loops (in double) on random skewed
// matrices, for k in {1, 3, 8, 16, 20, 32, 37} (the fixed-width instantiations and the
// generic path) and 1..3 threads. The thread tests' matrices hold > 3 x kMinWorkPerThread
// edges + rows, so that the kernels really run on three threads (smaller products use fewer).
#include <catch2/catch.hpp>
#include <algorithm>
#include <random>
#include <utility>

#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"
#include "tests/propagation/random_graphs.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::Index;
using graph::Offset;

namespace {

const int kWidths[] = {1, 3, 8, 16, 20, 32, 37};

// Serial references: y = diag(out) A diag(in) x accumulated in double, with the sum of
// the terms' magnitudes beside it (the float error bound scales with it).
struct Reference {
  Eigen::MatrixXd value;
  Eigen::MatrixXd magnitude;
};

Reference serial_product(const graph::CsrMatrix& a, const DenseMatrix& x,
                         const std::vector<float>* out, const std::vector<float>* in) {
  Reference ref{Eigen::MatrixXd::Zero(a.n_rows, x.cols()), Eigen::MatrixXd::Zero(a.n_rows, x.cols())};
  for (Index r = 0; r < a.n_rows; ++r)
    for (Offset e = a.indptr[r]; e < a.indptr[r + 1]; ++e) {
      const Index j = a.indices[e];
      double w = a.data[e] * (in ? (*in)[j] : 1.0) * (out ? (*out)[r] : 1.0);
      for (Eigen::Index c = 0; c < x.cols(); ++c) {
        ref.value(r, c) += w * x(j, c);
        ref.magnitude(r, c) += std::abs(w * x(j, c));
      }
    }
  return ref;
}

// y = A^T x by scattering each stored entry, straight from A.
Eigen::MatrixXd serial_transpose_product(const graph::CsrMatrix& a, const DenseMatrix& x) {
  Eigen::MatrixXd y = Eigen::MatrixXd::Zero(a.n_cols, x.cols());
  for (Index r = 0; r < a.n_rows; ++r)
    for (Offset e = a.indptr[r]; e < a.indptr[r + 1]; ++e)
      for (Eigen::Index c = 0; c < x.cols(); ++c) y(a.indices[e], c) += a.data[e] * x(r, c);
  return y;
}

// Every entry within 1e-5 of the sum of its terms' magnitudes (float32 summation of up
// to a few thousand terms), plus 1e-6; reports the worst entry.
void require_close(const DenseMatrix& got, const Eigen::MatrixXd& want, const Eigen::MatrixXd& mag) {
  test::require_within(got, want, (1e-5 * mag.array() + 1e-6).matrix());
}

std::vector<float> random_scales(std::mt19937_64& rng, Index n) {
  std::uniform_real_distribution<float> u(0.0f, 1.5f);
  std::vector<float> s(static_cast<std::size_t>(n));
  for (float& v : s) v = u(rng);
  return s;
}

}  // namespace

TEST_CASE("spmm equals a serial loop on random skewed matrices for every width and thread count",
          "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix a = test::random_skewed_matrix(rng, 40000, 10000, 5 * cpu::kMinWorkPerThread);
  REQUIRE(a.nnz() + a.n_rows >= 3 * cpu::kMinWorkPerThread);  // so that three threads really run
  for (int k : kWidths) {
    const DenseMatrix x = test::random_dense(rng, a.n_cols, k);
    const Reference ref = serial_product(a, x, nullptr, nullptr);
    for (int threads = 1; threads <= 3; ++threads) {
      INFO("k = " << k << ", threads = " << threads);
      DenseMatrix y = DenseMatrix::Constant(a.n_rows, k, 99.0f);  // every entry overwritten
      cpu::spmm(a, view(x), view(y), threads);
      require_close(y, ref.value, ref.magnitude);
    }
  }
}

TEST_CASE("W^T x through the stored transpose equals a serial scatter loop",
          "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 3000, 2000, 50000));
  for (int k : kWidths) {
    INFO("k = " << k);
    const DenseMatrix x = test::random_dense(rng, g.users(), k);
    const Eigen::MatrixXd want = serial_transpose_product(g.user_items, x);
    const Reference mag = serial_product(g.item_users, x.cwiseAbs(), nullptr, nullptr);
    DenseMatrix y(g.items(), k);
    const cpu::CpuBackend backend(2);
    const auto pg = backend.prepare(g);
    backend.multiply(*pg, Side::items, view(x), view(y));
    require_close(y, want, mag.value);
    // And the forward side through the backend.
    const DenseMatrix xi = test::random_dense(rng, g.items(), k);
    const Reference fwd = serial_product(g.user_items, xi, nullptr, nullptr);
    DenseMatrix yu(g.users(), k);
    backend.multiply(*pg, Side::users, view(xi), view(yu));
    require_close(yu, fwd.value, fwd.magnitude);
  }
}

TEST_CASE("fused_spmm equals alpha D_out A D_in x + seed_coef seed and returns the max-abs change",
          "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix a = test::random_skewed_matrix(rng, 4000, 1500, 50000);
  const std::vector<float> out = random_scales(rng, a.n_rows), in = random_scales(rng, a.n_cols);
  for (int k : kWidths) {
    for (bool with_seed : {true, false}) {
      for (bool with_scales : {true, false}) {
        INFO("k = " << k << ", seed " << with_seed << ", scales " << with_scales);
        const DenseMatrix x = test::random_dense(rng, a.n_cols, k);
        const DenseMatrix seed = test::random_dense(rng, a.n_rows, k);
        const DenseMatrix before = test::random_dense(rng, a.n_rows, k);
        const float alpha = 0.7f, coef = 0.3f * 0.5f;
        cpu::FusedScales s;
        if (with_scales) {
          s.out_scale = out;
          s.in_scale = in;
        }
        s.alpha = alpha;
        if (with_seed) s.seed = view(seed);
        s.seed_coef = coef;
        DenseMatrix y = before;
        const float change = cpu::fused_spmm(a, s, view(x), view(y), 2);

        Reference ref = serial_product(a, x, with_scales ? &out : nullptr, with_scales ? &in : nullptr);
        Eigen::MatrixXd want = alpha * ref.value;
        Eigen::MatrixXd mag = alpha * ref.magnitude;
        if (with_seed) {
          want += coef * seed.cast<double>();
          mag += coef * seed.cast<double>().cwiseAbs();
        }
        require_close(y, want, mag);
        // The change is the exact float max-abs difference between what was and what is.
        REQUIRE(change == (y - before).cwiseAbs().maxCoeff());
      }
    }
  }
}

TEST_CASE("fused_spmm reports a NaN change when a new value is NaN", "[propagation][spmm]") {
  const graph::Triplet t[] = {{0, 0, 1.0f}, {1, 1, 1.0f}};
  const graph::CsrMatrix a = graph::csr_from_triplets(2, 2, t);
  DenseMatrix x(2, 1);
  x << 1.0f, std::numeric_limits<float>::quiet_NaN();
  DenseMatrix y = DenseMatrix::Zero(2, 1);
  cpu::FusedScales s;
  REQUIRE(std::isnan(cpu::fused_spmm(a, s, view(x), view(y), 1)));
}

TEST_CASE("kernel results are bitwise identical for 1, 2 and 3 threads", "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g =
      make_bipartite_graph(test::random_skewed_matrix(rng, 30000, 8000, 5 * cpu::kMinWorkPerThread));
  REQUIRE(g.nnz() + g.items() >= 3 * cpu::kMinWorkPerThread);  // so that three threads really run, both sides
  for (int k : {1, 20, 37}) {
    INFO("k = " << k);
    const DenseMatrix f_in = test::random_dense(rng, g.items(), k);
    const DenseMatrix seed = test::random_dense(rng, g.users(), k);
    DenseMatrix first;
    float first_change = 0;
    for (int threads = 1; threads <= 3; ++threads) {
      DenseMatrix f_out = DenseMatrix::Zero(g.users(), k);
      HalfStep step;
      step.out = Side::users;
      step.alpha = 0.8f;
      step.f_in = view(f_in);
      step.f_out = view(f_out);
      step.seed = view(seed);
      step.seed_scale = 0.5f;
      const cpu::CpuBackend backend(threads);
      const float change = static_cast<float>(backend.half_step(*backend.prepare(g), step));
      if (threads == 1) {
        first = f_out;
        first_change = change;
      } else {
        REQUIRE(f_out == first);  // bitwise
        REQUIRE(change == first_change);
      }
    }
  }
}

TEST_CASE("fused_spmm_rows over consecutive row ranges equals fused_spmm bit for bit and leaves other rows alone",
          "[propagation][spmm]") {
  const auto seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const graph::CsrMatrix a = test::random_skewed_matrix(rng, 9000, 3000, 3 * cpu::kMinWorkPerThread);
  const std::vector<float> out = random_scales(rng, a.n_rows), in = random_scales(rng, a.n_cols);
  for (int k : {3, 20}) {
    INFO("k = " << k);
    const DenseMatrix x = test::random_dense(rng, a.n_cols, k), prior = test::random_dense(rng, a.n_rows, k);
    const DenseMatrix before = test::random_dense(rng, a.n_rows, k);
    const cpu::FusedScales s{out, in, 0.85f, view(prior), 0.15f};
    DenseMatrix whole = before;
    const float whole_change = cpu::fused_spmm(a, s, view(x), view(whole), 2);
    // Cuts at random rows, some ranges empty (as mpi/label_propagation.cpp cuts its
    // interior rows into pieces, then takes the boundary rows).
    std::vector<Index> cuts{0, a.n_rows};
    std::uniform_int_distribution<Index> row(0, a.n_rows);
    for (int i = 0; i < 6; ++i) cuts.push_back(row(rng));
    cuts.push_back(cuts.back());  // an empty range
    std::sort(cuts.begin(), cuts.end());
    DenseMatrix pieces = before;
    float change = 0;
    for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
      INFO("rows [" << cuts[i] << ", " << cuts[i + 1] << ")");
      DenseMatrix alone = before;
      const float d = cpu::fused_spmm_rows(a, cuts[i], cuts[i + 1], s, view(x), view(alone), 1 + static_cast<int>(i % 3));
      // Only the range's rows changed, and they hold the whole product's bits.
      REQUIRE(alone.topRows(cuts[i]) == before.topRows(cuts[i]));
      REQUIRE(alone.bottomRows(a.n_rows - cuts[i + 1]) == before.bottomRows(a.n_rows - cuts[i + 1]));
      REQUIRE(alone.middleRows(cuts[i], cuts[i + 1] - cuts[i]) == whole.middleRows(cuts[i], cuts[i + 1] - cuts[i]));
      REQUIRE(d == (alone - before).cwiseAbs().maxCoeff());
      pieces.middleRows(cuts[i], cuts[i + 1] - cuts[i]) = alone.middleRows(cuts[i], cuts[i + 1] - cuts[i]);
      change = std::max(change, d);
    }
    REQUIRE(pieces == whole);
    REQUIRE(change == whole_change);
  }
}

TEST_CASE("partition_rows cuts skewed rows into ranges of about equal edges plus rows",
          "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const graph::CsrMatrix a = test::random_skewed_matrix(rng, 5000, 2000, 60000);
  Offset heaviest = 0;
  for (Index r = 0; r < a.n_rows; ++r) heaviest = std::max(heaviest, a.row_length(r) + 1);
  for (int parts : {1, 2, 7, 16, 64}) {
    INFO("parts = " << parts);
    const auto b = cpu::partition_rows(a.indptr, parts);
    REQUIRE(b.size() == static_cast<std::size_t>(parts) + 1);
    REQUIRE(b.front() == 0);
    REQUIRE(b.back() == a.n_rows);
    const Offset total = a.nnz() + a.n_rows;
    for (int p = 0; p < parts; ++p) {
      REQUIRE(b[p] <= b[p + 1]);
      const Offset cost = (a.indptr[b[p + 1]] + b[p + 1]) - (a.indptr[b[p]] + b[p]);
      // A range overshoots its share by less than one row (the row that crosses the cut).
      REQUIRE(cost <= total / parts + 1 + heaviest);
    }
  }
  // A range of the rows (offsets not starting at 0) is cut as if it were a matrix of its own.
  const Index r0 = a.n_rows / 3, r1 = a.n_rows - 100;
  std::vector<Offset> rebased(a.indptr.begin() + r0, a.indptr.begin() + r1 + 1);
  const Offset base = rebased.front();
  for (Offset& o : rebased) o -= base;
  for (int parts : {1, 5, 16})
    REQUIRE(cpu::partition_rows(std::span<const Offset>(a.indptr).subspan(r0, r1 - r0 + 1), parts) ==
            cpu::partition_rows(rebased, parts));
  // Rows heavier than a share make their own range; an empty matrix gives empty ranges.
  REQUIRE(cpu::partition_rows(std::vector<Offset>{0}, 4) == std::vector<Index>(5, 0));
}

TEST_CASE("the CPU backend rejects operands of the wrong shape with driftrec::InputError",
          "[propagation][spmm]") {
  std::mt19937_64 rng(test::test_seed());
  const BipartiteGraph g = make_bipartite_graph(test::random_skewed_matrix(rng, 50, 30, 200));
  const cpu::CpuBackend backend(1);
  const auto pg = backend.prepare(g);
  DenseMatrix x(g.items(), 4), y(g.users(), 4), y_wrong_k(g.users(), 5), x_wrong(g.users(), 4);
  REQUIRE_THROWS_AS(backend.multiply(*pg, Side::users, view(x), view(y_wrong_k)), driftrec::InputError);
  REQUIRE_THROWS_AS(backend.multiply(*pg, Side::users, view(x_wrong), view(y)), driftrec::InputError);
  REQUIRE_NOTHROW(backend.multiply(*pg, Side::users, view(std::as_const(x)), view(y)));
  HalfStep step;
  step.out = Side::users;
  step.f_in = view(std::as_const(x));
  step.f_out = view(y);
  const DenseMatrix bad_seed(g.users(), 3);
  step.seed = view(bad_seed);
  REQUIRE_THROWS_WITH(backend.half_step(*pg, step), Catch::Contains("seed"));
  REQUIRE_THROWS_AS(cpu::CpuBackend(-1), driftrec::InputError);
}
