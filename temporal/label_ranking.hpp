// The mixture's label ranking (docs/math.md, "Label ranking"). The mixture's p says how a
// user's next period divides among the labels and is judged by cross-entropy; its top labels
// say which labels the user will meet, and there the labels a user never had are the hard
// part: p is calibrated on average, but cannot tell the users who will explore next period
// from those who will repeat (bench/quality/results/2026-11-30-newlabel-diagnosis.md), so its
// top 3 favours labels a user already has. The ranking multiplies the never-had labels by a
// boost c >= 1 and leaves p itself, and its cross-entropy, unchanged:
//
//   rank_l = p_l * (had_l ? 1 : c)
//
// c is chosen on the mixture's own validation step (the last training period) from
// kNewLabelBoosts: the smallest c whose new-label recall@3 reaches the population expert's
// (the trend every user follows; recent_popularity's ranking), among the c whose recall@3
// stays at or above the better EWMA expert's (the user's own history). When no admissible c
// reaches the population, the admissible one with the highest new-label recall@3; when no c
// is admissible, 1 (p's own order).
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "temporal/mixture.hpp"

namespace driftrec::temporal {

inline constexpr std::array<double, 8> kNewLabelBoosts = {1, 1.1, 1.25, 1.5, 1.75, 2, 2.5, 3};
// Mean recalls closer than this compare equal in the rule: they are sums of fractions
// (hits / min(3, relevant), hits / new labels) added in different orders, so mathematically
// equal means can differ in their last bits.
inline constexpr double kRecallTolerance = 1e-9;

// Whether the user of column j had label l before the step (a label of any item in their
// history): the batch's ewma_long expert is the user's normalised EWMA smoothed as
// (1 - e) q + e / L, so it is exactly e / L where q is 0; a user without a labelled period
// (gate input 3 is 0) had none.
bool had_label(const MixtureBatch& b, Eigen::Index j, Eigen::Index l);

// The indices of the 3 highest of rank_l = scores_l * (had_l ? 1 : boost), best first, ties
// toward the lower index (evaluation's top_k order).
std::array<Eigen::Index, 3> boosted_top3(std::span<const double> scores, std::span<const std::uint8_t> had,
                                         double boost);

// The order `predict`, `serve` and `export` show a user's labels in: p_l, times `boost`
// where had_l is 0 (in float, as the mixture's label_ranking scores them), descending, ties
// toward the lower label; the first min(k, L). boost 1 gives p's own order.
std::vector<std::int32_t> ranked_labels(std::span<const float> p, std::span<const std::uint8_t> had, float boost,
                                        std::size_t k);

struct BoostChoice {
  double boost = 1;
  double recall3 = 0, new_label_recall3 = 0;  // the chosen ranking's, on validation
  double population_new_label_recall3 = 0;    // the population expert's
  double ewma_recall3 = 0;                    // the better EWMA expert's
  long long pairs = 0, new_label_pairs = 0;   // validation pairs with a target, and with a new label
};

// The rule above on the validation batch; `predicted` (L x N) is what the mixture predicts
// for its columns (mixture_distribution); `boosts` ascending, the first 1. With no pair with
// a new label, boost 1.
BoostChoice choose_new_label_boost(const Matrix<double>& predicted, const MixtureBatch& validation,
                                   std::span<const double> boosts = kNewLabelBoosts);

}  // namespace driftrec::temporal
