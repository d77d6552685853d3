// The one place where the models of `driftrec evaluate` are listed, in report order:
// the baselines (baselines.hpp, item_knn.hpp) and the rows of other modules
// (library_models.hpp). A new model adds its ModelSpec here.
#pragma once
#include <vector>

#include "evaluation/library_models.hpp"
#include "evaluation/model.hpp"

namespace driftrec::evaluation {

std::vector<ModelSpec> default_models(const LibraryModelOptions& options);

}  // namespace driftrec::evaluation
