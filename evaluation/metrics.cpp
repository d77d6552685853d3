#include "evaluation/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace driftrec::evaluation {
namespace {

using graph::Index;

// Best first: higher score, then lower index; NaN after every number.
template <typename T>
struct Better {
  std::span<const T> s;
  bool operator()(Index a, Index b) const {
    const T x = s[static_cast<std::size_t>(a)], y = s[static_cast<std::size_t>(b)];
    const bool xn = std::isnan(x), yn = std::isnan(y);
    if (xn != yn) return yn;
    if (!xn && x != y) return x > y;
    return a < b;
  }
};

template <typename T>
std::vector<Index> top_of(std::span<const T> scores, std::vector<Index> ids, int k) {
  const std::size_t n = std::min(ids.size(), static_cast<std::size_t>(std::max(k, 0)));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n), ids.end(),
                    Better<T>{scores});
  ids.resize(n);
  return ids;
}

double discount(int rank) { return 1.0 / std::log2(static_cast<double>(rank) + 2.0); }

}  // namespace

std::vector<double> floored_distribution(std::span<const float> scores) {
  std::vector<double> p(scores.size());
  double sum = 0;
  for (std::size_t l = 0; l < scores.size(); ++l) {
    const double v = scores[l];
    p[l] = v > 0 ? v : 0.0;  // NaN fails the test and becomes 0
    sum += p[l];
  }
  if (p.empty()) return p;
  if (!(sum > 0) || !std::isfinite(sum)) {
    std::fill(p.begin(), p.end(), 1.0 / static_cast<double>(p.size()));
    sum = 1;
  }
  double floored = 0;
  for (double& v : p) {
    v = std::max(v / sum, kProbabilityFloor);
    floored += v;
  }
  for (double& v : p) v /= floored;
  return p;
}

std::vector<Index> top_k(std::span<const double> scores, int k) {
  std::vector<Index> ids(scores.size());
  std::iota(ids.begin(), ids.end(), Index{0});
  return top_of(scores, std::move(ids), k);
}

std::vector<Index> top_k_of(std::span<const float> scores, std::span<const Index> eligible, int k) {
  return top_of(scores, std::vector<Index>(eligible.begin(), eligible.end()), k);
}

double cross_entropy(std::span<const double> truth, std::span<const double> p) {
  double h = 0;
  for (std::size_t l = 0; l < truth.size(); ++l)
    if (truth[l] > 0) h -= truth[l] * std::log(p[l]);
  return h;
}

double kl_divergence(std::span<const double> truth, std::span<const double> p) {
  double d = 0;
  for (std::size_t l = 0; l < truth.size(); ++l)
    if (truth[l] > 0) d += truth[l] * std::log(truth[l] / p[l]);
  return d;
}

int hits_at(std::span<const Index> ranked, std::span<const Index> relevant, int k) {
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(std::max(k, 0)));
  int hits = 0;
  for (std::size_t r = 0; r < n; ++r)
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r])) ++hits;
  return hits;
}

double recall_at(std::span<const Index> ranked, std::span<const Index> relevant, int k) {
  const std::size_t denom = std::min(relevant.size(), static_cast<std::size_t>(k));
  return denom == 0 ? 0.0 : hits_at(ranked, relevant, k) / static_cast<double>(denom);
}

double ndcg_at(std::span<const Index> ranked, std::span<const Index> relevant, int k) {
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(std::max(k, 0)));
  double dcg = 0;
  for (std::size_t r = 0; r < n; ++r)
    if (std::binary_search(relevant.begin(), relevant.end(), ranked[r]))
      dcg += discount(static_cast<int>(r));
  const int ideal_n = static_cast<int>(std::min(relevant.size(), static_cast<std::size_t>(std::max(k, 0))));
  double ideal = 0;
  for (int r = 0; r < ideal_n; ++r) ideal += discount(r);
  return ideal > 0 ? dcg / ideal : 0.0;
}

double hit_rate_at(std::span<const Index> ranked, std::span<const Index> relevant, int k) {
  return hits_at(ranked, relevant, k) > 0 ? 1.0 : 0.0;
}

std::vector<Index> support(std::span<const double> t) {
  std::vector<Index> s;
  for (std::size_t l = 0; l < t.size(); ++l)
    if (t[l] > 0) s.push_back(static_cast<Index>(l));
  return s;
}

InterestScores interest_scores(std::span<const double> truth, std::span<const double> p,
                               std::span<const Index> new_labels, std::span<const double> ranking) {
  InterestScores s;
  const std::vector<Index> relevant = support(truth);
  const std::vector<Index> top = top_k(ranking.empty() ? p : ranking, 3);
  s.cross_entropy = cross_entropy(truth, p);
  s.kl = kl_divergence(truth, p);
  s.recall3 = recall_at(top, relevant, 3);
  s.ndcg3 = ndcg_at(top, relevant, 3);
  s.has_new_label_recall = !new_labels.empty();
  if (s.has_new_label_recall)
    s.new_label_recall3 = hits_at(top, new_labels, 3) / static_cast<double>(new_labels.size());
  return s;
}

}  // namespace driftrec::evaluation
