#include "evaluation/registry.hpp"

#include "evaluation/baselines.hpp"
#include "evaluation/item_knn.hpp"
#include "evaluation/ranker_model.hpp"
#include "evaluation/sequence_models.hpp"
#include "evaluation/tuning.hpp"

namespace driftrec::evaluation {

std::vector<ModelSpec> default_models(const LibraryModelOptions& given) {
  // One SharedFits for the rows below: the ranker's sources reuse the other rows' fits.
  LibraryModelOptions options = given;
  if (!options.shared_fits) options.shared_fits = std::make_shared<SharedFits>();
  std::vector<ModelSpec> models;
  // Baselines.
  models.push_back(popularity_model());
  models.push_back(recent_popularity_model());
  models.push_back(last_period_model());
  models.push_back(ewma_model());
  // Item models.
  models.push_back(item_knn_model(default_item_knn_neighbours(), options.shared_fits));
  models.push_back(rp3beta_model(options.shared_fits));
  models.push_back(als_model(options));
  // Rows of the temporal modules.
  models.push_back(label_propagation_model(options));
  models.push_back(temporal_als_model(options));
  // The sequence model (temporal/) over propagated interests and temporal ALS factors.
  const temporal::SequenceOptions sequence =
      apply_sequence_params(default_sequence_options(options), options.sequence_settings);
  for (ModelSpec& m : sequence_models(sequence)) models.push_back(std::move(m));
  // The learned item ranker over the item sources above (ranker_model.hpp).
  models.push_back(ranker_model(options));
  return models;
}

temporal::SequenceOptions default_sequence_options(const LibraryModelOptions& options) {
  temporal::SequenceOptions sequence;
  sequence.window = options.window;
  sequence.model.seed = options.seed;
  sequence.als.als.seed = options.seed;
  sequence.als.als.threads = options.threads;
  sequence.propagation.propagation.threads = options.threads;
  sequence.model.threads = options.threads;
  sequence.model.train_users = options.train_users;
  sequence.als.als.backend = options.als_backend;
  sequence.propagation.propagation.backend = options.propagation_backend;
  return sequence;
}

}  // namespace driftrec::evaluation
