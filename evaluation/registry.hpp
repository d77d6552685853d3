// The one place where the models of `driftrec evaluate` are listed, in report order:
// the baselines (baselines.hpp, item_knn.hpp) and the rows of other modules
// (library_models.hpp). A new model adds its ModelSpec here.
#pragma once
#include <vector>

#include "evaluation/library_models.hpp"
#include "evaluation/model.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::evaluation {

std::vector<ModelSpec> default_models(const LibraryModelOptions& options);

// The options of the sequence rows (and the base of their tuning, tuning.hpp).
temporal::SequenceOptions default_sequence_options(const LibraryModelOptions& options);

}  // namespace driftrec::evaluation
