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

}  // namespace

Prediction predict_next(const SequenceModel& model, const SequenceData& d, int threads) {
  const Shape s = model.shape();
  if (s.input_size != d.input_size() || s.labels != d.labels || s.factor_size != d.factor_size)
    throw InputError(fmt::format(
        "sequence prediction: the model expects {} labels and {} factors, the data has {} "
        "labels and {} factors",
        s.labels, s.factor_size, d.labels, d.factor_size));
  if (threads < 0)
    throw InputError(
        fmt::format("sequence prediction: `threads` must be >= 0 (got {})", threads));
  Prediction out;
  out.interests.resize(d.users, d.labels);
  out.factors.resize(d.users, d.factor_size);
  const int chunks = (d.users + kChunkUsers - 1) / kChunkUsers;
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.serial_nested = true;  // keep Eigen's products serial inside the team (see trainer.cpp)
  core::parallel_for(chunks, o, [&](std::int64_t chunk) {
    const int c = static_cast<int>(chunk);
    const int begin = c * kChunkUsers, end = std::min(d.users, begin + kChunkUsers);
    std::vector<int> cols(static_cast<std::size_t>(end - begin));
    for (int u = begin; u < end; ++u) cols[u - begin] = u;
    std::vector<Matrix<float>> inputs;
    for (int t = 0; t < d.periods; ++t) inputs.push_back(d.features[t](Eigen::all, cols));
    const Matrix<float> h = last_state(model.parameters, inputs);
    out.interests.middleRows(begin, end - begin) = interest_distribution(model.parameters, h).transpose();
    if (d.factor_size > 0)
      out.factors.middleRows(begin, end - begin) = predicted_factor(model.parameters, h).transpose();
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
