// A trained sequence model in a store, /results/<name> (kind "sequence_model"), written by
// `driftrec train` and read by `predict` and `recommend --model`:
//   parameters/<tensor>      the model's tensors (temporal/serialization.hpp); the model's
//                            attributes as string attributes model_<key>, their keys in
//                            model_attributes
//   next_interests           users x labels: the predicted distribution for the period
//                            after the store's last
//   next_factors             users x f: the predicted user factor for that period
//   item_factors             items x f: y_i of the last period (temporal ALS)
//   train_loss, validation_loss   per epoch
//   state/                   what `update` steps the model forward from
//                            (temporal/sequence_state.hpp): hidden (users x H), cell
//                            (users x H, LSTM only), user_scores (users x labels, raw F_U),
//                            user_factors (users x f), last_active (int32 per user, -1:
//                            none); the attention cell's attention_keys and
//                            attention_values (float32, fed_periods * users * H: period
//                            after period, each users x H row-major); with a mixture, mixture_ewma_short and
//                            mixture_ewma_long (float64, users * labels, user after user),
//                            mixture_labelled (int32 per user) and mixture_population
//                            (float64, labels); attributes fed_periods and periods.
//                            Results written before it existed have none, and cannot be
//                            stepped; those written before the attention or mixture parts
//                            were kept read without them.
//   mixture/<tensor>         the interest mixture's gate and head (temporal/mixture.hpp),
//                            when one was trained
// with interest_weight (the hybrid's blend, chosen on the last period), best_epoch,
// window, slicing, periods (the store's when the predictions were made: trained, or
// stepped to) and trained_periods (the store's when trained; absent in older results:
// = periods) as attributes; `interests` says which model's prediction next_interests
// holds ("sequence": the cell's head, "mixture": the interest mixture), with their
// cross-entropies on the last period (validation_cross_entropy_sequence / _mixture) and
// mixture_only_expert (-1: gated, else the expert it fell back to), and
// new_label_boost, the factor `predict` ranks the labels a user never had by (the
// mixture's label ranking, temporal/label_ranking.hpp; absent: 1). Results written
// before the mixture existed read as interests "sequence". `items` says what
// `recommend --model`, `export` and `serve` rank its items by (pipeline/ranking.hpp) ("hybrid": the predicted factor blended with the predicted
// interests; "ranker": the learned item ranker, refitted when asked, with ranker_source and
// ranker_l2 as its setting), with both recall@20 on the last period
// (validation_recall_hybrid / _ranker); results written before it existed read as "hybrid".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/store.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "temporal/features.hpp"
#include "temporal/sequence_state.hpp"
#include "temporal/mixture.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::io {

struct SequenceResult {
  temporal::SequenceModel model;  // validated by deserialize_model when read
  temporal::RowMatrix next_interests, next_factors;
  matrix_factorization::Factors item_factors;
  std::vector<double> train_loss, validation_loss;
  double interest_weight = 0;  // in [0, 1]
  int best_epoch = 0;
  int window = 0;              // the feature window the model was trained with
  std::string slicing;         // the store's, when trained
  std::int64_t periods = 0;    // the store's, when trained or stepped forward to
  std::int64_t trained_periods = 0;  // the store's, when trained
  std::optional<temporal::SequenceState> state;  // absent in results written before it was kept
  std::string interests = "sequence";  // "sequence" | "mixture": what next_interests holds
  double validation_cross_entropy_sequence = 0, validation_cross_entropy_mixture = 0;
  std::optional<temporal::MixtureParameters> mixture;  // when a mixture was trained
  double new_label_boost = 1;  // >= 1: the ranking's factor on never-had labels (interests "mixture")
  std::string items = "hybrid";  // "hybrid" | "ranker": what recommend --model ranks by
  double ranker_source = -1, ranker_l2 = 0;  // the ranker's setting (evaluation/ranker_model.hpp)
  double validation_recall_hybrid = 0, validation_recall_ranker = 0;
};

// Creates /results/<name> in `w` (replacing one of that name); the caller commits `w`.
void write_sequence_result(StoreWriter& w, const std::string& name, const SequenceResult& r);

// Throws InputError when the result is missing, of another kind, or damaged, or when its
// predictions do not fit the store.
SequenceResult read_sequence_result(const Store& store, const std::string& name);

}  // namespace driftrec::io
