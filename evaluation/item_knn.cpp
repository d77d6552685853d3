#include "evaluation/item_knn.hpp"

#include "propagation/random_walk.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "evaluation/metrics.hpp"

namespace driftrec::evaluation {

using graph::Index;
using graph::Offset;

graph::CsrMatrix item_knn_similarity(const graph::CsrMatrix& history, int neighbours) {
  const graph::CsrMatrix item_users = graph::transpose(history);
  const Index n = history.n_cols;
  std::vector<double> degree(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) degree[static_cast<std::size_t>(i)] = static_cast<double>(item_users.row_length(i));

  std::vector<std::vector<Index>> cols(static_cast<std::size_t>(n));
  std::vector<std::vector<float>> vals(static_cast<std::size_t>(n));
  // Rows cost the sum of their users' degrees (skewed): dynamic schedule. Each row is
  // computed by one thread into its own cols/vals, so the schedule changes nothing.
  struct Scratch {
    std::vector<double> co;  // co-occurrence counts, all 0 between rows
    std::vector<Index> touched;
    std::vector<double> sim;
  };
  core::ParallelFor o;
  o.schedule = core::Schedule::dynamic;
  o.chunk = 64;
  core::parallel_for_with_state(
      n, o, [n] { return Scratch{std::vector<double>(static_cast<std::size_t>(n), 0.0), {}, {}}; },
      [&](std::int64_t row, Scratch& scratch) {
        const auto i = static_cast<Index>(row);
        std::vector<double>& co = scratch.co;
        std::vector<Index>& touched = scratch.touched;
        std::vector<double>& sim = scratch.sim;
        touched.clear();
        for (Offset k = item_users.indptr[i]; k < item_users.indptr[i + 1]; ++k) {
          const Index u = item_users.indices[k];
          for (Offset q = history.indptr[u]; q < history.indptr[u + 1]; ++q) {
            const Index j = history.indices[q];
            if (j == i) continue;
            if (co[static_cast<std::size_t>(j)] == 0) touched.push_back(j);
            co[static_cast<std::size_t>(j)] += 1;
          }
        }
        std::sort(touched.begin(), touched.end());
        sim.assign(touched.size(), 0.0);
        for (std::size_t q = 0; q < touched.size(); ++q) {
          const auto j = static_cast<std::size_t>(touched[q]);
          sim[q] = co[j] / std::sqrt(degree[static_cast<std::size_t>(i)] * degree[j]);
          co[j] = 0;
        }
        // Keep the best `neighbours` (ties toward the lower item), stored by item id.
        std::vector<Index> order(touched.size());
        std::iota(order.begin(), order.end(), Index{0});
        const std::size_t keep = std::min(order.size(), static_cast<std::size_t>(std::max(neighbours, 0)));
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                          [&](Index a, Index b) {
                            if (sim[static_cast<std::size_t>(a)] != sim[static_cast<std::size_t>(b)])
                              return sim[static_cast<std::size_t>(a)] > sim[static_cast<std::size_t>(b)];
                            return a < b;  // touched is ascending, so this is the lower item
                          });
        order.resize(keep);
        std::sort(order.begin(), order.end());
        auto& c = cols[static_cast<std::size_t>(i)];
        auto& v = vals[static_cast<std::size_t>(i)];
        for (Index q : order) {
          c.push_back(touched[static_cast<std::size_t>(q)]);
          v.push_back(static_cast<float>(sim[static_cast<std::size_t>(q)]));
        }
      });
  graph::CsrMatrix s;
  s.n_rows = s.n_cols = n;
  s.indptr.assign(static_cast<std::size_t>(n) + 1, 0);
  for (Index i = 0; i < n; ++i)
    s.indptr[static_cast<std::size_t>(i) + 1] = s.indptr[static_cast<std::size_t>(i)] + static_cast<Offset>(cols[static_cast<std::size_t>(i)].size());
  s.indices.reserve(static_cast<std::size_t>(s.indptr.back()));
  s.data.reserve(static_cast<std::size_t>(s.indptr.back()));
  for (Index i = 0; i < n; ++i) {
    s.indices.insert(s.indices.end(), cols[static_cast<std::size_t>(i)].begin(), cols[static_cast<std::size_t>(i)].end());
    s.data.insert(s.data.end(), vals[static_cast<std::size_t>(i)].begin(), vals[static_cast<std::size_t>(i)].end());
  }
  return s;
}

void item_knn_scores(const graph::CsrMatrix& history, const graph::CsrMatrix& similarity,
                     Index user, std::span<float> out) {
  // Summed in double in item order, so the scores do not depend on anything but the data.
  std::vector<double> acc(out.size(), 0.0);
  for (Offset k = history.indptr[user]; k < history.indptr[user + 1]; ++k) {
    const Index i = history.indices[k];
    for (Offset q = similarity.indptr[i]; q < similarity.indptr[i + 1]; ++q)
      acc[static_cast<std::size_t>(similarity.indices[q])] += similarity.data[q];
  }
  for (std::size_t j = 0; j < out.size(); ++j) out[j] = static_cast<float>(acc[j]);
}

namespace {

// Scores W_u S from a similarity S: item-KNN's and RP3beta's.
class ItemKnn : public FittedModel {
 public:
  ItemKnn(const graph::CsrMatrix& history, std::shared_ptr<const graph::CsrMatrix> similarity)
      : history_(history), similarity_(std::move(similarity)) {}
  void items(Index user, std::span<float> out) const override {
    item_knn_scores(history_, *similarity_, user, out);
  }

 private:
  graph::CsrMatrix history_;
  std::shared_ptr<const graph::CsrMatrix> similarity_;
};

}  // namespace

std::string item_knn_key(int neighbours) { return fmt::format("item_knn neighbours={}", neighbours); }

std::shared_ptr<const graph::CsrMatrix> shared_item_knn(const Training& t, SharedFits* shared, int neighbours) {
  auto compute = [&] { return item_knn_similarity(t.history, neighbours); };
  if (!shared) return std::make_shared<const graph::CsrMatrix>(compute());
  return shared->get<graph::CsrMatrix>(t, item_knn_key(neighbours), compute);
}

std::string rp3beta_key(float alpha, float beta, int k) {
  return fmt::format("rp3beta alpha={} beta={} k={}", alpha, beta, k);
}

std::shared_ptr<const graph::CsrMatrix> shared_rp3beta(const Training& t, SharedFits* shared, float alpha, float beta,
                                                       int k) {
  auto compute = [&] {
    propagation::WalkSimilarityOptions o;
    o.alpha = alpha;
    o.beta = beta;
    o.k = k;
    return propagation::rp3beta_similarity(t.history, o);
  };
  if (!shared) return std::make_shared<const graph::CsrMatrix>(compute());
  return shared->get<graph::CsrMatrix>(t, rp3beta_key(alpha, beta, k), compute);
}

ModelSpec item_knn_model(std::vector<int> neighbours, std::shared_ptr<SharedFits> shared) {
  ModelSpec m;
  m.name = "item_knn";
  m.item = true;
  m.grid.clear();
  for (int k : neighbours) m.grid.push_back({{"neighbours", static_cast<double>(k)}});
  m.fit = [shared](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    return std::make_unique<ItemKnn>(t.history,
                                     shared_item_knn(t, shared.get(), static_cast<int>(param(p, "neighbours"))));
  };
  return m;
}

ModelSpec rp3beta_model(std::shared_ptr<SharedFits> shared) {
  ModelSpec m;
  m.name = "rp3beta";
  m.item = true;
  m.grid.clear();
  for (double alpha : {0.5, 1.0})
    for (double beta : {0.3, 0.6}) m.grid.push_back({{"alpha", alpha}, {"beta", beta}});
  m.fit = [shared](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    return std::make_unique<ItemKnn>(t.history, shared_rp3beta(t, shared.get(), static_cast<float>(param(p, "alpha")),
                                                               static_cast<float>(param(p, "beta")), 100));
  };
  return m;
}

}  // namespace driftrec::evaluation
