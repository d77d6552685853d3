// Implicit ALS from Python (matrix_factorization/implicit_als.hpp): fitting, the exact
// re-solve of some users' rows against fixed item factors (implicit's recalculate_user),
// top-N recommendation over a candidate set with filters, and similar items. The
// driftrec.ALS class (driftrec/_als.py) holds the factors as numpy arrays and calls these.
//
// Recommendation ranks by x_u . y_i with ties toward the lower item id through the batch
// kernel that matrix_factorization::recommend and `driftrec export` use, with what
// implicit's recommend offers (a candidate list, items filtered for everyone, batches).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <algorithm>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "matrix_factorization/batch_top_k.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "python/common.hpp"

namespace driftrec::python {
namespace {

namespace mf = matrix_factorization;
using graph::Index;
using graph::Offset;

mf::Solver parse_solver(const std::string& s) {
  if (s == "cg") return mf::Solver::cg;
  if (s == "cholesky") return mf::Solver::cholesky;
  throw InputError(fmt::format("solver: expected 'cg' or 'cholesky', found '{}'", s));
}

nb::tuple fit(const Array1<std::int64_t>& indptr, const Array1<std::int32_t>& indices, const Array1<float>& data,
              std::int64_t users, std::int64_t items, int factors, double regularization, double alpha,
              int iterations, int cg_steps, const std::string& solver, std::uint64_t seed, int threads,
              bool compute_loss) {
  graph::CsrMatrix user_items = csr_from_arrays(indptr, indices, data, users, items, "user_items");
  mf::AlsOptions o;
  o.factors = factors;
  o.regularization = static_cast<float>(regularization);
  o.alpha = static_cast<float>(alpha);
  o.iterations = iterations;
  o.cg_steps = cg_steps;
  o.solver = parse_solver(solver);
  o.seed = seed;
  o.threads = threads;
  std::vector<double> losses;
  mf::AlsModel model;
  {
    nb::gil_scoped_release release;
    model = mf::fit_implicit_als(
        user_items, o, [&](const mf::IterationReport& r) { losses.push_back(r.loss); }, nullptr, compute_loss);
  }
  return nb::make_tuple(to_numpy(std::move(model.user)), to_numpy(std::move(model.item)),
                        to_numpy(std::move(losses)));
}

// The rows of `user_items` (one per user asked for; columns = items) solved exactly
// (Cholesky) against the fixed item factors, from zero.
NumpyArray<float> recalculate_users(const Array2<float>& item_factors, const Array1<std::int64_t>& indptr,
                                    const Array1<std::int32_t>& indices, const Array1<float>& data,
                                    std::int64_t rows, double regularization, double alpha, int threads) {
  const auto items = static_cast<std::int64_t>(item_factors.shape(0));
  graph::CsrMatrix user_items = csr_from_arrays(indptr, indices, data, rows, items, "user_items");
  mf::AlsOptions o;
  o.factors = static_cast<int>(item_factors.shape(1));
  o.regularization = static_cast<float>(regularization);
  o.alpha = static_cast<float>(alpha);
  o.solver = mf::Solver::cholesky;
  o.threads = threads;
  o.validate();
  RowMatrix solved;
  {
    nb::gil_scoped_release release;
    const mf::Factors fixed = as_matrix(item_factors);
    solved = RowMatrix::Zero(rows, o.factors);
    mf::solve_rows(user_items, fixed, solved, o);
  }
  return to_numpy(std::move(solved));
}

struct Ranked {
  std::vector<std::int32_t> ids;
  std::vector<float> scores;
  std::vector<std::int32_t> counts;  // valid entries per row (the rest: id -1, score -inf)
};

// For each query row: the best n of `candidates` (all items when empty) by score, skipping
// `blocked` items and the row's entries of `liked` (indptr empty: none), by the batch
// kernel every front end ranks with (matrix_factorization/batch_top_k.hpp).
Ranked rank(const ConstRowMap& queries, const ConstRowMap& items, std::span<const std::int32_t> candidates,
            const std::vector<char>& blocked, std::span<const std::int64_t> liked_indptr,
            std::span<const std::int32_t> liked_indices, int n, int threads) {
  const auto rows = static_cast<std::size_t>(queries.rows());
  const std::size_t width = static_cast<std::size_t>(n);
  Ranked out;
  out.ids.assign(rows * width, -1);
  out.scores.assign(rows * width, -std::numeric_limits<float>::infinity());
  out.counts.assign(rows, 0);
  if (width == 0 || rows == 0) return out;
  const mf::PackedItems packed(items.data(), static_cast<Index>(items.rows()), static_cast<int>(items.cols()),
                               candidates);
  graph::CsrMatrix liked;
  mf::Exclusions exclude;
  if (!liked_indptr.empty()) {
    liked.n_rows = static_cast<Index>(rows);
    liked.n_cols = static_cast<Index>(items.rows());
    liked.indptr.assign(liked_indptr.begin(), liked_indptr.end());
    liked.indices.assign(liked_indices.begin(), liked_indices.end());
    // The kernel walks each row's list in item order; scipy rows need not be sorted.
    for (std::size_t r = 0; r < rows; ++r)
      std::sort(liked.indices.begin() + liked.indptr[r], liked.indices.begin() + liked.indptr[r + 1]);
    exclude.seen = &liked;
  }
  std::vector<std::uint8_t> flags(blocked.begin(), blocked.end());
  exclude.blocked = flags;
  mf::top_k_dot(queries.data(), static_cast<std::int64_t>(rows), packed, exclude, n, out.ids.data(), out.scores.data(), threads);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t k = 0; k < width && out.ids[r * width + k] >= 0; ++k) ++out.counts[r];
  return out;
}

void check_ids(std::span<const std::int32_t> ids, Index bound, const char* what) {
  for (std::size_t k = 0; k < ids.size(); ++k)
    if (ids[k] < 0 || ids[k] >= bound)
      throw InputError(fmt::format("{}[{}] = {} is outside [0, {})", what, k, ids[k], bound));
}

template <class T>
std::span<const T> span_of(const std::optional<Array1<T>>& a) {
  return a ? std::span<const T>(a->data(), a->shape(0)) : std::span<const T>();
}

nb::tuple recommend(const Array2<float>& queries, const Array2<float>& item_factors,
                    const std::optional<Array1<std::int64_t>>& liked_indptr,
                    const std::optional<Array1<std::int32_t>>& liked_indices,
                    const std::optional<Array1<std::int32_t>>& candidates,
                    const std::optional<Array1<std::int32_t>>& filter_items, int n, int threads) {
  if (queries.shape(1) != item_factors.shape(1))
    throw InputError(fmt::format("recommend: the user factors have {} columns but the item factors {}",
                                 queries.shape(1), item_factors.shape(1)));
  if (n < 0) throw InputError(fmt::format("N must be >= 0, got {}", n));
  const auto n_items = static_cast<Index>(item_factors.shape(0));
  const auto cand = span_of(candidates), filt = span_of(filter_items);
  const auto lp = span_of(liked_indptr);
  const auto li = span_of(liked_indices);
  check_ids(cand, n_items, "items");
  check_ids(filt, n_items, "filter_items");
  check_ids(li, n_items, "user_items indices");
  if (liked_indptr && (lp.size() != queries.shape(0) + 1 || lp.front() != 0 ||
                       lp.back() != static_cast<std::int64_t>(li.size()) ||
                       !std::is_sorted(lp.begin(), lp.end())))
    throw InputError("recommend: user_items is not a valid CSR matrix with one row per user asked for");
  std::vector<char> blocked;
  if (!filt.empty()) {
    blocked.assign(static_cast<std::size_t>(n_items), 0);
    for (auto i : filt) blocked[i] = 1;
  }
  const std::size_t width = std::min<std::size_t>(static_cast<std::size_t>(n), candidates ? cand.size() : n_items);
  Ranked r;
  {
    nb::gil_scoped_release release;
    r = rank(as_matrix(queries), as_matrix(item_factors), cand, blocked, lp, li, static_cast<int>(width), threads);
  }
  const std::size_t rows = queries.shape(0);
  return nb::make_tuple(to_numpy(std::move(r.ids), rows, width), to_numpy(std::move(r.scores), rows, width),
                        to_numpy(std::move(r.counts)));
}

// Row q: the item itself first (its cosine with itself: 1, or 0 for a zero factor), then
// the n - 1 items of highest cosine (matrix_factorization::similar_items).
nb::tuple similar_items(const Array2<float>& item_factors, const Array1<std::int32_t>& itemids, int n, int threads) {
  if (n < 0) throw InputError(fmt::format("N must be >= 0, got {}", n));
  const auto n_items = static_cast<Index>(item_factors.shape(0));
  const std::span<const std::int32_t> queries(itemids.data(), itemids.shape(0));
  check_ids(queries, n_items, "itemid");
  const std::size_t width = std::min<std::size_t>(static_cast<std::size_t>(n), n_items);
  const std::size_t rows = queries.size();
  std::vector<std::int32_t> ids(rows * width, -1);
  std::vector<float> scores(rows * width, -std::numeric_limits<float>::infinity());
  {
    nb::gil_scoped_release release;
    mf::AlsModel model;
    model.item = as_matrix(item_factors);
    core::ParallelFor pf;
    pf.threads = threads;
    pf.schedule = core::Schedule::dynamic;
    pf.parallel = rows > 1;
    core::parallel_for(static_cast<std::int64_t>(rows), pf, [&](std::int64_t r) {
      if (width == 0) return;
      const Index q = queries[r];
      const float norm = model.item.row(q).norm();
      ids[r * width] = q;
      scores[r * width] = norm > 0 ? model.item.row(q).dot(model.item.row(q)) / (norm * norm) : 0.0f;
      const auto rest = mf::similar_items(model, q, static_cast<int>(width) - 1);
      for (std::size_t k = 0; k < rest.size(); ++k) {
        ids[r * width + 1 + k] = rest[k].item;
        scores[r * width + 1 + k] = rest[k].score;
      }
    });
  }
  return nb::make_tuple(to_numpy(std::move(ids), rows, width), to_numpy(std::move(scores), rows, width));
}

}  // namespace

void bind_als(nb::module_& m) {
  m.def("_als_fit", &fit, nb::arg("indptr"), nb::arg("indices"), nb::arg("data"), nb::arg("users"), nb::arg("items"),
        nb::arg("factors"), nb::arg("regularization"), nb::arg("alpha"), nb::arg("iterations"), nb::arg("cg_steps"),
        nb::arg("solver"), nb::arg("seed"), nb::arg("threads"), nb::arg("compute_loss"));
  m.def("_als_recalculate_users", &recalculate_users, nb::arg("item_factors"), nb::arg("indptr"), nb::arg("indices"),
        nb::arg("data"), nb::arg("rows"), nb::arg("regularization"), nb::arg("alpha"), nb::arg("threads"));
  m.def("_als_recommend", &recommend, nb::arg("queries"), nb::arg("item_factors"), nb::arg("liked_indptr").none(),
        nb::arg("liked_indices").none(), nb::arg("items").none(), nb::arg("filter_items").none(), nb::arg("n"),
        nb::arg("threads"));
  m.def("_als_similar_items", &similar_items, nb::arg("item_factors"), nb::arg("itemids"), nb::arg("n"),
        nb::arg("threads"));
}

}  // namespace driftrec::python
