// Implicit-feedback ALS (Hu, Koren & Volinsky 2008, "Collaborative filtering for implicit
// feedback datasets"), solved row by row with a few conjugate-gradient steps warm-started
// from the previous solution (Takacs, Pilaszy & Tikk 2011, "Applications of the conjugate
// gradient method for implicit feedback collaborative filtering"), with an exact Cholesky
// solver as the reference. Factors are float32, row-major (one row per user / item).
//
// Objective, over ALL (u, i) pairs:
//   L = sum_ui c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 + |Y|^2)
// with c_ui = 1 + alpha r_ui, p_ui = 1 for a stored entry r_ui > 0; entries r <= 0 and
// absent entries have c = 1, p = 0. Each user row solves
//   (Y^T Y + Y^T (C_u - I) Y + lambda I) x_u = Y^T C_u p_u
// where Y^T Y is computed once per half-sweep, so a row costs O(nnz_u f + f^2) per CG step.
//
// The half-sweeps run on an ALS backend (als_backend.hpp): AlsOptions::backend, or the
// CPU backend with AlsOptions::threads threads. Thread counts travel in the options; no
// global OpenMP setting is read or changed.
#pragma once
#include "core/error.hpp"  // InputError, NumericalError
#include <Eigen/Dense>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <vector>

#include "graph/csr.hpp"

namespace driftrec::matrix_factorization {

class AlsBackend;

using Factors = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class Solver { cg, cholesky };

struct AlsOptions {
  int factors = 64;
  float regularization = 0.01f;  // lambda
  float alpha = 1.0f;            // confidence c = 1 + alpha * r
  int iterations = 15;           // full sweeps (users then items)
  int cg_steps = 3;              // per row and half-sweep (Solver::cg)
  Solver solver = Solver::cg;
  std::uint64_t seed = 0;        // initial factors ~ N(0, 0.01^2), deterministic
  int threads = 0;               // >= 0; 0: OpenMP's default. The default backend's threads
                                 // and those of the passes around it (initialisation, loss)
  // Where the half-sweeps run; borrowed, must outlive the fit. Null: the CPU backend with
  // `threads` threads, made once per fit.
  const AlsBackend* backend = nullptr;

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

struct AlsModel {
  Factors user;  // users x factors
  Factors item;  // items x factors
};

struct IterationReport {
  int iteration = 0;   // 1-based
  double loss = 0;     // the full objective after this sweep; NaN when not asked for
  double seconds = 0;  // wall time of this sweep (without the loss)
};
using IterationCallback = std::function<void(const IterationReport&)>;

// Fits user and item factors to `user_items` (users x items). Starts from `warm_start`
// when given (its shapes must match), else from seeded factors (initial_factors). With
// compute_loss, each IterationReport carries implicit_als_loss after its sweep (costs
// about one extra half-sweep). Results are identical for any thread count (on one kind of
// CPU: the CG kernel's last bits can differ between AVX-512, AVX2 and baseline x86-64).
// Throws InputError on bad options, a malformed or non-finite matrix or a
// mismatched warm start; NumericalError when the factors stop being finite.
AlsModel fit_implicit_als(const graph::CsrMatrix& user_items, const AlsOptions& options,
                          const IterationCallback& on_iteration = {},
                          const AlsModel* warm_start = nullptr, bool compute_loss = false);

// The objective L above, exactly, in double: the all-pairs term as
// trace(X^T X Y^T Y) plus a correction c (1 - s)^2 - s^2 on each stored entry r > 0.
// O(nnz f + (users + items) f^2); identical for any thread count.
double implicit_als_loss(const graph::CsrMatrix& user_items, const AlsModel& model,
                         const AlsOptions& options);

// rows x factors, entry (r, k) ~ N(0, 0.01^2) from a generator keyed by (seed, stream, r):
// independent of thread count and of how many rows there are. threads: 0 for OpenMP's
// default.
// first_row: the id of the first row (a block of a larger matrix gets that matrix's rows).
Factors initial_factors(graph::Index rows, int factors, std::uint64_t seed, std::uint64_t stream,
                        int threads = 0, graph::Index first_row = 0);
inline constexpr std::uint64_t kUserStream = 0x75736572;  // "user"
inline constexpr std::uint64_t kItemStream = 0x6974656d;  // "item"

// ---- Expert tier: inputs must already be validated; nothing is re-checked. ----

// Rows + stored entries below which a loop runs on one thread (a parallel region costs
// more than such a problem). Results do not depend on it.
inline constexpr graph::Offset kSerialWork = 4096;

// Ties each solved row to a prior: adds eta |x_r - prior_r|^2 to the objective, so the
// row solves (... + (lambda + eta) I) x_r = ... + eta prior_r (temporal ALS).
struct DriftPrior {
  const Factors* rows = nullptr;  // same shape as the solved factors; null: no prior
  float eta = 0;
};

// The Gram matrix F^T F, summed in double over fixed row blocks on `threads` threads (0:
// OpenMP's default; deterministic for any thread count). On the CPU.
Eigen::MatrixXd gram(const Factors& f, int threads = 0);

// The fixed row blocks of every Gram matrix above (gram, and the half-sweep's Y^T Y): of n
// rows, block b is [gram_block_begin(n, b), gram_block_begin(n, b + 1)) for b <
// gram_block_count(n). A caller holding the rows in pieces (driftrec-mpi) sums each block
// where its rows are (gram_block_partial, on the block's rows in order) and adds the
// partials in block order (gram_from_partials) to the same bits as one process.
int gram_block_count(Eigen::Index rows);
Eigen::Index gram_block_begin(Eigen::Index rows, int block);
// Lower triangle of sum_r y_r y_r^T over `count` consecutive rows (f floats each), summed
// as the solver sums it: in float for Solver::cg (returned exactly as double), in double
// for Solver::cholesky.
Eigen::MatrixXd gram_block_partial(const float* rows, Eigen::Index count, int f, Solver solver);
// The partials added in block order, then made symmetric.
Eigen::MatrixXd gram_from_partials(const std::vector<Eigen::MatrixXd>& partials, int f);

// The CPU half-sweep of AlsBackend::solve_rows with Y^T Y given (as gram_from_partials
// returns it for options.solver; the diagonal is added here), on `threads` threads (0:
// OpenMP's default). Shapes are the caller's to check.
void solve_rows_with_gram(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                          const AlsOptions& options, const DriftPrior& prior, const Eigen::MatrixXd& yty,
                          int threads);

// One half-sweep on options.backend (null: a CPU backend with options.threads threads):
// AlsBackend::solve_rows (als_backend.hpp), which says what it solves and throws.
void solve_rows(const graph::CsrMatrix& ratings, const Factors& fixed, Factors& solved,
                const AlsOptions& options, const DriftPrior& prior = {});

// Sweeps: users against `user_items`, then items against its transpose `item_users`,
// `options.iterations` times from `model`, on options.backend (null: a CPU backend with
// options.threads threads, made once for all sweeps). With a prior on the user rows, the
// reported loss includes eta |X - prior|^2. Throws NumericalError as fit_implicit_als does.
void run_sweeps(const graph::CsrMatrix& user_items, const graph::CsrMatrix& item_users,
                AlsModel& model, const AlsOptions& options, const DriftPrior& user_prior,
                const IterationCallback& on_iteration, bool compute_loss);

// ---- Queries ----

struct ScoredItem {
  graph::Index item;
  float score;
};

// The k items with the highest x_u . y_i (ties toward the lower index), best first, by
// the batch kernel of batch_top_k.hpp (for many users at once, call it directly). With
// exclude_seen, items stored in the user's row of `user_items` (any value) are skipped.
std::vector<ScoredItem> recommend(const AlsModel& model, const graph::CsrMatrix& user_items,
                                  graph::Index user, int k, bool exclude_seen = true);

// The k items whose factors have the highest cosine with `item`'s (the item itself
// excluded; a zero factor has cosine 0 with everything), best first, ties toward the
// lower index.
std::vector<ScoredItem> similar_items(const AlsModel& model, graph::Index item, int k);

// Item factors scaled to unit length (zero rows stay zero): the cosine of two items is
// the dot product of their unit rows (similar_items, `driftrec export --what similar-items`).
Factors unit_rows(const Factors& f);

}  // namespace driftrec::matrix_factorization
