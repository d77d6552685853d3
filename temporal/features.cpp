#include "temporal/features.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>

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

SequenceData SequenceData::zeros(int users, int periods, int labels, int factor_size, const FeatureOptions& options) {
  if (users < 0 || periods < 0 || labels < 0 || factor_size < 0)
    throw InputError(fmt::format("sequence features: negative size (users {}, periods {}, labels {}, factors {})",
                                 users, periods, labels, factor_size));
  SequenceData d;
  d.options = options;
  d.users = users;
  d.periods = periods;
  d.labels = labels;
  d.factor_size = factor_size;
  d.values.assign(static_cast<std::size_t>(users) * static_cast<std::size_t>(periods) *
                      static_cast<std::size_t>(d.record_size()),
                  0.0f);
  return d;
}

ColumnsView SequenceData::view(int t, int count, int offset, int rows) const {
  if (t < 0 || t >= count)
    throw std::out_of_range(fmt::format("sequence data: period {} is outside 0..{}", t, count - 1));
  const auto record = static_cast<Eigen::Index>(record_size());
  // No users: no storage, and no offset may be applied to its null pointer.
  const float* first = values.empty() ? nullptr : values.data() + record * t + offset;
  return {first, rows, users, Eigen::OuterStride<>(record * periods)};
}

SequenceData assemble_sequences(const SequenceInputs& in, const FeatureOptions& options) {
  options.validate();
  validate_inputs(in);
  const int periods = static_cast<int>(in.interests.size());
  const int users = static_cast<int>(in.interests[0].rows());
  const int labels = static_cast<int>(in.interests[0].cols());
  const int f = in.factors.empty() ? 0 : static_cast<int>(in.factors[0].cols());
  SequenceData d = SequenceData::zeros(users, periods, labels, f, options);

  std::vector<int> last_active(static_cast<std::size_t>(users), -1);
  for (int t = 0; t < d.periods; ++t) {
    MutableColumnsView z = d.features(t);
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
    if (t + 1 >= d.periods) break;

    // Targets of step t: period t + 1. last_active now covers periods 0..t. The storage
    // is zero, so masked columns stay zero.
    MutableColumnsView target = d.interest_targets(t), mask = d.interest_mask(t);
    MutableColumnsView factor_target = d.factor_targets(t), factor_mask = d.factor_mask(t);
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
  }
  return d;
}

Matrix<float> gather_columns(const ColumnsView& m, std::span<const int> users) {
  // Columns are contiguous: one copy per user.
  const auto b = static_cast<Eigen::Index>(users.size());
  Matrix<float> out(m.rows(), b);
  for (Eigen::Index j = 0; j < b; ++j) out.col(j) = m.col(users[static_cast<std::size_t>(j)]);
  return out;
}

std::vector<Matrix<float>> gather_inputs(const SequenceData& d, std::span<const int> users, int steps) {
  const auto b = static_cast<Eigen::Index>(users.size());
  const int dim = d.input_size();
  const auto record = static_cast<std::size_t>(d.record_size());
  std::vector<Matrix<float>> inputs;
  inputs.reserve(static_cast<std::size_t>(steps));
  for (int t = 0; t < steps; ++t) inputs.emplace_back(dim, b);  // every entry written below
  for (Eigen::Index j = 0; j < b; ++j) {
    const float* r = d.record(users[static_cast<std::size_t>(j)]);
    for (std::size_t t = 0; t < inputs.size(); ++t, r += record) std::copy_n(r, dim, inputs[t].col(j).data());
  }
  return inputs;
}

Batch<float> gather_batch(const SequenceData& d, std::span<const int> users, int steps,
                          int first_target_step) {
  const auto b = static_cast<Eigen::Index>(users.size());
  const int dim = d.input_size(), labels = d.labels, f = d.factor_size;
  const auto n = static_cast<std::size_t>(steps);
  const auto record = static_cast<std::size_t>(d.record_size());
  const auto has_target = [&](std::size_t t) {
    return static_cast<int>(t) < d.steps() && static_cast<int>(t) >= first_target_step;
  };
  Batch<float> batch;
  batch.inputs.reserve(n);
  for (std::size_t t = 0; t < n; ++t) {
    batch.inputs.emplace_back(dim, b);  // every entry written below
    // Steps with a target are overwritten column by column below; the others stay zero.
    const bool target = has_target(t);
    batch.interest_targets.push_back(target ? Matrix<float>(labels, b) : Matrix<float>::Zero(labels, b));
    batch.interest_mask.push_back(target ? Matrix<float>(1, b) : Matrix<float>::Zero(1, b));
    if (f > 0) {
      batch.factor_targets.push_back(target ? Matrix<float>(f, b) : Matrix<float>::Zero(f, b));
      batch.factor_mask.push_back(target ? Matrix<float>(1, b) : Matrix<float>::Zero(1, b));
    }
  }
  // One sequential sweep over each user's records.
  for (Eigen::Index j = 0; j < b; ++j) {
    const float* r = d.record(users[static_cast<std::size_t>(j)]);
    for (std::size_t t = 0; t < n; ++t, r += record) {
      std::copy_n(r, dim, batch.inputs[t].col(j).data());
      if (!has_target(t)) continue;
      std::copy_n(r + dim, labels, batch.interest_targets[t].col(j).data());
      batch.interest_mask[t](0, j) = r[dim + labels];
      if (f > 0) {
        std::copy_n(r + dim + labels + 1, f, batch.factor_targets[t].col(j).data());
        batch.factor_mask[t](0, j) = r[dim + labels + 1 + f];
      }
    }
  }
  return batch;
}

}  // namespace driftrec::temporal
