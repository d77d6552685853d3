#include "temporal/predictor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/parallel.hpp"
#include "graph/types.hpp"
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

Prediction predict_next(const SequenceModel& model, const SequenceData& d, int threads, RecurrentState* state) {
  check_shape(model, d.input_size(), d.labels, d.factor_size, threads);
  Prediction out;
  out.interests.resize(d.users, d.labels);
  out.factors.resize(d.users, d.factor_size);
  const bool lstm = model.parameters.cell == CellKind::lstm;
  if (state) {
    state->hidden.resize(d.users, model.parameters.hidden());
    state->cell.resize(lstm ? d.users : 0, model.parameters.hidden());
  }
  for_each_chunk(d.users, threads, [&](int begin, int end) {
    std::vector<Matrix<float>> inputs;
    for (int t = 0; t < d.periods; ++t) inputs.push_back(d.features[t].middleCols(begin, end - begin));
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
  if (model.parameters.cell == CellKind::attention)
    throw InputError("sequence step: the attention cell attends over every period fed and carries no recurrent "
                     "state, so it cannot be stepped one period; train it again on the longer history");
  const bool lstm = model.parameters.cell == CellKind::lstm;
  if (state.hidden.rows() != users || state.hidden.cols() != s.hidden ||
      (lstm && (state.cell.rows() != users || state.cell.cols() != s.hidden)))
    throw InputError(fmt::format(
        "sequence step: the state is {} x {} (cell {} x {}), expected {} users x {} hidden units{}",
        state.hidden.rows(), state.hidden.cols(), state.cell.rows(), state.cell.cols(), users, s.hidden,
        lstm ? " for h and c" : ""));
  Prediction out;
  out.interests.resize(users, s.labels);
  out.factors.resize(users, s.factor_size);
  for_each_chunk(users, threads, [&](int begin, int end) {
    const Matrix<float> h0 = state.hidden.middleRows(begin, end - begin).transpose();
    const Matrix<float> c0 = lstm ? Matrix<float>(state.cell.middleRows(begin, end - begin).transpose()) : Matrix<float>();
    const States<float> st =
        run_states<float>(model.parameters, {features.middleCols(begin, end - begin)}, h0, c0);
    read_heads(model.parameters, st.h.back(), begin, s.factor_size, out);
    state.hidden.middleRows(begin, end - begin) = st.h.back().transpose();
    if (lstm) state.cell.middleRows(begin, end - begin) = st.c.back().transpose();
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
