// Rows for the models other modules implement, wrapped as ModelSpecs fitted on the
// Training of period P (data strictly before P):
//   als                static implicit ALS (matrix_factorization::fit_implicit_als; Hu,
//                      Koren & Volinsky 2008) on the aggregated training matrix
//                      W_0 + .. + W_{P-1}; item scores x_u . y_i;
//   temporal_als       temporal ALS (matrix_factorization::fit_temporal_als) over the
//                      training slices; item scores from the last training period's user
//                      factors and item factors, x_u(P-1) . y_i(P-1);
//   label_propagation  temporal label propagation (propagation::propagate_temporal, Zhou
//                      et al. 2004 on the bipartite graph) over the training slices; the
//                      interests are F_U(P-1) row-normalised. A user whose row is all zero
//                      (no path to a labelled item) gets popularity's prediction.
// The two temporal models run over a window of the training periods, to bound their cost
// (a fit costs one propagation or ALS run per period it sees, and a long log has hundreds):
// the last `window` training slices, preceded by ONE slice holding the sum of every earlier
// training slice (the history before the window, seen as one period). With window >= P - 1
// that is the training slices themselves.
#pragma once
#include <cstdint>

#include "evaluation/model.hpp"
#include "evaluation/shared_fits.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "propagation/backend.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace driftrec::evaluation {

// `driftrec evaluate --train-users`'s default: 0, every user. A cap cuts the sequence rows'
// training cost but moves their interest metrics beyond their intervals where it bites
// (docs/evaluation.md has the measured tolerance), so it is opt-in.
inline constexpr int kDefaultTrainUsers = 0;

struct LibraryModelOptions {
  std::uint64_t seed = 0;  // initial ALS factors
  int als_iterations = 10;
  int temporal_als_iterations = 3;  // sweeps per period
  int window = 12;                  // periods the temporal models see one by one, >= 1
  int threads = 0;                  // the models' threads (ALS, propagation, sequence model);
                                    // 0: OpenMP's default
  // Where label propagation and ALS run; borrowed, must outlive every fit. Null: the CPU
  // backends with `threads` threads.
  const propagation::Backend* propagation_backend = nullptr;
  const matrix_factorization::AlsBackend* als_backend = nullptr;
  Params sequence_settings;         // the sequence models' settings chosen by tuning.hpp
                                    // (hidden, window, learning_rate); empty: the defaults  // The sequence rows (and the mixture on the GRU) train and early-stop on at most this many
  // users drawn with `seed` and predict for every user (temporal::SequenceModelOptions::
  // train_users); 0: every user. Stores with at most this many users are unaffected.
  int train_users = kDefaultTrainUsers;
  // Fits the ranker shares with the rows that make them (shared_fits.hpp); null: none
  // shared. default_models makes one for its rows.
  std::shared_ptr<SharedFits> shared_fits;
};

// The slices a temporal model is fitted on (see above).
using temporal::windowed_slices;

// Grid: factors x regularization (alpha 1, CG solver).
ModelSpec als_model(const LibraryModelOptions& o);
// Grid: gamma x eta (32 factors, regularization 0.1).
ModelSpec temporal_als_model(const LibraryModelOptions& o);
// The temporal_als row's fit for one setting: the last training period's model.
matrix_factorization::AlsModel fit_last_temporal_als(const Training& t, const LibraryModelOptions& o, float gamma,
                                                     float eta);

// Grid: alpha x gamma (mu 0.5, tolerance 1e-4, at most 100 iterations per period).
ModelSpec label_propagation_model(const LibraryModelOptions& o);

// The fits of the rows above (and of item_knn and rp3beta) through o.shared_fits, so that
// the ranker's sources reuse them (shared_fits.hpp); each *_key names every setting its fit
// depends on. Without o.shared_fits, a fresh fit per call.
std::string als_key(const LibraryModelOptions& o, int factors, float regularization,
                    const matrix_factorization::AlsBackend* backend);
std::shared_ptr<const matrix_factorization::AlsModel> shared_als(const Training& t, const LibraryModelOptions& o,
                                                                 int factors, float regularization,
                                                                 const matrix_factorization::AlsBackend* backend);
std::string temporal_als_key(const LibraryModelOptions& o, float gamma, float eta);
std::shared_ptr<const matrix_factorization::AlsModel> shared_temporal_als(const Training& t,
                                                                          const LibraryModelOptions& o, float gamma,
                                                                          float eta);
// Temporal label propagation over windowed_slices(t, o.window) (tolerance 1e-4, at most 100
// iterations per period): the last period's interests and item labels, and how many
// periods did not converge.
struct PropagationFit {
  propagation::DenseMatrix interests, item_labels;
  std::size_t periods = 0, not_converged = 0;
  double worst_residual = 0;
};
std::string propagation_key(const LibraryModelOptions& o, float alpha, float gamma, float mu,
                            const propagation::Backend* backend);
std::shared_ptr<const PropagationFit> shared_propagation(const Training& t, const LibraryModelOptions& o, float alpha,
                                                         float gamma, float mu, const propagation::Backend* backend);

}  // namespace driftrec::evaluation
