// A trained sequence model in a store, /results/<name> (kind "sequence_model"), written by
// `driftrec train` and read by `predict` and `recommend --model`:
//   parameters/<tensor>      the model's tensors (temporal/serialization.hpp), attributes
//                            of the model as string attributes of the result
//   next_interests           users x labels: the predicted distribution for the period
//                            after the store's last
//   next_factors             users x f: the predicted user factor for that period
//   item_factors             items x f: y_i of the last period (temporal ALS)
//   train_loss, validation_loss   per epoch
// with interest_weight (the hybrid's blend, chosen on the last period) and the feature
// options as attributes.
#pragma once
#include <string>

#include "temporal/sequence_fit.hpp"
#include "io/results.hpp"
#include "temporal/trainer.hpp"

namespace driftrec::cli {

void write_sequence_result(hid_t g, const temporal::TrainedSequence& s, double interest_weight);

struct LoadedSequence {
  temporal::SequenceModel model;  // validated by deserialize_model
  temporal::RowMatrix next_interests, next_factors;
  matrix_factorization::Factors item_factors;
  double interest_weight = 0;
};
// Throws InputError when the result is missing, of another kind, or damaged.
LoadedSequence load_sequence_result(const io::Store& store, const std::string& name);

}  // namespace driftrec::cli
