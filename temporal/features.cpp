#include "temporal/features.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstddef>

#include "graph/types.hpp"

namespace driftrec::temporal {
namespace {


void check_matrix(const RowMatrix& m, Eigen::Index rows, Eigen::Index cols, const char* what,
                  std::size_t t, bool non_negative) {
  if (m.rows() != rows || m.cols() != cols)
    throw InputError(fmt::format("sequence features: {}[{}] is {} x {}, expected {} x {}", what, t,
                                 m.rows(), m.cols(), rows, cols));
  for (Eigen::Index r = 0; r < m.rows(); ++r)
    for (Eigen::Index c = 0; c < m.cols(); ++c) {
      const float v = m(r, c);
      if (!std::isfinite(v) || (non_negative && v < 0))
        throw InputError(fmt::format(
            "sequence features: {}[{}] has {} at row {}, column {} (expected a finite{} value)",
            what, t, v, r, c, non_negative ? ", non-negative" : ""));
    }
}

void validate_inputs(const SequenceInputs& in) {
  const std::size_t periods = in.interests.size();
  if (periods == 0) throw InputError("sequence features: `interests` has no periods");
  const Eigen::Index users = in.interests[0].rows(), labels = in.interests[0].cols();
  if (labels == 0) throw InputError("sequence features: `interests` has no labels");
  const bool truth = !in.interest_truth.empty();
  if (in.activity.size() != periods || (truth && in.interest_truth.size() != periods) ||
      (!in.factors.empty() && in.factors.size() != periods))
    throw InputError(fmt::format(
        "sequence features: periods disagree: interests {}, activity {}, interest_truth {}, "
        "factors {} (expected the same count; factors and interest_truth may be empty)",
        periods, in.activity.size(), in.interest_truth.size(), in.factors.size()));
  const Eigen::Index f = in.factors.empty() ? 0 : in.factors[0].cols();
  for (std::size_t t = 0; t < periods; ++t) {
    check_matrix(in.interests[t], users, labels, "interests", t, false);
    if (truth) check_matrix(in.interest_truth[t], users, labels, "interest_truth", t, true);
    if (f > 0) check_matrix(in.factors[t], users, f, "factors", t, false);
    if (in.activity[t].size() != static_cast<std::size_t>(users))
      throw InputError(fmt::format("sequence features: activity[{}] has {} users, expected {}", t,
                                   in.activity[t].size(), users));
    for (std::size_t u = 0; u < in.activity[t].size(); ++u)
      if (!std::isfinite(in.activity[t][u]) || in.activity[t][u] < 0)
        throw InputError(fmt::format(
            "sequence features: activity[{}] of user {} is {} (expected finite and >= 0)", t, u,
            in.activity[t][u]));
  }
}

}  // namespace

void FeatureOptions::validate() const {
  if (gap_cap < 1)
    throw InputError(fmt::format("sequence features: `gap_cap` must be >= 1 (got {})", gap_cap));
}

float gap_feature(int gap) { return static_cast<float>(std::log1p(static_cast<double>(gap))); }

float activity_feature(float activity) {
  return static_cast<float>(std::log1p(static_cast<double>(activity)));
}

SequenceData assemble_sequences(const SequenceInputs& in, const FeatureOptions& options) {
  options.validate();
  validate_inputs(in);
  SequenceData d;
  d.options = options;
  d.periods = static_cast<int>(in.interests.size());
  d.users = static_cast<int>(in.interests[0].rows());
  d.labels = static_cast<int>(in.interests[0].cols());
  d.factor_size = in.factors.empty() ? 0 : static_cast<int>(in.factors[0].cols());
  const int users = d.users, labels = d.labels, f = d.factor_size;

  std::vector<int> last_active(static_cast<std::size_t>(users), -1);
  for (int t = 0; t < d.periods; ++t) {
    Matrix<float> z(d.input_size(), users);
    for (int u = 0; u < users; ++u) {
      z.col(u).head(labels) = in.interests[t].row(u).transpose();
      if (f > 0) z.col(u).segment(labels, f) = in.factors[t].row(u).transpose();
      const float a = in.activity[t][u];
      const int s = last_active[u];
      const int gap = s < 0 ? options.gap_cap : std::min(options.gap_cap, t - s - 1);
      z(labels + f, u) = activity_feature(a);
      z(labels + f + 1, u) = gap_feature(gap);
      if (a > 0) last_active[u] = t;
    }
    d.features.push_back(std::move(z));
    if (t + 1 >= d.periods) break;

    // Targets of step t: period t + 1. last_active now covers periods 0..t.
    Matrix<float> target = Matrix<float>::Zero(labels, users);
    Matrix<float> mask = Matrix<float>::Zero(1, users);
    Matrix<float> factor_target = Matrix<float>::Zero(f, users);
    Matrix<float> factor_mask = Matrix<float>::Zero(1, users);
    for (int u = 0; u < users; ++u) {
      if (last_active[u] < 0) continue;
      const double mass =
          in.interest_truth.empty() ? 0.0 : in.interest_truth[t + 1].row(u).cast<double>().sum();
      if (mass > 0) {
        target.col(u) =
            (in.interest_truth[t + 1].row(u).cast<double>() / mass).transpose().cast<float>();
        mask(0, u) = 1;
      }
      if (f > 0 && in.activity[t + 1][u] > 0) {
        factor_target.col(u) = in.factors[t + 1].row(u).transpose();
        factor_mask(0, u) = 1;
      }
    }
    d.interest_targets.push_back(std::move(target));
    d.interest_mask.push_back(std::move(mask));
    if (f > 0) {
      d.factor_targets.push_back(std::move(factor_target));
      d.factor_mask.push_back(std::move(factor_mask));
    }
  }
  return d;
}

Matrix<float> gather_columns(const Matrix<float>& m, std::span<const int> users) {
  // Columns are contiguous (column-major): one copy per user. Eigen's indexed view copied
  // element by element and cost about a tenth of a training epoch.
  const auto b = static_cast<Eigen::Index>(users.size());
  Matrix<float> out(m.rows(), b);
  for (Eigen::Index j = 0; j < b; ++j) out.col(j) = m.col(users[static_cast<std::size_t>(j)]);
  return out;
}

Batch<float> gather_batch(const SequenceData& d, std::span<const int> users, int steps,
                          int first_target_step) {
  const auto b = static_cast<Eigen::Index>(users.size());
  auto gather = [&](const Matrix<float>& m) { return gather_columns(m, users); };
  Batch<float> batch;
  const auto n = static_cast<std::size_t>(steps);
  batch.inputs.reserve(n);
  batch.interest_targets.reserve(n);
  batch.interest_mask.reserve(n);
  if (d.factor_size > 0) {
    batch.factor_targets.reserve(n);
    batch.factor_mask.reserve(n);
  }
  for (int t = 0; t < steps; ++t) {
    batch.inputs.push_back(gather(d.features[t]));
    const bool has_target = t < d.steps() && t >= first_target_step;
    batch.interest_targets.push_back(has_target ? gather(d.interest_targets[t])
                                                : Matrix<float>::Zero(d.labels, b));
    batch.interest_mask.push_back(has_target ? gather(d.interest_mask[t]) : Matrix<float>::Zero(1, b));
    if (d.factor_size > 0) {
      batch.factor_targets.push_back(has_target ? gather(d.factor_targets[t])
                                                : Matrix<float>::Zero(d.factor_size, b));
      batch.factor_mask.push_back(has_target ? gather(d.factor_mask[t]) : Matrix<float>::Zero(1, b));
    }
  }
  return batch;
}

}  // namespace driftrec::temporal
