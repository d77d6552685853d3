// The `ranker` row of `driftrec evaluate` (issue 13, item 3): a learned item ranker over
// the candidates of six sources (ranker.hpp), in place of relying on the fixed-grid hybrid
// (which stays as its own row). Fitted on the Training of period P (data strictly before P):
//
//   sources of a Training T (each fitted on T alone, with fixed settings):
//     temporal_als       x_u(P-1) . y_i(P-1), temporal ALS (32 factors, gamma 0.9, eta 0.1)
//                        over the windowed training slices (library_models.hpp);
//     als                x_u . y_i, static implicit ALS (32 factors, lambda 10) on the summed
//                        training matrix;
//     rp3beta            RP3beta similarity rows (alpha 1, beta 0.3, top 100) summed over the
//                        user's training items;
//     item_knn           cosine item-KNN (200 neighbours), the same sum;
//     recent_popularity  events per item in period P-1;
//     label_match        F_U(u) . l_i: the user's propagated interests (temporal label
//                        propagation, alpha 0.85, gamma 0.9, mu 0.5, row-normalised F_U(P-1))
//                        against the item's label distribution -- its labels shared equally,
//                        or, for an item without labels, its propagated F_I(P-1) row
//                        normalised (so unlabelled items still rank);
//   per-item features: age = log(1 + P - f_i) / log(1 + P), f_i the first period with an
//                      event on i; trend = log((1 + n_i(P-1)) / (1 + n_i(P-2)));
//                      recent = log(1 + n_i(P-1)) / log(1 + max_j n_j(P-1)); popularity the
//                      same of the events before P;
//   per-user activity: log(1 + h_u) / log(1 + max_v h_v), h_u the items u had before P.
//
//   training: for each of the last `training_periods` periods q = P-1, P-2, .. (q >= 1), the
//   sources are fitted on the data before q, and each user evaluated at q (evaluated_pairs:
//   history before q, events in q) with a NEW item of q among its candidates is one listwise
//   example (positives: those new items). The weights minimise the listwise loss with ridge
//   `l2`.
//
//   the grid, chosen by the evaluator on the validation period only, by recall@K (the
//   largest K asked for; ModelSpec::select_by_recall): the learned weights for each l2, and
//   (sources_alone) each source alone -- the weight 1 on its rank feature, which orders the
//   candidates as the source orders the eligible items, down to rank per_source. So on the
//   validation period the chosen setting's recall@K (K <= per_source) is at least that of
//   each source as the ranker fits it, as a mixture falls back to its best expert.
//   {"source": -1, "l2": x} is learned, {"source": s} source s (kRankerSourceNames) alone.
//
// Everything a fit reads is inside the Training it is handed, so nothing of P or later
// reaches it. Sources and examples are cached per (period, fingerprint of the training
// events), so each period's sources are fitted once per evaluation however many grid
// settings and later periods use them.
#pragma once
#include "evaluation/library_models.hpp"
#include "evaluation/model.hpp"

namespace driftrec::evaluation {

struct RankerOptions {
  int per_source = 50;          // candidates each source contributes
  int training_periods = 2;     // periods before P whose new items train the weights
  int max_users_per_period = 3000;  // examples per training period, evenly spaced by user
  std::vector<double> l2{1e-3, 1e-2, 1e-1, 1.0};  // the learned settings of the grid, each > 0
  bool sources_alone = true;                      // also each source alone in the grid
};

ModelSpec ranker_model(const LibraryModelOptions& library, const RankerOptions& options = {});

// What a setting of the ranker's grid ranks by: "learned" or a source's name.
const char* ranker_setting_name(const Params& p);

// The evaluator's choice outside evaluate() (recommend --model ranker): each setting of
// `ranker`'s grid fitted on the data before `validation` and scored by the mean recall@k
// of that period's users with new items; the best, ties keeping the earlier setting. With
// no such user, the first setting and recall NaN.
struct RankerChoice {
  Params params;
  double recall = 0;
  std::size_t pairs = 0;
  std::vector<std::pair<Params, double>> tried;  // every setting and its recall@k
};
RankerChoice choose_ranker_setting(const EvaluationData& data, const ModelSpec& ranker, std::size_t validation,
                                   int k, int threads = 0);

}  // namespace driftrec::evaluation
