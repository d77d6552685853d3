// The learned item ranker's arithmetic (the `ranker` row of `driftrec evaluate` is built
// on it in ranker_model.hpp): candidate generation from several scoring sources, the
// features of each candidate, and a linear scoring function s = w . x fitted with a
// listwise softmax loss (ListNet with one-hot-per-positive targets; Cao et al. 2007):
//
//   L(w) = (1 / N) sum_u [ -(1 / |P_u|) sum_{p in P_u} log softmax_{C_u}(X_u w)_p ]
//          + (l2 / 2) |w|^2
//
// over the users u with at least one positive (an item new to u in a training period)
// among their candidates C_u. L is convex (a sum of log-sum-exp's of linear functions plus
// a ridge), so Newton's method with a backtracking line search finds its minimum from
// w = 0 in a few steps, deterministically; the 14 x 14 Hessian costs nothing.
//
// Candidates of one user: the union, over the sources, of each source's top `per_source`
// eligible items (score descending, ties toward the lower item index), ascending by item.
// Features of candidate i, in this order:
//   per source s (kRankerSources of them):
//     score_s  min-max normalised over the candidates: (v - min) / (max - min), 0 if max = min;
//     rank_s   1 / log2(2 + r), r the 0-based rank of i among the candidates by source s
//              (score descending, ties toward the lower item index);
//   the kRankerItemFeatures per-item features handed in by the caller (ranker_model.hpp
//   defines them: age, popularity trend, recent and overall popularity on one scale for
//   every user);
//   per source s: activity * rank_s, `activity` a per-user value in [0, 1] handed in by the
//   caller (how much history the user has), so the weight of each source may grow or shrink
//   with it (a light user is ranked more by popularity, a heavy one more by their own items).
// Ranking by rank_s alone reproduces source s's own order of the eligible items down to
// rank per_source: the ranker can represent each of its sources, and ranker_model.hpp's
// grid holds each source alone beside the learned weights.
// Features computed within the candidate set need no scoring of the whole catalogue
// beyond the sources' own.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "graph/types.hpp"

namespace driftrec::evaluation {

inline constexpr int kRankerSources = 6;
inline constexpr int kRankerItemFeatures = 4;
inline constexpr int kRankerFeatures = 3 * kRankerSources + kRankerItemFeatures;
// Column of rank_s, of the first per-item feature and of activity * rank_s.
constexpr int rank_feature(int source) { return 2 * source + 1; }
inline constexpr int kFirstItemFeature = 2 * kRankerSources;
constexpr int activity_feature(int source) { return kFirstItemFeature + kRankerItemFeatures + source; }
// In feature order: temporal ALS, ALS, RP3beta, item-KNN, recent popularity, label match.
extern const std::array<const char*, kRankerSources> kRankerSourceNames;
inline constexpr int kRecentPopularitySource = 4;

// One user's candidates, ascending by item, and their features (candidates x features).
struct CandidateSet {
  std::vector<graph::Index> items;
  Eigen::MatrixXd features;
};

// `scores[s]` is source s's score of every item (n_items each); `eligible` the items the
// user may be recommended, ascending; `item_features[f]` one value per item; `activity`
// the user's value in [0, 1].
CandidateSet make_candidates(const std::array<std::span<const float>, kRankerSources>& scores,
                             std::span<const graph::Index> eligible,
                             const std::array<std::span<const float>, kRankerItemFeatures>& item_features,
                             double activity, int per_source);

// One training user: its candidates and which of them are positives (at least one).
struct RankingExample {
  CandidateSet candidates;
  std::vector<std::uint8_t> positive;  // one per candidate
};

// L(w) above; adds its gradient and Hessian when asked. Users are summed in fixed blocks in
// block order, so the value does not depend on `threads` (0: OpenMP's default).
double listwise_loss(const std::vector<RankingExample>& examples, const Eigen::VectorXd& w, double l2,
                     Eigen::VectorXd* gradient = nullptr, Eigen::MatrixXd* hessian = nullptr,
                     int threads = 0);
// The same over examples held elsewhere (the ranker keeps each training period's examples
// once for the fits of the two periods after it), in the order given.
double listwise_loss(std::span<const RankingExample* const> examples, const Eigen::VectorXd& w, double l2,
                     Eigen::VectorXd* gradient = nullptr, Eigen::MatrixXd* hessian = nullptr,
                     int threads = 0);

struct ListwiseFit {
  Eigen::VectorXd weights;
  double loss = 0;
  int iterations = 0;
  double gradient_norm = 0;  // |grad L| at the returned weights
};

// Newton's method from w = 0 (stops when |grad| < 1e-7 or after max_iterations). l2 > 0
// makes the minimum unique. No example: w = 0.
ListwiseFit fit_listwise(const std::vector<RankingExample>& examples, double l2, int max_iterations = 50,
                         int threads = 0);
ListwiseFit fit_listwise(std::span<const RankingExample* const> examples, double l2, int max_iterations = 50,
                         int threads = 0);

}  // namespace driftrec::evaluation
