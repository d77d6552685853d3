// Random-walk collaborative filtering on the bipartite user x item graph W (docs/math.md,
// "Random-walk CF"): item-item similarities from the item -> user -> item end of the
// three-step walks user -> item -> user -> item, P3alpha (Cooper, Lee, Radovanovic & Chen 2014, "Random walks in recommender systems:
// exact computation and simulations") and RP3beta (Paudel, Christoffel, Newell &
// Bernstein 2017, "Updatable, accurate, diverse, and scalable recommendations for
// interactive applications"); scores W_u S from such a similarity; and personalised
// PageRank from a user's items.
//
// Definitions. W is users x items with finite weights >= 0; a stored 0 is no edge. With
// the weighted degrees deg_u = sum_i W_ui and deg_i = sum_u W_ui, the transition
// probabilities are P_ui = W_ui / deg_u (user -> item) and P_iu = W_ui / deg_i (item ->
// user); both use the weights, so on a 0/1 matrix they are the binary walk of the papers
// (implementations that binarise the item -> user step differ from this on weighted W).
// Each transition probability is raised to alpha (elementwise, before the product):
//   P3alpha:  S_ij = sum_u P_iu^alpha P_uj^alpha
//   RP3beta:  S_ij = sum_u P_iu^alpha P_uj^alpha / pop_j^beta
// with pop_j = the number of users with W_uj > 0 (the unweighted degree, as in Paudel et
// al.; items no one has are never reached). Each row keeps its k largest positive
// entries (ties toward the lower item index), without the diagonal unless include_self;
// with normalize_rows the kept entries of a row are divided by their sum.
//
// The trick: S = P_iu^alpha P_ui^alpha is a sparse x sparse product computed a row at a
// time with a dense accumulator (Gustavson's SpGEMM): for item i, for u in item_users(i)
// (the STORED transpose W^T), for j in user_items(u), acc[j] += a_iu b_uj, where the
// powered probabilities a, b are computed once per edge; a touched list of the columns
// hit makes the row cost its flops, not n_items; then a partial selection keeps the top
// k. Sums are in float, in stored order. Rows run in parallel under a dynamic schedule, each row by one thread in stored
// order (no atomics, no scatter), so results are identical bit for bit for any thread
// count. Memory: one float per edge in each direction, n_items floats + ints per thread.
//
// Personalised PageRank: the walk on items with one step i -> u -> j, T = P_iu P_ui
// (items x items, row-stochastic on items someone has). The restart vector r of user u
// is P_u. (the user's row of W divided by its sum) and
//   p = c r + (1 - c) T^T p,   c = restart_probability (0.15: damping d = 1 - c = 0.85)
// solved by power iteration from p = r. Mass never leaves the items reachable from r, so
// sum_j p_j = 1. Residual of an iteration: the L1 change sum_j |p_new - p_old|, the max
// over the users of a batch; since T^T contracts L1 by 1 - c, the error of the last
// iterate is at most residual (1 - c) / c. Stops as converged once residual <=
// tolerance; after max_iterations reports converged = false with the residual reached.
// The batched path works in float, so a tolerance much below 1e-6 may be out of its reach
// on a large graph (reported as non-convergence, never hidden).
// The batched form runs `block` users at once as a dense items x block operand, so each
// step is two SpMMs through the Backend (W^T-side with the stored transpose, no scatter):
// options.backend, or a CPU backend with options.threads threads. The graph is prepared
// on it once per call and serves every block.
#pragma once
#include <functional>
#include <span>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"

namespace driftrec::propagation {

// ---- Item-item similarity (P3alpha, RP3beta) ----

struct WalkSimilarityOptions {
  float alpha = 1.0f;           // exponent on each transition probability, finite > 0
  float beta = 0.0f;            // popularity penalty, finite >= 0; P3alpha needs 0
  int k = 100;                  // entries kept per row, >= 1
  bool include_self = false;    // keep S_ii among the candidates
  bool normalize_rows = false;  // divide each kept row by its sum
  int threads = 0;              // >= 0; 0: OpenMP's default

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

// Easy tier: W users x items (validated: CSR invariants, finite, >= 0; InputError naming
// "W"). Returns S, items x items, at most k entries per row, columns increasing, all
// values > 0. p3alpha_similarity throws InputError if options.beta != 0.
graph::CsrMatrix p3alpha_similarity(const graph::CsrMatrix& w, const WalkSimilarityOptions& options);
graph::CsrMatrix rp3beta_similarity(const graph::CsrMatrix& w, const WalkSimilarityOptions& options);

// Expert tier: RP3beta (P3alpha at beta = 0) on a prepared graph; checks the options only.
graph::CsrMatrix walk_similarity(const BipartiteGraph& g, const WalkSimilarityOptions& options);

// ---- Scores from an item-item similarity: score_u = W_u S ----

struct ScoredItem {
  graph::Index item;
  float score;
};

struct RecommendOptions {
  int k = 10;                 // items per user, >= 1
  bool include_seen = false;  // also rank the user's own items (W_uj > 0)
  int threads = 0;            // >= 0; 0: OpenMP's default

  void validate() const;
};

// Keeps the best min(k, size) candidates (higher score, then lower index), best first.
void keep_best(std::vector<ScoredItem>& candidates, int k);

// users x k, row-major: row u holds the user's best items, best first. Rows with fewer
// than k candidates are padded with item -1 and score -infinity.
struct TopItems {
  graph::Index users = 0;
  int k = 0;
  std::vector<graph::Index> items;
  std::vector<float> scores;

  std::span<const graph::Index> items_of(graph::Index u) const {
    return {items.data() + static_cast<std::size_t>(u) * k, static_cast<std::size_t>(k)};
  }
  std::span<const float> scores_of(graph::Index u) const {
    return {scores.data() + static_cast<std::size_t>(u) * k, static_cast<std::size_t>(k)};
  }
};

// score_uj = sum_i W_ui S_ij (summed in float, in stored order). Candidates are the items
// with score > 0, except the user's own items (W_uj > 0) unless include_seen; the top k,
// ties toward the lower index. W users x items and S items x items are checked (CSR
// invariants, finite, >= 0); InputError names "W" or "S". Row-parallel, same dense
// accumulator as the similarity; identical for any thread count.
TopItems recommend_all(const graph::CsrMatrix& w, const graph::CsrMatrix& s,
                       const RecommendOptions& options);

// The same for one user (options.threads unused), best first, at most k entries.
std::vector<ScoredItem> recommend_user(const graph::CsrMatrix& w, const graph::CsrMatrix& s,
                                       graph::Index user, const RecommendOptions& options);

// ---- Personalised PageRank ----

struct PageRankOptions {
  float restart_probability = 0.15f;  // c, in (0, 1]; the damping is 1 - c
  double tolerance = 1e-6;            // on the L1 change of an iteration, finite >= 0
  int max_iterations = 100;           // >= 1
  int block = 32;                     // users per dense block of the batched form, >= 1
  int threads = 0;                    // >= 0, 0: OpenMP's default; the default backend and
                                      // the dense passes
  const Backend* backend = nullptr;   // where the products run (borrowed); null: CPU

  void validate() const;
};

struct PageRankResult {
  DenseMatrix scores;       // users.size() x items: p of each requested user, in order
  int iterations = 0;       // the most any block ran
  double residual = 0;      // the largest final residual over all users
  bool converged = false;   // every block reached residual <= tolerance
};

// Easy tier: W as above (copied into a BipartiteGraph); users: indices in [0, users).
// A user with no items (or only stored zeros) gets an all-zero row and residual 0.
PageRankResult personalized_pagerank(const graph::CsrMatrix& w, std::span<const graph::Index> users,
                                     const PageRankOptions& options);

// One user, by a plain serial power iteration on vectors (in double; independent of the
// batched path, which the tests check it against). Same conventions; throws InputError
// on a bad W, user or option.
struct UserPageRank {
  std::vector<float> scores;  // one per item
  int iterations = 0;
  double residual = 0;
  bool converged = false;
};
UserPageRank personalized_pagerank(const graph::CsrMatrix& w, graph::Index user,
                                   const PageRankOptions& options);

// Expert tier: a built graph (the degrees and restart vectors are read from its host
// copy; the products run on options.backend). Each block of users iterates until it
// converges or reaches max_iterations.
PageRankResult personalized_pagerank(const BipartiteGraph& g, std::span<const graph::Index> users,
                                     const PageRankOptions& options);

// Top-K items of every user by personalised PageRank (the user's own items excluded
// unless recommend.include_seen; candidates have p > 0; ties toward the lower index), run
// in chunks of users so memory stays O(chunk x items) whatever the user count.
// `on_chunk(users_done, users)` reports progress. Convergence as in PageRankResult,
// over all users.
struct PageRankTopItems {
  TopItems top;
  int iterations = 0;
  double residual = 0;
  bool converged = true;
};
PageRankTopItems pagerank_top_items(const BipartiteGraph& g, const PageRankOptions& options,
                                    const RecommendOptions& recommend,
                                    const std::function<void(graph::Index, graph::Index)>& on_chunk = {});

}  // namespace driftrec::propagation
