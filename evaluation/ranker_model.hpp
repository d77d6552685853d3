// The `ranker` row of `driftrec evaluate` (issue 13, item 3): a learned item ranker over
// the candidates of five sources (ranker.hpp), in place of relying on the fixed-grid hybrid
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
//                      event on i; trend = log((1 + n_i(P-1)) / (1 + n_i(P-2))).
//
//   training: for each of the last `training_periods` periods q = P-1, P-2, .. (q >= 1), the
//   sources are fitted on the data before q, and each user evaluated at q (evaluated_pairs:
//   history before q, events in q) with a NEW item of q among its candidates is one listwise
//   example (positives: those new items). The weights minimise the listwise loss with ridge
//   `l2`; l2 is the row's grid, chosen by the evaluator on the validation period only.
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
  std::vector<double> l2{1e-3, 1e-2, 1e-1};  // the grid tuned on validation
};

ModelSpec ranker_model(const LibraryModelOptions& library, const RankerOptions& options = {});

}  // namespace driftrec::evaluation
