#include "io/walk_result.hpp"

#include <fmt/format.h>

#include "io/results.hpp"

namespace driftrec::io {

void write_walk_result(StoreWriter& w, const std::string& name, const WalkResult& r) {
  h5::Handle g = create_result(w, name);
  if (!r.is_pagerank()) write_csr_group(g, "similarity", r.similarity, w.threads());
  write_matrix(g, "top_items", r.top.items.data(), static_cast<std::uint64_t>(r.top.users),
               static_cast<std::uint64_t>(r.top.k));
  write_matrix(g, "top_scores", r.top.scores.data(), static_cast<std::uint64_t>(r.top.users),
               static_cast<std::uint64_t>(r.top.k));
  write_walk_result_attributes(g, r);
}

void write_walk_result_attributes(hid_t g, const WalkResult& r) {
  h5::write_attr(g, "gamma", r.gamma);
  h5::write_attr(g, "top", static_cast<std::int64_t>(r.top.k));
  if (r.is_pagerank()) {
    h5::write_attr(g, "restart_probability", r.restart_probability);
    h5::write_attr(g, "tolerance", r.tolerance);
    h5::write_attr(g, "max_iterations", static_cast<std::int64_t>(r.max_iterations));
    h5::write_attr(g, "iterations", static_cast<std::int64_t>(r.iterations));
    h5::write_attr(g, "residual", r.residual);
    h5::write_attr(g, "converged", static_cast<std::int64_t>(r.converged));
  } else {
    h5::write_attr(g, "alpha", r.alpha);
    h5::write_attr(g, "beta", r.beta);
    h5::write_attr(g, "neighbours", static_cast<std::int64_t>(r.neighbours));
  }
  h5::write_attr(g, "kind", r.method);
  h5::write_attr(g, "slicing", r.slicing);
  h5::write_attr(g, "periods", r.periods);
}

WalkResult read_walk_result(const Store& store, const std::string& name) {
  h5::Handle g = open_result(store, name);
  const auto& cx = store.context();
  WalkResult r;
  r.method = h5::read_attr_string(g, "kind", cx);
  if (r.method != "p3alpha" && r.method != "rp3beta" && r.method != "ppr")
    throw InputError(fmt::format("{}: result '{}' is a {} result, not a random-walk one (driftrec propagate --method "
                                 "p3alpha|rp3beta|ppr)",
                                 store.path(), name, r.method));
  r.slicing = h5::read_attr_string(g, "slicing", cx);
  r.periods = h5::read_attr_int(g, "periods", cx);
  r.gamma = h5::read_attr_double(g, "gamma", cx);
  const IndexMatrix items = read_index_matrix(g, "top_items", cx);
  Matrix scores = read_matrix(g, "top_scores", cx, NonFinite::allow_negative_infinity);
  if (static_cast<std::int64_t>(items.rows) != store.n_users() || scores.rows != items.rows || scores.cols != items.cols)
    throw InputError(fmt::format("{}: result '{}': top_items and top_scores do not fit the store's {} users",
                                 store.path(), name, store.n_users()));
  r.top.users = store.n_users();
  r.top.k = static_cast<int>(items.cols);
  r.top.items = items.data;
  r.top.scores = std::move(scores.data);
  if (r.is_pagerank()) {
    r.restart_probability = h5::read_attr_double(g, "restart_probability", cx);
    r.tolerance = h5::read_attr_double(g, "tolerance", cx);
    r.max_iterations = static_cast<int>(h5::read_attr_int(g, "max_iterations", cx));
    r.iterations = static_cast<int>(h5::read_attr_int(g, "iterations", cx));
    r.residual = h5::read_attr_double(g, "residual", cx);
    r.converged = h5::read_attr_int(g, "converged", cx) != 0;
  } else {
    r.similarity = read_csr_group(g, "similarity", store.n_items(), store.n_items(), cx);
    check_result_values(r.similarity.data.data(), r.similarity.data.size(), 0,
                        fmt::format("/results/{}/similarity/data", name), cx);
    r.alpha = h5::read_attr_double(g, "alpha", cx);
    r.beta = h5::read_attr_double(g, "beta", cx);
    r.neighbours = static_cast<int>(h5::read_attr_int(g, "neighbours", cx));
  }
  return r;
}

}  // namespace driftrec::io
