// Item-KNN (Sarwar, Karypis, Konstan & Riedl 2001, "Item-based collaborative filtering
// recommendation algorithms"; the tuned baseline of Dacrema, Cremonesi & Jannach 2019):
// cosine similarity between the item columns of the BINARISED training matrix B (b_ui = 1
// if u touched i before P),
//   s(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|),   s(i, i) = 0,
// each item keeping only its `neighbours` most similar items (ties toward the lower
// index); a user's score for item j is the sum of s(i, j) over the user's training items i
// that keep j as a neighbour.
//
// Co-occurrence counts come from one sparse pass per item over its users' rows
// (O(sum_u |I_u|^2) in all), parallel over items; the result does not depend on the
// thread count.
#pragma once
#include <memory>
#include <string>

#include "evaluation/model.hpp"
#include "evaluation/shared_fits.hpp"
#include "graph/csr.hpp"

namespace driftrec::evaluation {

// The pruned similarity rows: row i holds item i's neighbours and their cosines, column
// ids ascending. `history` is users x items (any stored entry counts as 1).
graph::CsrMatrix item_knn_similarity(const graph::CsrMatrix& history, int neighbours);

// The scores of every item for `user`: sum over the user's items i of row i of `similarity`.
void item_knn_scores(const graph::CsrMatrix& history, const graph::CsrMatrix& similarity,
                     graph::Index user, std::span<float> out);

// The neighbour grid of the `item_knn` row of `driftrec evaluate`.
inline std::vector<int> default_item_knn_neighbours() { return {50, 200}; }

// The model: grid over `neighbours`. Its fits go through `shared` (shared_fits.hpp) when
// given, as do rp3beta_model's.
ModelSpec item_knn_model(std::vector<int> neighbours = default_item_knn_neighbours(),
                         std::shared_ptr<SharedFits> shared = nullptr);

// RP3beta (Paudel et al. 2017; propagation/random_walk.hpp) on the training history: the
// top-100 similarity rows, scored like item-KNN (the sum of the rows of the user's
// items). Grid: alpha {0.5, 1} x beta {0.3, 0.6}.
ModelSpec rp3beta_model(std::shared_ptr<SharedFits> shared = nullptr);

// item_knn_similarity(t.history, neighbours) and the RP3beta similarity (alpha, beta, top
// k, the other options their defaults) through `shared` (null: a fresh one per call), and
// their SharedFits keys.
std::string item_knn_key(int neighbours);
std::shared_ptr<const graph::CsrMatrix> shared_item_knn(const Training& t, SharedFits* shared, int neighbours);
std::string rp3beta_key(float alpha, float beta, int k);
std::shared_ptr<const graph::CsrMatrix> shared_rp3beta(const Training& t, SharedFits* shared, float alpha, float beta,
                                                       int k);

}  // namespace driftrec::evaluation
