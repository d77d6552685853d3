#include "temporal/label_ranking.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace driftrec::temporal {

bool had_label(const MixtureBatch& b, Eigen::Index j, Eigen::Index l) {
  if (b.gate_input(3, j) == 0.0) return false;
  const double floor = kExpertSmoothing / static_cast<double>(b.experts[kEwmaLong].rows());
  return b.experts[kEwmaLong](l, j) != floor;
}

std::array<Eigen::Index, 3> boosted_top3(std::span<const double> scores, std::span<const std::uint8_t> had,
                                         double boost) {
  std::array<Eigen::Index, 3> top{-1, -1, -1};
  std::array<double, 3> best{};
  for (std::size_t l = 0; l < scores.size(); ++l) {
    const double r = had[l] ? scores[l] : scores[l] * boost;
    // Strictly greater: an equal score keeps the lower index ahead.
    std::size_t slot = 3;
    while (slot > 0 && (top[slot - 1] < 0 || r > best[slot - 1])) --slot;
    if (slot == 3) continue;
    for (std::size_t s = 2; s > slot; --s) {
      top[s] = top[s - 1];
      best[s] = best[s - 1];
    }
    top[slot] = static_cast<Eigen::Index>(l);
    best[slot] = r;
  }
  return top;
}

std::vector<std::int32_t> ranked_labels(std::span<const float> p, std::span<const std::uint8_t> had, float boost,
                                        std::size_t k) {
  std::vector<float> rank(p.size());
  for (std::size_t l = 0; l < p.size(); ++l) rank[l] = had[l] ? p[l] : p[l] * boost;
  std::vector<std::int32_t> order(p.size());
  for (std::size_t l = 0; l < p.size(); ++l) order[l] = static_cast<std::int32_t>(l);
  const auto keep = static_cast<std::ptrdiff_t>(std::min(k, order.size()));
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](std::int32_t a, std::int32_t b) {
    const float x = rank[static_cast<std::size_t>(a)], y = rank[static_cast<std::size_t>(b)];
    return x > y || (x == y && a < b);
  });
  order.resize(static_cast<std::size_t>(keep));
  return order;
}

namespace {

// Hits of `top` among the labels with target > 0, and among those the user never had.
struct Hits {
  int all = 0, fresh = 0;
};
Hits hits_of(const std::array<Eigen::Index, 3>& top, const Eigen::Ref<const Eigen::VectorXd>& target,
             std::span<const std::uint8_t> had) {
  Hits h;
  for (Eigen::Index l : top)
    if (l >= 0 && target(l) > 0) {
      ++h.all;
      if (!had[static_cast<std::size_t>(l)]) ++h.fresh;
    }
  return h;
}

}  // namespace

BoostChoice choose_new_label_boost(const Matrix<double>& predicted, const MixtureBatch& v,
                                   std::span<const double> boosts) {
  if (boosts.empty() || boosts.front() != 1.0 || !std::is_sorted(boosts.begin(), boosts.end()))
    throw std::invalid_argument("choose_new_label_boost: boosts must be ascending and start at 1");
  const Eigen::Index labels = predicted.rows();
  const std::size_t nb = boosts.size();
  std::vector<double> recall(nb, 0), fresh(nb, 0);
  double population_fresh = 0, ewma_recall[2] = {0, 0};
  std::vector<std::uint8_t> had(static_cast<std::size_t>(labels));
  std::vector<double> column(static_cast<std::size_t>(labels));
  BoostChoice c;
  for (Eigen::Index j = 0; j < v.size(); ++j) {
    const auto target = v.target.col(j);
    if (!(target.sum() > 0)) continue;
    int relevant = 0, novel = 0;
    for (Eigen::Index l = 0; l < labels; ++l) {
      had[static_cast<std::size_t>(l)] = had_label(v, j, l) ? 1 : 0;
      if (target(l) > 0) {
        ++relevant;
        if (!had[static_cast<std::size_t>(l)]) ++novel;
      }
    }
    ++c.pairs;
    if (novel > 0) ++c.new_label_pairs;
    const double denominator = std::min(relevant, 3);
    auto score = [&](const Eigen::Ref<const Eigen::VectorXd>& p, double boost, double& r, double* f) {
      for (Eigen::Index l = 0; l < labels; ++l) column[static_cast<std::size_t>(l)] = p(l);
      const Hits h = hits_of(boosted_top3(column, had, boost), target, had);
      r += h.all / denominator;
      if (f && novel > 0) *f += h.fresh / static_cast<double>(novel);
    };
    for (std::size_t k = 0; k < nb; ++k) score(predicted.col(j), boosts[k], recall[k], &fresh[k]);
    double unused = 0;
    score(v.experts[kPopulation].col(j), 1.0, unused, &population_fresh);
    score(v.experts[kEwmaShort].col(j), 1.0, ewma_recall[0], nullptr);
    score(v.experts[kEwmaLong].col(j), 1.0, ewma_recall[1], nullptr);
  }
  if (c.pairs == 0) return c;
  const auto pairs = static_cast<double>(c.pairs);
  const double new_pairs = static_cast<double>(std::max<long long>(c.new_label_pairs, 1));
  c.population_new_label_recall3 = population_fresh / new_pairs;
  c.ewma_recall3 = std::max(ewma_recall[0], ewma_recall[1]) / pairs;
  // Means within kRecallTolerance are equal: an exact comparison let the order of the
  // additions decide between equal recalls.
  std::size_t chosen = nb;
  if (c.new_label_pairs > 0) {
    for (std::size_t k = 0; k < nb; ++k) {
      if (recall[k] / pairs < c.ewma_recall3 - kRecallTolerance) continue;  // not admissible
      if (fresh[k] / new_pairs >= c.population_new_label_recall3 - kRecallTolerance) {
        chosen = k;
        break;
      }
      if (chosen == nb || fresh[k] / new_pairs > fresh[chosen] / new_pairs + kRecallTolerance) chosen = k;
    }
  }
  if (chosen == nb) chosen = 0;  // nothing admissible, or no new label to rank: p's own order
  c.boost = boosts[chosen];
  c.recall3 = recall[chosen] / pairs;
  c.new_label_recall3 = fresh[chosen] / new_pairs;
  return c;
}

}  // namespace driftrec::temporal
