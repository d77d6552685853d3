// Temporal label propagation: the decayed history, the user prior from the previous
// period, and one static run (label_propagation.cpp) per period. See
// temporal_propagation.hpp.
#include "propagation/temporal_propagation.hpp"

#include "graph/decay.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "propagation/reorder.hpp"

namespace driftrec::propagation {
namespace {

using graph::CsrMatrix;
using graph::Index;
using graph::Offset;


void check_slices(const std::vector<CsrMatrix>& slices, const CsrMatrix& item_labels) {
  for (std::size_t t = 0; t < slices.size(); ++t) {
    const std::string what = fmt::format("slice {}", t);
    const CsrMatrix& s = slices[t];
    graph::validate_csr(s, what.c_str());
    if (s.n_rows != slices[0].n_rows || s.n_cols != slices[0].n_cols)
      throw InputError(fmt::format("{}: is {} x {} but slice 0 is {} x {}; every slice must have "
                                   "the same users and items",
                                   what, s.n_rows, s.n_cols, slices[0].n_rows, slices[0].n_cols));
    for (Index r = 0; r < s.n_rows; ++r)
      for (Offset e = s.indptr[r]; e < s.indptr[r + 1]; ++e)
        if (!std::isfinite(s.data[e]) || s.data[e] < 0)
          throw InputError(fmt::format(
              "{}: the value at row {}, column {} is {}; edge weights must be finite and >= 0",
              what, r, s.indices[e], s.data[e]));
  }
  if (!slices.empty() && item_labels.n_rows != slices[0].n_cols)
    throw InputError(fmt::format("item_labels: has {} rows (items) but the slices have {} items",
                                 item_labels.n_rows, slices[0].n_cols));
}

}  // namespace

void TemporalOptions::validate() const {
  propagation.validate();
  if (!(gamma >= 0 && gamma <= 1))
    throw InputError(fmt::format("gamma: expected a value in [0, 1], got {}", gamma));
  if (!(mu >= 0 && mu <= 1))
    throw InputError(fmt::format("mu: expected a value in [0, 1], got {}", mu));
}

void propagate_temporal_streaming(const std::vector<CsrMatrix>& slices,
                                  const CsrMatrix& item_labels, const TemporalOptions& options,
                                  const PeriodCallback& on_period,
                                  const ProgressCallback& progress, const TemporalResume* resume) {
  options.validate();
  check_slices(slices, item_labels);
  const std::size_t first = resume ? resume->first_period : 0;
  if (resume && first > 0 && first < slices.size() &&
      (resume->previous_user_scores.rows() != slices[0].n_rows ||
       resume->previous_user_scores.cols() != item_labels.n_cols))
    throw InputError(fmt::format("resume: F_U({}) is {} x {}, expected {} users x {} labels", first - 1,
                                 resume->previous_user_scores.rows(), resume->previous_user_scores.cols(),
                                 slices[0].n_rows, item_labels.n_cols));
  std::unique_ptr<Backend> owned;
  const int threads = options.propagation.threads;
  const Backend& backend = backend_or_cpu(options.propagation.backend, threads, owned);
  const DenseMatrix y_items = item_seed_labels(item_labels);
  BipartiteGraph g;
  // g's positions -> original ids when g is in degree order; `ordered` says whether it is.
  VertexOrder order;
  bool ordered = false;
  DenseMatrix previous_users;  // raw F_U(t-1), in the ORIGINAL order
  bool announced = false;      // the automatic low-memory choice said so once
  for (std::size_t t = 0; t < slices.size(); ++t) {
    g.item_users = CsrMatrix{};  // the decay step needs G_{t-1} only, not its transpose
    // G_t = gamma * G_{t-1} + W_t, in g's order: when G_{t-1} is degree-ordered the slice
    // is relabelled into that order first (a slice-sized copy, not one of G).
    const bool decayed = t > 0 && options.gamma != 0;
    CsrMatrix history = !decayed ? slices[t]
                        : ordered ? graph::decay_step(g.user_items, relabel(slices[t], order, threads),
                                                      options.gamma)
                                  : graph::decay_step(g.user_items, slices[t], options.gamma);
    const bool history_ordered = decayed && ordered;
    g = BipartiteGraph{};  // free G_{t-1} and its transpose before building the next
    const std::string what = fmt::format("decayed history G_{} (gamma {})", t, options.gamma);
    // A history already in the previous order is ordered again (its degrees changed),
    // whatever its size, so that it never has to be mapped back.
    ordered = history_ordered || options.propagation.reorders(history.nnz());
    if (ordered) {
      graph::validate_csr(history, what.c_str());
      VertexOrder fresh = degree_order(history);  // positions in history's order
      CsrMatrix relabelled = relabel(history, fresh, threads);
      history = std::move(relabelled);
      if (history_ordered) {  // compose: new position -> previous position -> original id
        for (Index& p : fresh.user_old) p = order.user_old[static_cast<std::size_t>(p)];
        for (Index& p : fresh.item_old) p = order.item_old[static_cast<std::size_t>(p)];
      }
      order = std::move(fresh);
    }
    if (t < first) {  // resuming: only G and its order advance (no transpose, no degrees)
      g.user_items = std::move(history);
      continue;
    }
    // The history is already held: only what comes on top of it counts against the memory
    // available (F_U(t-1) is held too, but its mapping into order is not).
    const bool prior = t > 0 && options.mu > 0;
    Footprint need = estimate_footprint(history.n_rows, history.n_cols, history.nnz(), item_labels.n_cols, prior,
                                        ordered);
    const double held = 8.0 * static_cast<double>(history.nnz()) + 8.0 * static_cast<double>(history.n_rows + 1);
    need.with_transpose -= held;
    need.low_memory -= held;
    const Transpose transpose = choose_transpose(options.propagation, need, what.c_str(), !announced);
    announced = announced || (transpose == Transpose::none && options.propagation.low_memory == LowMemory::automatic);
    g = make_bipartite_graph(std::move(history), what.c_str(), transpose);
    if (resume && t == first && t > 0) previous_users = resume->previous_user_scores;
    // Seeds in g's order; F_U(t-1) is kept in the original order between periods.
    DenseMatrix items_ordered, users_ordered;
    Seeds seeds;
    seeds.items = view(y_items);
    if (ordered) {
      items_ordered = to_order(view(y_items), order.item_old, threads);
      seeds.items = view(std::as_const(items_ordered));
    }
    if (t > 0 && options.mu > 0) {
      seeds.users = view(std::as_const(previous_users));  // Y_U(t) = mu * F_U(t-1)
      if (ordered) {
        users_ordered = to_order(view(std::as_const(previous_users)), order.user_old, threads);
        seeds.users = view(std::as_const(users_ordered));
      }
      seeds.user_scale = options.mu;
    }
    // Each period starts cold, from F = Y. A warm start from F(t-1) saved ~12% of the
    // iterations on MovieLens but left a user in a part of G_t with no label and no prior
    // a tiny residue where the fixed point is 0, and normalising made that an "interest".
    // G_t on the backend for every iteration of the period, and back on the host for the
    // decay step of the next one: handed over and back when the backend can (the CPU
    // backend then keeps the tiles of W and W^T in their place, about 13 instead of 17
    // bytes per entry), lent otherwise.
    PropagationResult r;
    if (backend.hands_back_user_items()) {
      std::unique_ptr<PreparedGraph> handle = backend.prepare(std::move(g));
      r = propagate_labels(*handle, seeds, options.propagation, progress, t);
      g = BipartiteGraph{};
      g.user_items = backend.take_user_items(std::move(handle));
    } else {
      r = propagate_labels(*backend.prepare(g), seeds, options.propagation, progress, t);
    }
    users_ordered = DenseMatrix{};
    items_ordered = DenseMatrix{};
    if (ordered) {  // back to the original ids
      DenseMatrix users(r.user_labels.rows(), r.user_labels.cols());
      from_order(view(std::as_const(r.user_labels)), order.user_old, view(users), threads);
      r.user_labels = std::move(users);
      DenseMatrix items(r.item_labels.rows(), r.item_labels.cols());
      from_order(view(std::as_const(r.item_labels)), order.item_old, view(items), threads);
      r.item_labels = std::move(items);
    }
    PeriodResult out;
    out.interests = row_normalized(r.user_labels);
    out.item_labels = std::move(r.item_labels);
    out.iterations = r.iterations;
    out.residual = r.residual;
    out.converged = r.converged;
    previous_users = std::move(r.user_labels);
    out.user_scores = previous_users;
    if (on_period) on_period(t, out);
  }
}

std::vector<PeriodResult> propagate_temporal(const std::vector<CsrMatrix>& slices,
                                             const CsrMatrix& item_labels,
                                             const TemporalOptions& options,
                                             const ProgressCallback& progress) {
  options.validate();
  std::vector<PeriodResult> out;
  out.reserve(slices.size());
  propagate_temporal_streaming(
      slices, item_labels, options,
      [&](std::size_t, PeriodResult& r) { out.push_back(std::move(r)); }, progress);
  return out;
}

}  // namespace driftrec::propagation
