#include "io/label_result.hpp"

#include <fmt/format.h>

#include "io/results.hpp"

namespace driftrec::io {
namespace pr = propagation;

namespace {

pr::DenseMatrix read_dense(const Store& store, hid_t g, const std::string& name, graph::Index rows) {
  const Matrix m = read_matrix(g, name, store.context());
  if (static_cast<std::int64_t>(m.rows) != rows || static_cast<std::int64_t>(m.cols) != store.n_labels())
    throw InputError(fmt::format("{}: {} is {} x {}, the store has {} x {} labels", store.path(), name, m.rows,
                                 m.cols, rows, store.n_labels()));
  return as_rows<pr::DenseMatrix>(m);
}

h5::Handle open_label_result(const Store& store, const std::string& name) {
  h5::Handle g = open_result(store, name);
  if (const std::string kind = h5::read_attr_string(g, "kind", store.context()); kind != "label_propagation")
    throw InputError(fmt::format("{}: result '{}' is a {} result, not a label propagation one (driftrec propagate)",
                                 store.path(), name, kind));
  return g;
}

}  // namespace

LabelResultWriter::LabelResultWriter(StoreWriter& w, const std::string& name)
    : threads_(w.threads()),
      group_(create_result(w, name)),
      users_(h5::create_group(group_, "interests")),
      items_(h5::create_group(group_, "item_labels")),
      scores_(h5::create_group(group_, "user_scores")) {}

void LabelResultWriter::write_user_scores(std::size_t period, const pr::DenseMatrix& raw_scores) {
  write_rows(scores_, period_name(period), raw_scores);
}

void LabelResultWriter::write_period(std::size_t period, const pr::DenseMatrix& interests,
                                     const pr::DenseMatrix& item_labels) {
  write_rows(users_, period_name(period), interests);
  write_rows(items_, period_name(period), item_labels);
}

void write_label_result_info(hid_t result, const LabelResultInfo& info, int threads) {
  const std::vector<std::int32_t> converged(info.converged.begin(), info.converged.end());
  h5::write_array<std::int64_t>(result, "iterations", info.iterations, threads);
  h5::write_array<double>(result, "residual", info.residual, threads);
  h5::write_array<std::int32_t>(result, "converged", converged, threads);
  const pr::TemporalOptions& o = info.options;
  h5::write_attr(result, "alpha", static_cast<double>(o.propagation.alpha));
  h5::write_attr(result, "gamma", static_cast<double>(o.gamma));
  h5::write_attr(result, "mu", static_cast<double>(o.mu));
  h5::write_attr(result, "tolerance", o.propagation.tolerance);
  h5::write_attr(result, "max_iterations", static_cast<std::int64_t>(o.propagation.max_iterations));
  h5::write_attr(result, "keep", info.keep);
  h5::write_attr(result, "kind", std::string("label_propagation"));
  h5::write_attr(result, "slicing", info.slicing);
  h5::write_attr(result, "periods", static_cast<std::int64_t>(info.iterations.size()));
}

void LabelResultWriter::finish(const LabelResultInfo& info) {
  write_label_result_info(group_, info, threads_);
  users_.reset();
  items_.reset();
  scores_.reset();
  group_.reset();
}

LabelResultInfo read_label_result(const Store& store, const std::string& name) {
  const h5::Handle g = open_label_result(store, name);
  const auto& cx = store.context();
  LabelResultInfo info;
  info.options.propagation.alpha = static_cast<float>(h5::read_attr_double(g, "alpha", cx));
  info.options.gamma = static_cast<float>(h5::read_attr_double(g, "gamma", cx));
  info.options.mu = static_cast<float>(h5::read_attr_double(g, "mu", cx));
  info.options.propagation.tolerance = h5::read_attr_double(g, "tolerance", cx);
  info.options.propagation.max_iterations = static_cast<int>(h5::read_attr_int(g, "max_iterations", cx));
  info.keep = h5::read_attr_string(g, "keep", cx);
  info.slicing = h5::read_attr_string(g, "slicing", cx);
  info.iterations = h5::read_array<std::int64_t>(g, "iterations", cx);
  info.residual = h5::read_array<double>(g, "residual", cx);
  const auto converged = h5::read_array<std::int32_t>(g, "converged", cx);
  info.converged.assign(converged.begin(), converged.end());
  if (info.residual.size() != info.iterations.size() || info.converged.size() != info.iterations.size())
    throw InputError(fmt::format("{}: result '{}': iterations, residual and converged differ in length", store.path(), name));
  return info;
}

LabelPeriod read_label_period(const Store& store, const std::string& name, std::size_t period) {
  const h5::Handle g = open_label_result(store, name);
  const std::string key = period_name(period);
  if (!h5::exists(g, "interests/" + key))
    throw InputError(fmt::format("{}: result '{}' did not keep period {} (propagate with --keep all)", store.path(),
                                 name, period));
  return {read_dense(store, g, "interests/" + key, store.n_users()),
          read_dense(store, g, "item_labels/" + key, store.n_items())};
}

std::optional<pr::DenseMatrix> read_user_scores(const Store& store, const std::string& name, std::size_t period) {
  const h5::Handle g = open_label_result(store, name);
  const std::string key = "user_scores/" + period_name(period);
  if (!h5::exists(g, "user_scores") || !h5::exists(g, key)) return std::nullopt;
  return read_dense(store, g, key, store.n_users());
}

std::vector<std::size_t> kept_label_periods(const Store& store, const std::string& name) {
  const h5::Handle g = open_label_result(store, name);
  std::vector<std::size_t> kept;
  for (std::size_t t = 0; t < store.n_slices(); ++t)
    if (h5::exists(g, "interests/" + period_name(t))) kept.push_back(t);
  return kept;
}

}  // namespace driftrec::io
