// The metrics of the evaluation protocol (docs/evaluation.md, "Exact definitions"), as pure
// functions on vectors so that any two implementations agree to the last digit.
//
// Interest task: a prediction p over labels is floored at kProbabilityFloor and
// renormalised (so log p is finite), then compared with the truth distribution t:
//   cross_entropy = -sum_l t_l log p_l
//   kl            =  sum_{t_l > 0} t_l log(t_l / p_l)
//   recall@k      = |top_k(p) ∩ supp(t)| / min(k, |supp(t)|)
//   ndcg@k        = DCG of top_k(p) with binary relevance supp(t), over the ideal DCG of
//                   min(k, |supp(t)|) relevant labels at the top (Jarvelin & Kekalainen 2002)
//   new_label_recall@k = |top_k(p) ∩ new| / |new|, new = labels of supp(t) the user never had.
// Item task: a full ranking (Krichene & Rendle 2020, "On sampled metrics for item
// recommendation": no sampled negatives) of the eligible items, then
//   recall@K = hits / min(K, |truth|), ndcg@K (ideal over min(K, |truth|)), hr@K = [hits > 0].
// Every top-k breaks ties toward the lower index; NaN scores rank last.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/top_k.hpp"
#include "graph/types.hpp"

namespace driftrec::evaluation {

inline constexpr double kProbabilityFloor = 1e-6;

// The prediction p the interest metrics use: negative or NaN scores count as 0, the scores
// are divided by their sum (an all-zero vector becomes uniform), then every entry is
// floored at kProbabilityFloor and the vector renormalised to sum 1. In double.
std::vector<double> floored_distribution(std::span<const float> scores);

// The indices of the min(k, size) highest scores, best first; ties toward the lower
// index; NaN below everything.
std::vector<graph::Index> top_k(std::span<const double> scores, int k);

// The same over a subset: `eligible` lists the indices that may be ranked (ascending).
std::vector<graph::Index> top_k_of(std::span<const float> scores,
                                   std::span<const graph::Index> eligible, int k);

// The same over the candidates a user has not had, without listing them (graph/top_k.hpp).
using graph::top_k_unseen;

// -sum t log p over t > 0 (p must be positive where t is).
double cross_entropy(std::span<const double> truth, std::span<const double> p);
// sum over t > 0 of t log(t / p).
double kl_divergence(std::span<const double> truth, std::span<const double> p);

// `ranked`: a ranking, best first (only its first k entries count); `relevant`: ascending
// distinct indices, non-empty. hits = |ranked[0..k) ∩ relevant|.
int hits_at(std::span<const graph::Index> ranked, std::span<const graph::Index> relevant, int k);
double recall_at(std::span<const graph::Index> ranked, std::span<const graph::Index> relevant, int k);
double ndcg_at(std::span<const graph::Index> ranked, std::span<const graph::Index> relevant, int k);
double hit_rate_at(std::span<const graph::Index> ranked, std::span<const graph::Index> relevant, int k);

// The interest metrics of one (user, period). `p` is floored_distribution's output;
// `new_labels` ascending (may be empty: then has_new_label_recall is false).
struct InterestScores {
  double cross_entropy = 0;
  double kl = 0;
  double recall3 = 0;
  double ndcg3 = 0;
  double new_label_recall3 = 0;
  bool has_new_label_recall = false;
};
// `ranking`, when not empty, orders the labels for recall@3, ndcg@3 and new-label recall@3
// (FittedModel::label_ranking); p's order otherwise.
InterestScores interest_scores(std::span<const double> truth, std::span<const double> p,
                               std::span<const graph::Index> new_labels, std::span<const double> ranking = {});

// The support of a distribution: indices with t > 0, ascending.
std::vector<graph::Index> support(std::span<const double> t);

}  // namespace driftrec::evaluation
