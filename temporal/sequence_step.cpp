// step_sequence (see sequence_step.hpp): the per-period recurrences of sequence_fit.cpp
// (temporal propagation resumed from the saved raw F_U, the temporal ALS period loop of
// fit_temporal_als from the saved factors), the feature columns of assemble_sequences,
// and one predict_step per new period.
#include "temporal/sequence_step.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "temporal/network.hpp"

namespace driftrec::temporal {
namespace mf = matrix_factorization;
namespace pr = propagation;
using graph::Index;

namespace {

// `m` with rows (and columns) added as zeros.
RowMatrix grown(const RowMatrix& m, Eigen::Index rows, Eigen::Index cols) {
  RowMatrix out = RowMatrix::Zero(rows, cols);
  out.topLeftCorner(m.rows(), m.cols()) = m;
  return out;
}

// The state of a user with no event in any of the `fed` periods: F_U = 0, X = 0,
// activity 0, the gap at its cap.
RecurrentState never_active_state(const SequenceModel& model, int fed) {
  const Shape s = model.shape();
  Matrix<float> z = Matrix<float>::Zero(s.input_size, 1);
  z(s.input_size - 1, 0) = gap_feature(model.features.gap_cap);
  const States<float> st = run_states<float>(model.parameters, std::vector<Matrix<float>>(static_cast<std::size_t>(fed), z), {}, {});
  RecurrentState out;
  out.hidden = st.h.back().transpose();
  if (!st.c.empty()) out.cell = st.c.back().transpose();
  return out;
}

// The state grown to `users` rows: new users enter as never active.
SequenceState grown_state(const SequenceModel& model, const SequenceState& old, Index users) {
  SequenceState s = old;
  const Eigen::Index before = old.recurrent.hidden.rows(), added = users - before;
  if (added == 0) return s;
  const RecurrentState fresh = never_active_state(model, old.fed_periods);
  s.recurrent.hidden = grown(old.recurrent.hidden, users, old.recurrent.hidden.cols());
  s.recurrent.hidden.bottomRows(added) = fresh.hidden.replicate(added, 1);
  if (old.recurrent.cell.size() > 0) {
    s.recurrent.cell = grown(old.recurrent.cell, users, old.recurrent.cell.cols());
    s.recurrent.cell.bottomRows(added) = fresh.cell.replicate(added, 1);
  }
  s.user_scores = grown(old.user_scores, users, old.user_scores.cols());
  s.user_factors = grown(old.user_factors, users, old.user_factors.cols());
  s.last_active.resize(static_cast<std::size_t>(users), -1);
  return s;
}

}  // namespace

std::vector<float> period_activity(const graph::EventColumns& events, std::size_t first, std::size_t last, Index users) {
  std::vector<float> a(static_cast<std::size_t>(users), 0.0f);
  for (std::size_t k = first; k < last; ++k) a[static_cast<std::size_t>(events.user[k])] += 1;
  return a;
}

SteppedSequence step_sequence(const SequenceModel& model, const SequenceOptions& o,
                              const std::vector<graph::CsrMatrix>& slices, const graph::CsrMatrix& item_labels,
                              const std::vector<std::vector<float>>& activity, const SequenceState& state,
                              const mf::Factors& item_factors) {
  o.validate();
  const Shape shape = model.shape();
  const Index users = slices.empty() ? 0 : slices[0].n_rows, items = slices.empty() ? 0 : slices[0].n_cols;
  const std::size_t n = slices.size(), old_periods = static_cast<std::size_t>(state.periods);
  const int f = shape.factor_size;
  if (n <= old_periods || activity.size() != n - old_periods)
    throw InputError(fmt::format("sequence step: {} periods with activity for {}, the state covers {} (expected "
                                 "more periods and activity for each new one)",
                                 n, activity.size(), old_periods));
  if (users < state.recurrent.hidden.rows() || items < item_factors.rows() || item_labels.n_cols != shape.labels ||
      state.user_scores.cols() != shape.labels || state.user_factors.cols() != f || item_factors.cols() != f ||
      static_cast<Index>(state.last_active.size()) != state.recurrent.hidden.rows() || state.fed_periods < 1)
    throw InputError(fmt::format(
        "sequence step: the store has {} users, {} items and {} labels; the state has {} users, {} items, {} "
        "labels and {} factors, the model {} labels and {} factors (a model cannot take new labels)",
        users, items, item_labels.n_cols, state.recurrent.hidden.rows(), item_factors.rows(), state.user_scores.cols(),
        state.user_factors.cols(), shape.labels, f));
  for (const std::vector<float>& a : activity)
    if (static_cast<Index>(a.size()) != users)
      throw InputError(fmt::format("sequence step: activity has {} users, expected {}", a.size(), users));

  const std::size_t k = n - old_periods, first = static_cast<std::size_t>(state.fed_periods);
  // The fed sequence with the new periods after it: the same summed head (sequence_step.hpp).
  const std::vector<graph::CsrMatrix> fed = windowed_slices(slices, state.fed_periods - 1 + static_cast<int>(k));
  DRIFTREC_ASSERT(fed.size() == first + k);
  SteppedSequence out;
  out.state = grown_state(model, state, users);

  // F_U of the new periods, resumed from the saved raw F_U.
  std::vector<pr::DenseMatrix> interests;
  pr::TemporalResume resume{first, out.state.user_scores};
  pr::propagate_temporal_streaming(
      fed, item_labels, o.propagation,
      [&](std::size_t, pr::PeriodResult& r) {
        if (!r.converged) ++out.not_converged;
        interests.push_back(std::move(r.interests));
        out.state.user_scores = std::move(r.user_scores);
      },
      {}, &resume);
  DRIFTREC_ASSERT(interests.size() == k);

  // X of the new periods: fit_temporal_als's period loop, from the saved factors.
  std::unique_ptr<mf::AlsBackend> owned;
  mf::AlsOptions als = o.als.als;
  als.backend = &mf::als_backend_or_cpu(o.als.als.backend, o.als.als.threads, owned);
  mf::AlsModel m;
  m.user = out.state.user_factors;
  m.item = grown(item_factors, items, f);
  std::vector<mf::Factors> factors;
  graph::CsrMatrix history;  // G_t = gamma G_{t-1} + W_t
  for (std::size_t t = 0; t < fed.size(); ++t) {
    history = t == 0 ? fed[0] : graph::decay_step(history, fed[t], o.als.gamma);
    if (t < first) continue;
    for (float v : history.data)
      if (!std::isfinite(v))
        throw InputError(fmt::format("temporal ALS: the decayed history of period {} has a non-finite value; "
                                     "rescale the slices or lower `gamma`", t));
    const mf::Factors previous_user = m.user;
    mf::run_sweeps(history, graph::transpose(history), m, als, mf::DriftPrior{&previous_user, o.als.eta}, {}, false);
    factors.push_back(m.user);
  }

  // One cell step per new period, on the features assemble_sequences would build.
  const int labels = shape.labels;
  for (std::size_t j = 0; j < k; ++j) {
    const int t = static_cast<int>(first + j);
    Matrix<float> z(shape.input_size, users);
    for (Index u = 0; u < users; ++u) {
      z.col(u).head(labels) = interests[j].row(u).transpose();
      if (f > 0) z.col(u).segment(labels, f) = factors[j].row(u).transpose();
      const float a = activity[j][static_cast<std::size_t>(u)];
      std::int32_t& s = out.state.last_active[static_cast<std::size_t>(u)];
      const int gap = s < 0 ? model.features.gap_cap : std::min(model.features.gap_cap, t - s - 1);
      z(labels + f, u) = activity_feature(a);
      z(labels + f + 1, u) = gap_feature(gap);
      if (a > 0) s = t;
    }
    out.next = predict_step(model, z, out.state.recurrent, o.model.threads);
  }
  out.state.user_factors = std::move(m.user);
  out.item_factors = std::move(m.item);
  out.state.fed_periods = static_cast<int>(first + k);
  out.state.periods = static_cast<std::int64_t>(n);
  return out;
}

}  // namespace driftrec::temporal
