// The ALS half-sweep: every row r of the solved side minimises its share of the
// Hu-Koren-Volinsky objective (Hu, Koren & Volinsky 2008) with the other side fixed,
//   A_r x = b_r,   A_r = G + sum_i (c_ri - 1) y_i y_i^T,   b_r = sum_i c_ri y_i + eta prior_r,
//   G = Y^T Y + (lambda + eta) I  (computed once per half-sweep),
// summing over the row's stored entries r_ri > 0 with c_ri = 1 + alpha r_ri.
//
// Two solvers:
// - conjugate gradient, `cg_steps` steps from the current x_r (Takacs, Pilaszy & Tikk
//   2011), never forming A_r; its vectorised kernel is in row_kernels.cpp, and G comes
//   from float partial sums over fixed row blocks added in double;
// - Cholesky (Eigen LLT, all in double): forms A_r and solves exactly; the reference.
//
// This is the CPU ALS backend (als_row_solve.hpp). Rows are independent, so OpenMP runs
// them with a dynamic schedule (degrees are skewed) on the backend's threads, each thread
// with its own scratch; a row's result never depends on the thread count, nor does the
// Gram matrix (fixed blocks, added in block order). Every solved row is checked to be
// finite, so a numerical failure is reported, never passed on.
#include "matrix_factorization/als_row_solve.hpp"

#include <Eigen/Cholesky>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "matrix_factorization/row_kernels.hpp"

namespace driftrec::matrix_factorization {
namespace {

using graph::Index;
using graph::Offset;
using detail::RowProblem;

constexpr int kRowChunk = 32;    // rows per dynamic-schedule grab
constexpr int kGramBlocks = 32;  // fixed row blocks of a Gram matrix: thread-count independent

struct CholeskyScratch {
  explicit CholeskyScratch(int f) : a(f, f), b(f), yi(f), llt(f) {}
  Eigen::MatrixXd a;
  Eigen::VectorXd b, yi;
  Eigen::LLT<Eigen::MatrixXd> llt;
};

// Forms A_r and b_r in double and solves exactly; false when A_r is not positive definite.
bool cholesky_row(const Eigen::MatrixXd& g, const Factors& y, const RowProblem& q, float* x,
                  CholeskyScratch& s) {
  const auto f = g.rows();
  s.a = g;
  s.b.setZero();
  if (q.prior)
    for (Eigen::Index k = 0; k < f; ++k) s.b[k] = static_cast<double>(q.eta) * q.prior[k];
  for (Offset e = 0; e < q.n; ++e) {
    const float v = q.val[e];
    if (!(v > 0)) continue;
    const double w = static_cast<double>(q.alpha) * v;
    s.yi = y.row(q.idx[e]).transpose().cast<double>();
    s.a.selfadjointView<Eigen::Lower>().rankUpdate(s.yi, w);
    s.b += (1.0 + w) * s.yi;
  }
  s.llt.compute(s.a);
  if (s.llt.info() != Eigen::Success) return false;
  s.b = s.llt.solve(s.b);
  for (Eigen::Index k = 0; k < f; ++k) x[k] = static_cast<float>(s.b[k]);
  return true;
}

// Each of the fixed row blocks' partial Gram matrix (gram_block_partial), for the caller
// to add in block order.
std::vector<Eigen::MatrixXd> gram_partials(const Factors& f, Solver solver, int threads) {
  const Eigen::Index n = f.rows();
  const int blocks = gram_block_count(n), k = static_cast<int>(f.cols());
  std::vector<Eigen::MatrixXd> partial(static_cast<std::size_t>(blocks));
  core::parallel_for(blocks, {threads, core::Schedule::dynamic, 1, blocks > 1}, [&](std::int64_t b) {
    const Eigen::Index lo = gram_block_begin(n, static_cast<int>(b)), hi = gram_block_begin(n, static_cast<int>(b) + 1);
    partial[b] = gram_block_partial(f.row(lo).data(), hi - lo, k, solver);
  });
  return partial;
}

// The lowest row for which `flag` was raised, so that a message names the same row in
// every run; -1 when none.
class LowestRow {
 public:
  void raise(Index row) {
    Index seen = row_.load(std::memory_order_relaxed);
    while ((seen < 0 || row < seen) && !row_.compare_exchange_weak(seen, row)) {
    }
  }
  Index get() const { return row_.load(); }

 private:
  std::atomic<Index> row_{-1};
};

bool row_finite(const float* x, int f) {
  for (int k = 0; k < f; ++k)
    if (!std::isfinite(x[k])) return false;
  return true;
}

}  // namespace

int gram_block_count(Eigen::Index rows) {
  return static_cast<int>(std::min<Eigen::Index>(kGramBlocks, (rows + 255) / 256));
}

Eigen::Index gram_block_begin(Eigen::Index rows, int block) { return rows * block / gram_block_count(rows); }

Eigen::MatrixXd gram_block_partial(const float* rows, Eigen::Index count, int f, Solver solver) {
  if (solver == Solver::cg) {  // float sums within a block (a few thousand rows at scale)
    Factors out = Factors::Zero(f, f);
    if (count > 0) detail::syrk_lower(f, rows, count, out.data());
    return out.cast<double>();
  }
  Eigen::MatrixXd out = Eigen::MatrixXd::Zero(f, f);
  const Eigen::MatrixXd block = Eigen::Map<const Factors>(rows, count, f).cast<double>();
  out.selfadjointView<Eigen::Lower>().rankUpdate(block.transpose());
  return out;
}

Eigen::MatrixXd gram_from_partials(const std::vector<Eigen::MatrixXd>& partials, int f) {
  Eigen::MatrixXd g = Eigen::MatrixXd::Zero(f, f);
  for (const auto& p : partials) g += p;  // in block order: the same sum for any thread count
  g.triangularView<Eigen::StrictlyUpper>() = g.transpose();
  return g;
}

Eigen::MatrixXd gram(const Factors& f, int threads) {
  return gram_from_partials(gram_partials(f, Solver::cholesky, threads), static_cast<int>(f.cols()));
}

CpuAlsBackend::CpuAlsBackend(int threads) : threads_(core::thread_count(threads)) {
  AlsBackendOptions{threads}.validate();
}

Eigen::MatrixXd CpuAlsBackend::gram_impl(const Factors& f) const { return matrix_factorization::gram(f, threads_); }

void CpuAlsBackend::solve_rows_impl(const graph::CsrMatrix& ratings, const Factors& fixed,
                                    Factors& solved, const AlsOptions& options,
                                    const DriftPrior& prior) const {
  // Y^T Y once per half-sweep, summed as the solver needs it.
  const Eigen::MatrixXd g = gram_from_partials(gram_partials(fixed, options.solver, threads_), options.factors);
  solve_rows_with_gram(ratings, fixed, solved, options, prior, g, threads_);
}

void solve_rows_with_gram(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                          const AlsOptions& options, const DriftPrior& prior, const Eigen::MatrixXd& yty,
                          int threads) {
  const int f = options.factors;
  const bool use_prior = prior.rows != nullptr && prior.eta != 0;
  const double diag = static_cast<double>(options.regularization + (use_prior ? prior.eta : 0.0f));
  // G = Y^T Y + (lambda + eta) I: in double for the exact solver, rounded to float after
  // the diagonal is added for the CG kernel.
  const bool exact = options.solver == Solver::cholesky;
  Eigen::MatrixXd g = yty;
  g.diagonal().array() += diag;
  Factors g_float;
  if (!exact) g_float = g.cast<float>();

  // Per thread: the Cholesky workspace or the CG kernel's 4 f floats.
  struct Scratch {
    std::optional<CholeskyScratch> chol;
    std::vector<float> cg;
  };
  LowestRow not_definite, not_finite;
  // Small problems run on one thread: a parallel region costs more than their rows.
  const bool parallel = ratings.nnz() + ratings.n_rows > kSerialWork;
  core::parallel_for_with_state(
      ratings.n_rows, {threads, core::Schedule::dynamic, kRowChunk, parallel},
      [&] {
        Scratch s;
        if (exact) s.chol.emplace(f);
        else s.cg.resize(4 * static_cast<std::size_t>(f));
        return s;
      },
      [&](std::int64_t r, Scratch& s) {
        const Index row = static_cast<Index>(r);
        const Offset begin = ratings.indptr[row];
        const RowProblem q{g_float.data(),
                           fixed.data(),
                           ratings.indices.data() + begin,
                           ratings.data.data() + begin,
                           ratings.indptr[row + 1] - begin,
                           options.alpha,
                           use_prior ? prior.rows->row(row).data() : nullptr,
                           prior.eta};
        float* x = solved.row(row).data();
        if (!exact)
          detail::cg_solve_row(f, q, options.cg_steps, x, s.cg.data());
        else if (!cholesky_row(g, fixed, q, x, *s.chol))
          not_definite.raise(row);
        if (!row_finite(x, f)) not_finite.raise(row);
      });
  if (const Index row = not_definite.get(); row >= 0)
    throw NumericalError(fmt::format(
        "row {}: the normal equations are not positive definite (Cholesky failed) at "
        "regularization = {}; raise `regularization`",
        row, options.regularization));
  if (const Index row = not_finite.get(); row >= 0)
    throw NumericalError(fmt::format(
        "row {} became NaN or infinite at regularization = {}, alpha = {}; raise "
        "`regularization` (or lower `alpha`)",
        row, options.regularization, options.alpha));
}

}  // namespace driftrec::matrix_factorization
