// step_sequence (see sequence_step.hpp): the per-period recurrences of sequence_fit.cpp
// (temporal propagation resumed from the saved raw F_U, the temporal ALS period loop of
// fit_temporal_als from the saved factors; or the features given, StepFeatures), the
// feature columns of assemble_sequences,
// and one predict_step per new period; the interest mixture's running values and the
// batch of its last step by the functions mixture_steps is made of (mixture_fit.hpp).
#include "temporal/sequence_step.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "temporal/attention.hpp"
#include "temporal/mixture_fit.hpp"
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
// activity 0, the gap at its cap (1 x H rows; the attention cell's keys and values of each
// of those periods).
RecurrentState never_active_state(const SequenceModel& model, int fed) {
  const Shape s = model.shape();
  Matrix<float> z = Matrix<float>::Zero(s.input_size, 1);
  z(s.input_size - 1, 0) = gap_feature(model.features.gap_cap);
  const std::vector<Matrix<float>> inputs(static_cast<std::size_t>(fed), z);
  RecurrentState out;
  if (model.parameters.cell == CellKind::attention) {
    AttentionTrace<float> trace;
    attention_forward(model.parameters, inputs, trace);
    out.hidden = trace.h.back().transpose();
    for (std::size_t t = 0; t < trace.k.size(); ++t) {
      out.keys.push_back(trace.k[t].transpose());
      out.values.push_back(trace.v[t].transpose());
    }
    return out;
  }
  const States<float> st = run_states<float>(model.parameters, inputs, {}, {});
  out.hidden = st.h.back().transpose();
  if (!st.c.empty()) out.cell = st.c.back().transpose();
  return out;
}

// `m` with `added` rows more, each a copy of `row` (1 x cols).
RowMatrix with_rows(const RowMatrix& m, Eigen::Index added, const RowMatrix& row) {
  RowMatrix out(m.rows() + added, m.cols());
  out.topRows(m.rows()) = m;
  out.bottomRows(added) = row.replicate(added, 1);
  return out;
}

}  // namespace

SequenceState grown_state(const SequenceModel& model, const SequenceState& old, Index users) {
  SequenceState s = old;
  const Eigen::Index before = old.recurrent.hidden.rows(), added = users - before;
  if (added == 0) return s;
  const RecurrentState fresh = never_active_state(model, old.fed_periods);
  s.recurrent.hidden = with_rows(old.recurrent.hidden, added, fresh.hidden);
  if (old.recurrent.cell.size() > 0) s.recurrent.cell = with_rows(old.recurrent.cell, added, fresh.cell);
  for (std::size_t t = 0; t < old.recurrent.keys.size(); ++t) {
    s.recurrent.keys[t] = with_rows(old.recurrent.keys[t], added, fresh.keys[t]);
    s.recurrent.values[t] = with_rows(old.recurrent.values[t], added, fresh.values[t]);
  }
  s.user_scores = grown(old.user_scores, users, old.user_scores.cols());
  s.user_factors = grown(old.user_factors, users, old.user_factors.cols());
  s.last_active.resize(static_cast<std::size_t>(users), -1);
  if (old.mixture) {
    MixtureState& m = *s.mixture;
    const Eigen::Index labels = m.ewma_short.rows();
    m.ewma_short.conservativeResize(labels, users);
    m.ewma_short.rightCols(added).setZero();
    m.ewma_long.conservativeResize(labels, users);
    m.ewma_long.rightCols(added).setZero();
    m.labelled.resize(static_cast<std::size_t>(users), 0);
  }
  return s;
}

namespace {

// Throws InputError when the mixture's inputs do not fit the model, the state and the k new
// periods of `users` users.
void check_mixture(const SequenceModel& model, const SequenceState& state, const MixtureStepInputs* in, std::size_t k,
                   Index users) {
  const Shape shape = model.shape();
  if (state.mixture.has_value() != (in != nullptr))
    throw InputError(state.mixture ? "sequence step: the state holds an interest mixture's running values but no "
                                     "mixture inputs were given (its weights and the new periods' truth and population)"
                                   : "sequence step: mixture inputs were given but the state holds no interest "
                                     "mixture's running values (a result trained before train kept them)");
  if (!in) return;
  const MixtureState& m = *state.mixture;
  const Index before = state.recurrent.hidden.rows();
  bool fits = in->parameters != nullptr && in->parameters->labels() == shape.labels &&
              in->parameters->hidden() == shape.hidden && in->truth.size() == k && in->population.size() == k &&
              m.ewma_short.rows() == shape.labels && m.ewma_short.cols() == before &&
              m.ewma_long.rows() == shape.labels && m.ewma_long.cols() == before &&
              static_cast<Index>(m.labelled.size()) == before && m.population.size() == shape.labels;
  for (std::size_t j = 0; fits && j < k; ++j)
    fits = in->truth[j].rows() == users && in->truth[j].cols() == shape.labels &&
           in->population[j].size() == shape.labels;
  if (!fits)
    throw InputError(fmt::format(
        "sequence step: the interest mixture's weights, running values or inputs do not fit: expected {} labels, "
        "{} hidden units, {} users in the state, and the truth ({} users x {} labels) and population of each of "
        "the {} new periods",
        shape.labels, shape.hidden, before, users, shape.labels, k));
}

void compute_features(const SequenceOptions& o, const std::vector<graph::CsrMatrix>& slices,
                      const graph::CsrMatrix& item_labels, const SequenceState& state, const mf::Factors& item_factors,
                      std::size_t k, SteppedSequence& out, std::vector<pr::DenseMatrix>& interests,
                      std::vector<mf::Factors>& factors, mf::AlsModel& m);
void finish_step(const SequenceModel& model, const SequenceOptions& o, const std::vector<std::vector<float>>& activity,
                 const MixtureStepInputs* mixture, std::size_t k, std::size_t first, Index users, int f,
                 const std::vector<pr::DenseMatrix>& interests, const std::vector<mf::Factors>& factors,
                 mf::AlsModel& m, SteppedSequence& out);

}  // namespace

std::vector<float> period_activity(const graph::EventColumns& events, std::size_t first, std::size_t last, Index users) {
  std::vector<float> a(static_cast<std::size_t>(users), 0.0f);
  for (std::size_t k = first; k < last; ++k) a[static_cast<std::size_t>(events.user[k])] += 1;
  return a;
}

SteppedSequence step_sequence(const SequenceModel& model, const SequenceOptions& o,
                              const std::vector<graph::CsrMatrix>& slices, const graph::CsrMatrix& item_labels,
                              const std::vector<std::vector<float>>& activity, const SequenceState& state,
                              const mf::Factors& item_factors, const MixtureStepInputs* mixture,
                              const StepFeatures* features) {
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
  if (model.parameters.cell == CellKind::attention &&
      (state.recurrent.keys.size() != static_cast<std::size_t>(state.fed_periods) ||
       state.recurrent.values.size() != static_cast<std::size_t>(state.fed_periods)))
    throw InputError(fmt::format("sequence step: the attention cell attends over every period fed; the state holds "
                                 "keys of {} and values of {} periods, expected {} (a result trained before train "
                                 "kept them)",
                                 state.recurrent.keys.size(), state.recurrent.values.size(), state.fed_periods));

  const std::size_t k = n - old_periods, first = static_cast<std::size_t>(state.fed_periods);
  check_mixture(model, state, mixture, k, users);
  // The fed sequence with the new periods after it: the same summed head (sequence_step.hpp).
  SteppedSequence out;
  out.state = grown_state(model, state, users);
  std::vector<pr::DenseMatrix> interests;
  std::vector<mf::Factors> factors;
  mf::AlsModel m;
  if (features) {
    DRIFTREC_THROW_IF_NOT(
        features->interests.size() == k && features->user_factors.size() == k &&
            features->user_scores.rows() == users && features->user_scores.cols() == shape.labels &&
            features->item_factors.rows() == items && features->item_factors.cols() == f &&
            std::all_of(features->interests.begin(), features->interests.end(),
                        [&](const pr::DenseMatrix& x) { return x.rows() == users && x.cols() == shape.labels; }) &&
            std::all_of(features->user_factors.begin(), features->user_factors.end(),
                        [&](const mf::Factors& x) { return x.rows() == users && x.cols() == f; }),
        fmt::format("sequence step: the given features do not fit {} new periods of {} users, {} items, {} labels "
                    "and {} factors",
                    k, users, items, shape.labels, f));
    interests = features->interests;
    factors = features->user_factors;
    out.state.user_scores = features->user_scores;
    out.not_converged = features->not_converged;
    m.user = factors.back();
    m.item = features->item_factors;
  } else {
    compute_features(o, slices, item_labels, state, item_factors, k, out, interests, factors, m);
  }
  finish_step(model, o, activity, mixture, k, first, users, f, interests, factors, m, out);
  out.state.fed_periods = static_cast<int>(first + k);
  out.state.periods = static_cast<std::int64_t>(n);
  return out;
}

namespace {

// F_U and x_u of the k new periods from the saved state: the propagation resumed from the
// saved raw F_U, fit_temporal_als's period loop from the saved factors.
void compute_features(const SequenceOptions& o, const std::vector<graph::CsrMatrix>& slices,
                      const graph::CsrMatrix& item_labels, const SequenceState& state, const mf::Factors& item_factors,
                      std::size_t k, SteppedSequence& out, std::vector<pr::DenseMatrix>& interests,
                      std::vector<mf::Factors>& factors, mf::AlsModel& m) {
  const std::size_t first = static_cast<std::size_t>(state.fed_periods);
  const Index items = slices[0].n_cols;
  const int f = static_cast<int>(item_factors.cols());
  // The fed sequence with the new periods after it: the same summed head (sequence_step.hpp).
  const std::vector<graph::CsrMatrix> fed = windowed_slices(slices, state.fed_periods - 1 + static_cast<int>(k));
  DRIFTREC_ASSERT(fed.size() == first + k);

  // F_U of the new periods, resumed from the saved raw F_U.
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
  m.user = out.state.user_factors;
  m.item = grown(item_factors, items, f);
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
}

// One cell step per new period on the features assemble_sequences would build, and the
// interest mixture's step on the last; the factors of the last period into the state.
void finish_step(const SequenceModel& model, const SequenceOptions& o, const std::vector<std::vector<float>>& activity,
                 const MixtureStepInputs* mixture, std::size_t k, std::size_t first, Index users, int f,
                 const std::vector<pr::DenseMatrix>& interests, const std::vector<mf::Factors>& factors,
                 mf::AlsModel& m, SteppedSequence& out) {
  const Shape shape = model.shape();
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
    if (!mixture) continue;
    // The mixture's running values take period t in; the last new period's step predicts.
    MixtureState& ms = *out.state.mixture;
    const double shift = advance_mixture_state(ms, &mixture->truth[j], mixture->population[j]);
    if (j + 1 < k) continue;
    std::vector<int> all(static_cast<std::size_t>(users));
    for (Index u = 0; u < users; ++u) all[static_cast<std::size_t>(u)] = static_cast<int>(u);
    const Matrix<float> hidden = out.state.recurrent.hidden.transpose();
    const MixtureBatch b = mixture_batch(ms, shift, interests[j], z, f, hidden, all, nullptr);
    out.mixture_next = mixture_distribution(*mixture->parameters, b).transpose().cast<float>();
  }
  out.state.user_factors = std::move(m.user);
  out.item_factors = std::move(m.item);
}

}  // namespace

}  // namespace driftrec::temporal
