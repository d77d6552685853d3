#include "temporal/predictor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "graph/types.hpp"
#include "temporal/attention.hpp"
#include "temporal/heads.hpp"
#include "temporal/network.hpp"

namespace driftrec::temporal {
namespace {

// The last hidden state of each column of a (D x B per period) sequence.
Matrix<float> last_state(const Parameters<float>& p, const std::vector<Matrix<float>>& inputs) {
  return run_states<float>(p, inputs, {}, {}).h.back();
}

void check_shape(const SequenceModel& model, int input_size, int labels, int factor_size, int threads) {
  const Shape s = model.shape();
  if (s.input_size != input_size || s.labels != labels || s.factor_size != factor_size)
    throw InputError(fmt::format(
        "sequence prediction: the model expects {} labels and {} factors, the data has {} "
        "labels and {} factors",
        s.labels, s.factor_size, labels, factor_size));
  if (threads < 0)
    throw InputError(
        fmt::format("sequence prediction: `threads` must be >= 0 (got {})", threads));
}

// body(begin, end) for each chunk of kChunkUsers users, in parallel.
template <class Body>
void for_each_chunk(int users, int threads, const Body& body) {
  const int chunks = (users + kChunkUsers - 1) / kChunkUsers;
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.serial_nested = true;  // keep Eigen's products serial inside the team (see trainer.cpp)
  core::parallel_for(chunks, o, [&](std::int64_t chunk) {
    const int begin = static_cast<int>(chunk) * kChunkUsers;
    body(begin, std::min(users, begin + kChunkUsers));
  });
}

// The heads on the states `h` (H x B) of users begin.. into `out`.
void read_heads(const Parameters<float>& p, const Matrix<float>& h, int begin, int factor_size, Prediction& out) {
  out.interests.middleRows(begin, h.cols()) = interest_distribution(p, h).transpose();
  if (factor_size > 0) out.factors.middleRows(begin, h.cols()) = predicted_factor(p, h).transpose();
}

}  // namespace

Prediction predict_next(const SequenceModel& model, const SequenceData& d, int threads, RecurrentState* state,
                        int periods) {
  check_shape(model, d.input_size(), d.labels, d.factor_size, threads);
  if (periods < 0 || periods > d.periods)
    throw InputError(fmt::format("sequence prediction: `periods` must be 0 (all) or 1..{} (got {})", d.periods,
                                 periods));
  const int read = periods == 0 ? d.periods : periods;
  Prediction out;
  out.interests.resize(d.users, d.labels);
  out.factors.resize(d.users, d.factor_size);
  const bool lstm = model.parameters.cell == CellKind::lstm;
  const bool attention = model.parameters.cell == CellKind::attention;
  const int hidden = model.parameters.hidden();
  if (state) {
    state->hidden.resize(d.users, hidden);
    state->cell.resize(lstm ? d.users : 0, hidden);
    const std::size_t memory = attention ? static_cast<std::size_t>(read) : 0;
    state->keys.assign(memory, RowMatrix(d.users, hidden));
    state->values.assign(memory, RowMatrix(d.users, hidden));
  }
  for_each_chunk(d.users, threads, [&](int begin, int end) {
    std::vector<Matrix<float>> inputs;
    for (int t = 0; t < read; ++t) inputs.push_back(d.features(t).middleCols(begin, end - begin));
    if (attention && state) {  // run_states' attention forward, keeping what a step reads
      AttentionTrace<float> trace;
      attention_forward(model.parameters, inputs, trace);
      read_heads(model.parameters, trace.h.back(), begin, d.factor_size, out);
      state->hidden.middleRows(begin, end - begin) = trace.h.back().transpose();
      for (std::size_t t = 0; t < trace.k.size(); ++t) {
        state->keys[t].middleRows(begin, end - begin) = trace.k[t].transpose();
        state->values[t].middleRows(begin, end - begin) = trace.v[t].transpose();
      }
      return;
    }
    const States<float> s = run_states<float>(model.parameters, inputs, {}, {});
    read_heads(model.parameters, s.h.back(), begin, d.factor_size, out);
    if (state) {
      state->hidden.middleRows(begin, end - begin) = s.h.back().transpose();
      if (lstm) state->cell.middleRows(begin, end - begin) = s.c.back().transpose();
    }
  });
  return out;
}

Prediction predict_step(const SequenceModel& model, const Matrix<float>& features, RecurrentState& state,
                        int threads) {
  const Shape s = model.shape();
  const int users = static_cast<int>(features.cols());
  check_shape(model, static_cast<int>(features.rows()), s.labels, s.factor_size, threads);
  const bool lstm = model.parameters.cell == CellKind::lstm;
  const bool attention = model.parameters.cell == CellKind::attention;
  if (state.hidden.rows() != users || state.hidden.cols() != s.hidden ||
      (lstm && (state.cell.rows() != users || state.cell.cols() != s.hidden)))
    throw InputError(fmt::format(
        "sequence step: the state is {} x {} (cell {} x {}), expected {} users x {} hidden units{}",
        state.hidden.rows(), state.hidden.cols(), state.cell.rows(), state.cell.cols(), users, s.hidden,
        lstm ? " for h and c" : ""));
  if (attention) {
    bool fits = !state.keys.empty() && state.keys.size() == state.values.size();
    for (std::size_t t = 0; fits && t < state.keys.size(); ++t)
      fits = state.keys[t].rows() == users && state.keys[t].cols() == s.hidden && state.values[t].rows() == users &&
             state.values[t].cols() == s.hidden;
    if (!fits)
      throw InputError(fmt::format(
          "sequence step: the attention cell's state holds keys of {} and values of {} periods; expected the keys "
          "and values of every period fed (at least one), {} users x {} hidden units each",
          state.keys.size(), state.values.size(), users, s.hidden));
    state.keys.emplace_back(users, s.hidden);
    state.values.emplace_back(users, s.hidden);
  }
  Prediction out;
  out.interests.resize(users, s.labels);
  out.factors.resize(users, s.factor_size);
  for_each_chunk(users, threads, [&](int begin, int end) {
    const int n = end - begin;
    if (attention) {  // the earlier periods' keys and values, and the new period on them
      AttentionTrace<float> trace;
      for (std::size_t t = 0; t + 1 < state.keys.size(); ++t) {
        trace.k.push_back(state.keys[t].middleRows(begin, n).transpose());
        trace.v.push_back(state.values[t].middleRows(begin, n).transpose());
      }
      attention_extend<float>(model.parameters, features.middleCols(begin, n), trace);
      read_heads(model.parameters, trace.h.back(), begin, s.factor_size, out);
      state.hidden.middleRows(begin, n) = trace.h.back().transpose();
      state.keys.back().middleRows(begin, n) = trace.k.back().transpose();
      state.values.back().middleRows(begin, n) = trace.v.back().transpose();
      return;
    }
    const Matrix<float> h0 = state.hidden.middleRows(begin, n).transpose();
    const Matrix<float> c0 = lstm ? Matrix<float>(state.cell.middleRows(begin, n).transpose()) : Matrix<float>();
    const States<float> st = run_states<float>(model.parameters, {features.middleCols(begin, n)}, h0, c0);
    read_heads(model.parameters, st.h.back(), begin, s.factor_size, out);
    state.hidden.middleRows(begin, n) = st.h.back().transpose();
    if (lstm) state.cell.middleRows(begin, n) = st.c.back().transpose();
  });
  return out;
}

UserPrediction predict_user(const SequenceModel& model, const Matrix<float>& features) {
  const Shape s = model.shape();
  if (features.rows() != s.input_size || features.cols() == 0)
    throw InputError(fmt::format(
        "sequence prediction: features are {} x {}, expected {} rows (the input size) and at "
        "least one period",
        features.rows(), features.cols(), s.input_size));
  std::vector<Matrix<float>> inputs;
  for (Eigen::Index t = 0; t < features.cols(); ++t) inputs.push_back(features.col(t));
  const Matrix<float> h = last_state(model.parameters, inputs);
  return {interest_distribution(model.parameters, h).col(0),
          predicted_factor(model.parameters, h).col(0)};
}

}  // namespace driftrec::temporal
