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

void write_factors_attributes(hid_t g, const mf::TemporalAlsOptions& o, const std::string& slicing,
                              std::size_t periods) {
  h5::write_attr(g, "kind", std::string("temporal_als"));
  h5::write_attr(g, "slicing", slicing);
  h5::write_attr(g, "factors", static_cast<std::int64_t>(o.als.factors));
  h5::write_attr(g, "regularization", static_cast<double>(o.als.regularization));
  h5::write_attr(g, "alpha", static_cast<double>(o.als.alpha));
  h5::write_attr(g, "iterations", static_cast<std::int64_t>(o.als.iterations));
  h5::write_attr(g, "cg_steps", static_cast<std::int64_t>(o.als.cg_steps));
  h5::write_attr(g, "solver", std::string(solver_name(o.als.solver)));
  h5::write_attr(g, "eta", static_cast<double>(o.eta));
  h5::write_attr(g, "gamma", static_cast<double>(o.gamma));
  h5::write_attr(g, "seed", static_cast<std::int64_t>(o.als.seed));
  h5::write_attr(g, "periods", static_cast<std::int64_t>(periods));
}

void FactorsResultWriter::finish(const mf::TemporalAlsOptions& o, const std::string& slicing, std::size_t periods) {
  write_factors_attributes(group_, o, slicing, periods);
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

mf::TemporalAlsOptions read_factors_options(const Store& store, const std::string& name) {
  const h5::Handle g = open_result(store, name);
  const auto& cx = store.context();
  if (const std::string kind = h5::read_attr_string(g, "kind", cx); kind != "temporal_als")
    throw InputError(fmt::format("{}: result '{}' is a {} result, not a factorize one", store.path(), name, kind));
  mf::TemporalAlsOptions o;
  o.als.factors = static_cast<int>(h5::read_attr_int(g, "factors", cx));
  o.als.regularization = static_cast<float>(h5::read_attr_double(g, "regularization", cx));
  o.als.alpha = static_cast<float>(h5::read_attr_double(g, "alpha", cx));
  o.als.iterations = static_cast<int>(h5::read_attr_int(g, "iterations", cx));
  o.als.cg_steps = static_cast<int>(h5::read_attr_int(g, "cg_steps", cx));
  const std::string solver = h5::read_attr_string(g, "solver", cx);
  if (solver != "cg" && solver != "cholesky")
    throw InputError(fmt::format("{}: result '{}' has solver '{}', expected cg or cholesky", store.path(), name, solver));
  o.als.solver = solver == "cg" ? mf::Solver::cg : mf::Solver::cholesky;
  o.eta = static_cast<float>(h5::read_attr_double(g, "eta", cx));
  o.gamma = static_cast<float>(h5::read_attr_double(g, "gamma", cx));
  o.als.seed = static_cast<std::uint64_t>(h5::read_attr_int(g, "seed", cx));
  o.validate();
  return o;
}

std::optional<mf::Factors> read_factor_matrix(const Store& store, const std::string& name, const char* side,
                                              std::size_t period) {
  const h5::Handle g = open_result(store, name);
  const std::string key = fmt::format("{}/{}", side, period_name(period));
  if (!h5::exists(g, key)) return std::nullopt;
  return as_rows<mf::Factors>(read_matrix(g, key, store.context()));
}

std::vector<std::size_t> kept_factor_periods(const Store& store, const std::string& name, const char* side) {
  const h5::Handle g = open_result(store, name);
  std::vector<std::size_t> kept;
  for (std::size_t t = 0; t < store.n_slices(); ++t)
    if (h5::exists(g, fmt::format("{}/{}", side, period_name(t)))) kept.push_back(t);
  return kept;
}

}  // namespace driftrec::io
