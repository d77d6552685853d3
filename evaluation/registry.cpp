#include "evaluation/registry.hpp"

#include "evaluation/baselines.hpp"
#include "evaluation/item_knn.hpp"

namespace driftrec::evaluation {

std::vector<ModelSpec> default_models(const LibraryModelOptions& options) {
  std::vector<ModelSpec> models;
  // Baselines.
  models.push_back(popularity_model());
  models.push_back(recent_popularity_model());
  models.push_back(last_period_model());
  models.push_back(ewma_model());
  // Item models.
  models.push_back(item_knn_model());
  // REGISTRATION POINT (RP3beta): the random-walk item model of propagation/random_walk.hpp
  // (Paudel et al. 2017) is wired in here at merge, as a ModelSpec named "rp3beta" with
  // item = true and a small grid over alpha and beta, scoring a user's items through its
  // top-k item-item similarity rows the way item_knn_model does.
  models.push_back(als_model(options));
  // Rows of the temporal modules.
  models.push_back(label_propagation_model(options));
  models.push_back(temporal_als_model(options));
  return models;
}

}  // namespace driftrec::evaluation
