// Implicit ALS (Hu, Koren & Volinsky 2008): the public face (validation, seeded
// initialisation, the sweep loop with its NaN guard), the exact objective, and the
// queries (top-k recommendation, item-item cosine). The row solves run on an ALS backend
// (als_backend.hpp; the CPU one is als_row_solve.cpp).
//
// The objective is evaluated without touching the users x items pairs: since absent
// entries have c = 1 and p = 0,
//   L = trace(X^T X Y^T Y) + sum_{stored r > 0} [c (1 - s)^2 - s^2] + lambda (|X|^2 + |Y|^2),
// with s = x_u . y_i, and |X|^2 = trace(X^T X). Every sum runs in double in a fixed order.
#include "matrix_factorization/implicit_als.hpp"
#include "matrix_factorization/batch_top_k.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "graph/generator.hpp"
#include "matrix_factorization/als_backend.hpp"

namespace driftrec::matrix_factorization {
namespace {

using graph::Index;
using graph::Offset;

void check_ratings(const graph::CsrMatrix& m, const char* what) {
  graph::validate_csr(m, what);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k)
      if (!std::isfinite(m.data[k]))
        throw InputError(fmt::format("{}: the value at row {}, column {} is not finite", what, r,
                                     m.indices[k]));
}

void check_model_shape(const AlsModel& model, const graph::CsrMatrix& m, int factors,
                       const char* what) {
  if (model.user.rows() != m.n_rows || model.item.rows() != m.n_cols ||
      model.user.cols() != factors || model.item.cols() != factors)
    throw InputError(fmt::format(
        "{}: factors are {} x {} (users) and {} x {} (items), expected {} x {} and {} x {}", what,
        model.user.rows(), model.user.cols(), model.item.rows(), model.item.cols(), m.n_rows,
        factors, m.n_cols, factors));
}

double loss_unchecked(const graph::CsrMatrix& m, const AlsModel& model, const AlsOptions& o) {
  const Eigen::MatrixXd xtx = gram(model.user, o.threads), yty = gram(model.item, o.threads);
  const Eigen::Index f = model.user.cols();
  std::vector<double> row_term(static_cast<std::size_t>(m.n_rows), 0.0);
  const core::ParallelFor rows{o.threads, core::Schedule::dynamic, 256, m.nnz() + m.n_rows > kSerialWork};
  core::parallel_for(m.n_rows, rows, [&](std::int64_t u) {
    double sum = 0;
    for (Offset k = m.indptr[u]; k < m.indptr[u + 1]; ++k) {
      if (!(m.data[k] > 0)) continue;
      const double c = 1.0 + static_cast<double>(o.alpha) * m.data[k];
      double s = 0;
      for (Eigen::Index j = 0; j < f; ++j)
        s += static_cast<double>(model.user(u, j)) * model.item(m.indices[k], j);
      sum += c * (1 - s) * (1 - s) - s * s;
    }
    row_term[u] = sum;
  });
  double stored = 0;
  for (double t : row_term) stored += t;
  const double all_pairs = (xtx.array() * yty.array()).sum();  // trace(XtX YtY), both symmetric
  return all_pairs + stored + static_cast<double>(o.regularization) * (xtx.trace() + yty.trace());
}

void solve_side(const AlsBackend& backend, const char* side, int sweep, const graph::CsrMatrix& ratings,
                const Factors& fixed, Factors& solved, const AlsOptions& o, const DriftPrior& prior) {
  try {
    backend.solve_rows(ratings, fixed, solved, o, prior);  // checks every solved row is finite
  } catch (const NumericalError& e) {
    throw NumericalError(fmt::format("implicit ALS: {} factors, sweep {}: {}", side, sweep, e.what()));
  }
}

// The valid entries of one row of top_k_dot's output.
std::vector<ScoredItem> row_of(const std::vector<Index>& items, const std::vector<float>& scores) {
  std::vector<ScoredItem> out;
  for (std::size_t j = 0; j < items.size() && items[j] >= 0; ++j) out.push_back({items[j], scores[j]});
  return out;
}

void check_k(int k) {
  if (k < 0) throw InputError(fmt::format("k must be >= 0 (got {})", k));
}

}  // namespace

void AlsOptions::validate() const {
  const auto fail = [](const std::string& why) { throw InputError("implicit ALS: " + why); };
  if (factors < 1) fail(fmt::format("`factors` must be >= 1 (got {})", factors));
  if (!(regularization >= 0) || !std::isfinite(regularization))
    fail(fmt::format("`regularization` must be finite and >= 0 (got {})", regularization));
  if (!(alpha >= 0) || !std::isfinite(alpha))
    fail(fmt::format("`alpha` must be finite and >= 0 (got {})", alpha));
  if (iterations < 0) fail(fmt::format("`iterations` must be >= 0 (got {})", iterations));
  if (cg_steps < 1) fail(fmt::format("`cg_steps` must be >= 1 (got {})", cg_steps));
  if (threads < 0) fail(fmt::format("`threads` must be 0 (OpenMP's default) or a positive count (got {})", threads));
}

Factors initial_factors(Index rows, int factors, std::uint64_t seed, std::uint64_t stream, int threads,
                        Index first_row) {
  Factors f(rows, factors);
  core::parallel_for(rows, {threads, core::Schedule::fixed, 1, rows > kSerialWork}, [&](std::int64_t r) {
    graph::Rng rng(seed, stream, static_cast<std::uint64_t>(first_row + r));
    for (int k = 0; k < factors; ++k) f(r, k) = static_cast<float>(0.01 * rng.normal());
  });
  return f;
}

void solve_rows(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                const AlsOptions& options, const DriftPrior& prior) {
  std::unique_ptr<AlsBackend> owned;
  als_backend_or_cpu(options.backend, options.threads, owned).solve_rows(ratings, fixed, solved, options, prior);
}

void run_sweeps(const graph::CsrMatrix& user_items, const graph::CsrMatrix& item_users,
                AlsModel& model, const AlsOptions& options, const DriftPrior& user_prior,
                const IterationCallback& on_iteration, bool compute_loss) {
  using Clock = std::chrono::steady_clock;
  std::unique_ptr<AlsBackend> owned;
  const AlsBackend& backend = als_backend_or_cpu(options.backend, options.threads, owned);
  for (int sweep = 1; sweep <= options.iterations; ++sweep) {
    const auto start = Clock::now();
    // X <- argmin with Y fixed (and the drift prior), then Y <- argmin with X fixed.
    solve_side(backend, "user", sweep, user_items, model.item, model.user, options, user_prior);
    solve_side(backend, "item", sweep, item_users, model.user, model.item, options, {});
    IterationReport report;
    report.iteration = sweep;
    report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    report.loss = std::numeric_limits<double>::quiet_NaN();
    if (compute_loss) {
      report.loss = loss_unchecked(user_items, model, options);
      if (user_prior.rows && user_prior.eta != 0)
        report.loss += static_cast<double>(user_prior.eta) *
                       (model.user.cast<double>() - user_prior.rows->cast<double>()).squaredNorm();
    }
    if (on_iteration) on_iteration(report);
  }
}

AlsModel fit_implicit_als(const graph::CsrMatrix& user_items, const AlsOptions& options,
                          const IterationCallback& on_iteration, const AlsModel* warm_start,
                          bool compute_loss) {
  options.validate();
  check_ratings(user_items, "user_items");
  AlsModel model;
  if (warm_start) {
    check_model_shape(*warm_start, user_items, options.factors, "warm_start");
    if (!warm_start->user.allFinite() || !warm_start->item.allFinite())
      throw InputError("warm_start: factors contain NaN or infinite values");
    model = *warm_start;
  } else {
    model.user = initial_factors(user_items.n_rows, options.factors, options.seed, kUserStream, options.threads);
    model.item = initial_factors(user_items.n_cols, options.factors, options.seed, kItemStream, options.threads);
  }
  if (options.iterations == 0) return model;
  const graph::CsrMatrix item_users = graph::transpose(user_items);
  run_sweeps(user_items, item_users, model, options, {}, on_iteration, compute_loss);
  return model;
}

double implicit_als_loss(const graph::CsrMatrix& user_items, const AlsModel& model,
                         const AlsOptions& options) {
  options.validate();
  check_ratings(user_items, "user_items");
  check_model_shape(model, user_items, options.factors, "model");
  return loss_unchecked(user_items, model, options);
}

std::vector<ScoredItem> recommend(const AlsModel& model, const graph::CsrMatrix& user_items,
                                  Index user, int k, bool exclude_seen) {
  check_k(k);
  if (model.user.rows() != user_items.n_rows || model.item.rows() != user_items.n_cols ||
      user_items.indptr.size() != static_cast<std::size_t>(user_items.n_rows) + 1)
    throw InputError(fmt::format("recommend: user_items is {} x {} but the model has {} users and {} items",
                                 user_items.n_rows, user_items.n_cols, model.user.rows(), model.item.rows()));
  if (user < 0 || user >= user_items.n_rows)
    throw InputError(fmt::format("recommend: user {} is outside [0, {})", user, user_items.n_rows));
  const PackedItems packed(model.item.data(), static_cast<Index>(model.item.rows()), static_cast<int>(model.item.cols()));
  const Index row[] = {user};
  Exclusions exclude;
  if (exclude_seen) {
    exclude.seen = &user_items;
    exclude.rows = row;
  }
  std::vector<Index> items(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  top_k_dot(model.user.row(user).data(), 1, packed, exclude, k, items.data(), scores.data(), 1);
  return row_of(items, scores);
}

Factors unit_rows(const Factors& f) {
  Factors out = f;
  for (Eigen::Index r = 0; r < out.rows(); ++r)
    if (const float n = out.row(r).norm(); n > 0) out.row(r) /= n;
  return out;
}

std::vector<ScoredItem> similar_items(const AlsModel& model, Index item, int k) {
  check_k(k);
  if (item < 0 || item >= model.item.rows())
    throw InputError(fmt::format("similar_items: item {} is outside [0, {})", item, model.item.rows()));
  // The cosine as the dot product of unit rows (a zero row stays zero: cosine 0).
  const Factors unit = unit_rows(model.item);
  const PackedItems packed(unit.data(), static_cast<Index>(unit.rows()), static_cast<int>(unit.cols()));
  graph::CsrMatrix self;  // the item itself, excluded
  self.n_rows = 1;
  self.n_cols = static_cast<Index>(unit.rows());
  self.indptr = {0, 1};
  self.indices = {item};
  self.data = {1.0f};
  Exclusions exclude;
  exclude.seen = &self;
  std::vector<Index> items(static_cast<std::size_t>(k));
  std::vector<float> scores(static_cast<std::size_t>(k));
  top_k_dot(unit.row(item).data(), 1, packed, exclude, k, items.data(), scores.data(), 1);
  return row_of(items, scores);
}

}  // namespace driftrec::matrix_factorization
