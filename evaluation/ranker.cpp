#include "evaluation/ranker.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Dense>

#include "core/error.hpp"
#include "core/parallel.hpp"

namespace driftrec::evaluation {

using graph::Index;

const std::array<const char*, kRankerSources> kRankerSourceNames = {"temporal_als", "als",      "rp3beta",
                                                                    "item_knn",     "recent_popularity", "label_match"};

namespace {

// Score descending, ties toward the lower item index.
auto by_score(std::span<const float> v) {
  return [v](Index a, Index b) {
    const float x = v[static_cast<std::size_t>(a)], y = v[static_cast<std::size_t>(b)];
    return x != y ? x > y : a < b;
  };
}

// Appends the `take` best of `eligible` (ascending) by by_score(v) to `out`, in no order.
// One pass keeps the best so far in a heap topped by the worst kept: a later item enters
// only with a score above that worst one's (on equal scores the kept, lower index wins), so
// most items cost one float comparison, and the eligible list is neither copied nor reordered.
void append_top(std::span<const float> v, std::span<const Index> eligible, std::size_t take, std::vector<Index>& out) {
  const auto first = static_cast<std::ptrdiff_t>(out.size());
  out.insert(out.end(), eligible.begin(), eligible.begin() + static_cast<std::ptrdiff_t>(take));
  const auto heap = out.begin() + first;
  const auto better = by_score(v);
  std::make_heap(heap, out.end(), better);
  float worst = v[static_cast<std::size_t>(*heap)];
  for (std::size_t j = take; j < eligible.size(); ++j) {
    const Index i = eligible[j];
    if (!(v[static_cast<std::size_t>(i)] > worst)) continue;
    std::pop_heap(heap, out.end(), better);
    out.back() = i;
    std::push_heap(heap, out.end(), better);
    worst = v[static_cast<std::size_t>(*heap)];
  }
}

}  // namespace

CandidateSet make_candidates(const std::array<std::span<const float>, kRankerSources>& scores,
                             std::span<const Index> eligible,
                             const std::array<std::span<const float>, kRankerItemFeatures>& item_features,
                             double activity, int per_source) {
  DRIFTREC_ASSERT(per_source >= 1);
  CandidateSet c;
  const auto take = std::min(eligible.size(), static_cast<std::size_t>(per_source));
  c.items.reserve(kRankerSources * take);
  if (take > 0)
    for (int s = 0; s < kRankerSources; ++s) append_top(scores[s], eligible, take, c.items);
  std::sort(c.items.begin(), c.items.end());
  c.items.erase(std::unique(c.items.begin(), c.items.end()), c.items.end());

  const auto n = static_cast<Eigen::Index>(c.items.size());
  c.features.setZero(n, kRankerFeatures);
  std::vector<Index> order(c.items);
  for (int s = 0; s < kRankerSources; ++s) {
    const std::span<const float> v = scores[s];
    double lo = 0, hi = 0;
    for (Eigen::Index j = 0; j < n; ++j) {
      const double x = v[static_cast<std::size_t>(c.items[static_cast<std::size_t>(j)])];
      lo = j == 0 ? x : std::min(lo, x);
      hi = j == 0 ? x : std::max(hi, x);
    }
    for (Eigen::Index j = 0; j < n; ++j) {
      const double x = v[static_cast<std::size_t>(c.items[static_cast<std::size_t>(j)])];
      c.features(j, 2 * s) = hi > lo ? (x - lo) / (hi - lo) : 0.0;
    }
    std::sort(order.begin(), order.end(), by_score(v));
    for (std::size_t r = 0; r < order.size(); ++r) {
      const auto j = std::lower_bound(c.items.begin(), c.items.end(), order[r]) - c.items.begin();
      const double rank = 1.0 / std::log2(2.0 + static_cast<double>(r));
      c.features(j, rank_feature(s)) = rank;
      c.features(j, activity_feature(s)) = activity * rank;
    }
  }
  for (Eigen::Index j = 0; j < n; ++j) {
    const auto i = static_cast<std::size_t>(c.items[static_cast<std::size_t>(j)]);
    for (int f = 0; f < kRankerItemFeatures; ++f) c.features(j, kFirstItemFeature + f) = item_features[f][i];
  }
  return c;
}

namespace {

std::vector<const RankingExample*> pointers(const std::vector<RankingExample>& examples) {
  std::vector<const RankingExample*> out;
  out.reserve(examples.size());
  for (const RankingExample& ex : examples) out.push_back(&ex);
  return out;
}

}  // namespace

double listwise_loss(const std::vector<RankingExample>& examples, const Eigen::VectorXd& w, double l2,
                     Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, int threads) {
  return listwise_loss(pointers(examples), w, l2, gradient, hessian, threads);
}

ListwiseFit fit_listwise(const std::vector<RankingExample>& examples, double l2, int max_iterations, int threads) {
  return fit_listwise(pointers(examples), l2, max_iterations, threads);
}

double listwise_loss(std::span<const RankingExample* const> examples, const Eigen::VectorXd& w, double l2,
                     Eigen::VectorXd* gradient, Eigen::MatrixXd* hessian, int threads) {
  const Eigen::Index d = w.size();
  constexpr std::int64_t kBlocks = 64;
  struct Part {
    double loss = 0;
    Eigen::VectorXd g;
    Eigen::MatrixXd h;
  };
  std::vector<Part> parts(kBlocks);
  const auto n = static_cast<std::int64_t>(examples.size());
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.serial_nested = true;
  core::parallel_for(kBlocks, o, [&](std::int64_t b) {
    Part& part = parts[static_cast<std::size_t>(b)];
    part.g.setZero(d);
    part.h.setZero(d, d);
    for (std::int64_t e = b * n / kBlocks; e < (b + 1) * n / kBlocks; ++e) {
      const RankingExample& ex = *examples[static_cast<std::size_t>(e)];
      const Eigen::MatrixXd& x = ex.candidates.features;
      const Eigen::VectorXd s = x * w;
      const double m = s.maxCoeff();
      const Eigen::VectorXd p_raw = (s.array() - m).exp().matrix();
      const double z = p_raw.sum();
      const Eigen::VectorXd p = p_raw / z;
      const double log_z = m + std::log(z);
      double positives = 0;
      for (auto y : ex.positive) positives += y;
      DRIFTREC_ASSERT(positives > 0);
      // -(1/|P|) sum_p (s_p - log Z)
      double l = 0;
      Eigen::VectorXd y = Eigen::VectorXd::Zero(x.rows());
      for (Eigen::Index j = 0; j < x.rows(); ++j)
        if (ex.positive[static_cast<std::size_t>(j)]) {
          l -= (s(j) - log_z) / positives;
          y(j) = 1.0 / positives;
        }
      part.loss += l;
      if (gradient) part.g.noalias() += x.transpose() * (p - y);  // sum_j (p_j - y_j) x_j
      if (hessian) {
        // sum_j p_j x_j x_j^T - (X^T p)(X^T p)^T
        const Eigen::VectorXd mean = x.transpose() * p;
        part.h.noalias() += x.transpose() * p.asDiagonal() * x;
        part.h.noalias() -= mean * mean.transpose();
      }
    }
  });
  const double scale = examples.empty() ? 0.0 : 1.0 / static_cast<double>(examples.size());
  double loss = 0;
  Eigen::VectorXd g = Eigen::VectorXd::Zero(d);
  Eigen::MatrixXd h = Eigen::MatrixXd::Zero(d, d);
  for (const Part& part : parts) {
    loss += part.loss;
    if (gradient) g += part.g;
    if (hessian) h += part.h;
  }
  loss = loss * scale + 0.5 * l2 * w.squaredNorm();
  if (gradient) *gradient = g * scale + l2 * w;
  if (hessian) *hessian = h * scale + l2 * Eigen::MatrixXd::Identity(d, d);
  return loss;
}

ListwiseFit fit_listwise(std::span<const RankingExample* const> examples, double l2, int max_iterations,
                         int threads) {
  DRIFTREC_THROW_IF_NOT(l2 > 0, "ranker: the l2 regularisation must be positive");
  ListwiseFit f;
  f.weights = Eigen::VectorXd::Zero(kRankerFeatures);
  Eigen::VectorXd g;
  Eigen::MatrixXd h;
  f.loss = listwise_loss(examples, f.weights, l2, &g, &h, threads);
  for (; f.iterations < max_iterations && g.norm() >= 1e-7; ++f.iterations) {
    const Eigen::VectorXd step = h.ldlt().solve(-g);
    const double slope = g.dot(step);
    double t = 1.0, next = 0;
    // Armijo backtracking: the Newton step of a convex function is a descent direction.
    while (true) {
      next = listwise_loss(examples, f.weights + t * step, l2, nullptr, nullptr, threads);
      if (next <= f.loss + 1e-4 * t * slope || t < 1e-10) break;
      t *= 0.5;
    }
    if (!(next < f.loss)) break;  // no progress left at double precision
    f.weights += t * step;
    f.loss = listwise_loss(examples, f.weights, l2, &g, &h, threads);
  }
  f.gradient_norm = g.norm();
  return f;
}

}  // namespace driftrec::evaluation
