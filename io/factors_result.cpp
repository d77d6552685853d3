#include "io/factors_result.hpp"

#include <fmt/format.h>

#include "io/results.hpp"

namespace driftrec::io {
namespace mf = matrix_factorization;

FactorsResultWriter::FactorsResultWriter(StoreWriter& w, const std::string& name)
    : group_(create_result(w, name)),
      users_(h5::create_group(group_, "user_factors")),
      items_(h5::create_group(group_, "item_factors")) {}

void FactorsResultWriter::write_user(std::size_t period, const mf::Factors& f) { write_rows(users_, period_name(period), f); }
void FactorsResultWriter::write_item(std::size_t period, const mf::Factors& f) { write_rows(items_, period_name(period), f); }

const char* solver_name(mf::Solver s) { return s == mf::Solver::cg ? "cg" : "cholesky"; }

void FactorsResultWriter::finish(const mf::TemporalAlsOptions& o, const std::string& slicing, std::size_t periods) {
  h5::write_attr(group_, "kind", std::string("temporal_als"));
  h5::write_attr(group_, "slicing", slicing);
  h5::write_attr(group_, "factors", static_cast<std::int64_t>(o.als.factors));
  h5::write_attr(group_, "regularization", static_cast<double>(o.als.regularization));
  h5::write_attr(group_, "alpha", static_cast<double>(o.als.alpha));
  h5::write_attr(group_, "iterations", static_cast<std::int64_t>(o.als.iterations));
  h5::write_attr(group_, "cg_steps", static_cast<std::int64_t>(o.als.cg_steps));
  h5::write_attr(group_, "solver", std::string(solver_name(o.als.solver)));
  h5::write_attr(group_, "eta", static_cast<double>(o.eta));
  h5::write_attr(group_, "gamma", static_cast<double>(o.gamma));
  h5::write_attr(group_, "seed", static_cast<std::int64_t>(o.als.seed));
  h5::write_attr(group_, "periods", static_cast<std::int64_t>(periods));
  users_.reset();
  items_.reset();
  group_.reset();
}

StoredFactors read_factors(const Store& store, const std::string& name, std::optional<std::size_t> period) {
  h5::Handle g = open_result(store, name);
  auto has = [&](const char* side, std::size_t p) { return h5::exists(g, fmt::format("{}/{}", side, period_name(p))); };
  StoredFactors out;
  if (period) {
    if (!has("user_factors", *period) || !has("item_factors", *period))
      throw InputError(fmt::format("{}: result '{}' has no user and item factors for period {} (factorize "
                                   "with --keep-items all to keep every period's item factors)",
                                   store.path(), name, *period));
    out.period = *period;
  } else {
    bool found = false;
    for (std::size_t p = store.n_slices(); p-- > 0;)
      if (has("user_factors", p) && has("item_factors", p)) {
        out.period = p;
        found = true;
        break;
      }
    if (!found)
      throw InputError(fmt::format("{}: result '{}' has no period with both user and item factors", store.path(), name));
  }
  auto load = [&](const char* side, std::int64_t rows) {
    const Matrix m = read_matrix(g, fmt::format("{}/{}", side, period_name(out.period)), store.context());
    if (static_cast<std::int64_t>(m.rows) != rows)
      throw InputError(fmt::format("{}: {} of result '{}' have {} rows, the store has {}", store.path(), side,
                                   name, m.rows, rows));
    return as_rows<mf::Factors>(m);
  };
  out.model.user = load("user_factors", store.n_users());
  out.model.item = load("item_factors", store.n_items());
  if (out.model.user.cols() != out.model.item.cols())
    throw InputError(fmt::format("{}: result '{}' has user and item factors of different widths", store.path(), name));
  return out;
}

std::vector<bool> user_factor_periods(const Store& store, const std::string& name) {
  h5::Handle g = open_result(store, name);
  std::vector<bool> kept(store.n_slices());
  for (std::size_t p = 0; p < kept.size(); ++p) kept[p] = h5::exists(g, "user_factors/" + period_name(p));
  return kept;
}

mf::Factors read_user_factors(const Store& store, const std::string& name, std::size_t period) {
  h5::Handle g = open_result(store, name);
  const std::string path = "user_factors/" + period_name(period);
  if (!h5::exists(g, path))
    throw InputError(fmt::format("{}: result '{}' has no user factors for period {}", store.path(), name, period));
  const Matrix m = read_matrix(g, path, store.context());
  if (static_cast<std::int64_t>(m.rows) != store.n_users())
    throw InputError(fmt::format("{}: user_factors of result '{}' have {} rows, the store has {}", store.path(), name,
                                 m.rows, store.n_users()));
  return as_rows<mf::Factors>(m);
}

std::string result_kind(const Store& store, const std::string& name) {
  h5::Handle g = open_result(store, name);
  return h5::read_attr_string(g, "kind", store.context());
}

}  // namespace driftrec::io
