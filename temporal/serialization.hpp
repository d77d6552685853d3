// A sequence model as plain data for a store: its parameter tensors, in a fixed order, as
// (name, rows, cols, row-major float32 values), and its options as key/value strings
// (floats in shortest round-trip form). The HDF5 writer stores them under
// /results/<name>/; deserialize_model is the validating inverse.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "temporal/trainer.hpp"

namespace driftrec::temporal {

inline constexpr const char* kModelFormat = "driftrec-sequence-model";
inline constexpr int kModelVersion = 1;

struct NamedTensor {
  std::string name;  // tensor_name(k): cell_input, cell_hidden, cell_bias, interest_weight, ...
  std::int64_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major, rows * cols values
};

struct SerializedModel {
  std::vector<NamedTensor> tensors;  // kTensorCount entries, in Tensor order
  // format, version, cell, hidden, bptt, learning_rate, epochs, batch_users, factor_weight,
  // l2, patience, clip_norm, seed, threads, gap_cap, input_size, labels, factor_size
  std::vector<std::pair<std::string, std::string>> attributes;
};

SerializedModel serialize_model(const SequenceModel& model);

// Throws InputError naming the attribute or tensor when one is missing, cannot be
// parsed, fails validation, has the wrong shape for the stated sizes, or holds a
// non-finite value. Attributes not listed above are ignored.
SequenceModel deserialize_model(const SerializedModel& stored);

}  // namespace driftrec::temporal
