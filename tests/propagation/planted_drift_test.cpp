// Temporal label propagation against the planted truth of graph/generator: on a log
// whose users' interests drift and where 30% of the items' labels are hidden, the
// propagated interests F_U(t) must be closer to each active user's true label
// distribution than the one-hop average (the mean label vector of the items the user
// touched in the period). Both figures are printed; the closing note of issue 3 quotes them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <map>
#include <vector>

#include "graph/decay.hpp"
#include "graph/generator.hpp"
#include "propagation/temporal_propagation.hpp"

using namespace driftrec;
using graph::Index;

namespace {

constexpr double kFloor = 1e-6;  // docs/evaluation.md's floor on a predicted probability

// Cross-entropy and KL of the prediction p (floored at 1e-6, renormalised) against the
// truth t; p all zero predicts uniform after the floor.
struct Divergence {
  double cross_entropy = 0, kl = 0;
};
Divergence divergence(const std::vector<double>& t, std::vector<double> p) {
  double sum = 0;
  for (double& v : p) sum += (v = std::max(v, kFloor));
  Divergence d;
  for (std::size_t l = 0; l < t.size(); ++l) {
    if (t[l] <= 0) continue;
    const double q = p[l] / sum;
    d.cross_entropy -= t[l] * std::log(q);
    d.kl += t[l] * std::log(t[l] / q);
  }
  return d;
}

}  // namespace

TEST_CASE("propagated interests are closer to the planted truth than the one-hop average",
          "[temporal_propagation][planted_drift]") {
  graph::DriftConfig cfg;
  cfg.users = 1500;
  cfg.items = 1200;
  cfg.labels = 20;
  cfg.periods = 8;
  cfg.events_per_period = 4;
  cfg.labelled_fraction = 0.7;
  cfg.seed = 7;  // fixed: the figures below are quoted in the closing note
  const graph::DriftGenerator gen(cfg);
  const graph::DriftLog log = graph::generate_drift_log(gen);

  // Slices by period; published labels only (what ingest would see).
  const Index periods = cfg.periods, labels = cfg.labels;
  std::vector<std::vector<graph::Triplet>> by_period(periods);
  const graph::Time first = cfg.first_period_begin();
  for (const graph::Event& e : log.events)
    by_period[(e.time - first) / cfg.period_seconds].push_back({e.user, e.item, 1.0f});
  std::vector<graph::CsrMatrix> slices;
  for (auto& t : by_period) slices.push_back(graph::csr_from_triplets(cfg.users, cfg.items, t));
  std::vector<graph::Triplet> lt;
  for (Index i = 0; i < cfg.items; ++i)
    if (gen.item_published(i))
      for (Index l : gen.item_labels(i)) lt.push_back({i, l, 1.0f});
  const graph::CsrMatrix item_labels = graph::csr_from_triplets(cfg.items, labels, lt);

  propagation::TemporalOptions opt;  // the CLI's defaults: alpha 0.85, gamma 0.5, mu 0.5
  opt.propagation.threads = 2;
  const auto result = propagation::propagate_temporal(slices, item_labels, opt);

  std::map<std::pair<Index, Index>, std::vector<double>> truth;  // (user, period) -> weights
  for (const graph::TruthEntry& e : log.truth) {
    auto& w = truth[{e.user, e.period}];
    w.resize(labels, 0.0);
    w[e.label] = e.weight;
  }
  const propagation::DenseMatrix seeds = propagation::item_seed_labels(item_labels);

  // The one-hop average of a user's item labels, over a matrix's row u (0 mass: none).
  auto hop_of = [&](const graph::CsrMatrix& w, Index u, double& mass) {
    std::vector<double> hop(labels, 0.0);
    mass = 0;
    for (graph::Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e)
      for (Index l = 0; l < labels; ++l) {
        hop[l] += w.data[e] * seeds(w.indices[e], l);
        mass += w.data[e] * seeds(w.indices[e], l);
      }
    return hop;
  };
  auto add = [](Divergence& sum, const Divergence& d) {
    sum.cross_entropy += d.cross_entropy;
    sum.kl += d.kl;
  };

  // one_hop: the period's own items; history_hop: the same decayed history G_t that
  // propagation sees (a stronger comparator, reported for honesty, not asserted).
  Divergence propagated, one_hop, history_hop;
  int pairs = 0, not_converged = 0;
  graph::CsrMatrix history;
  for (Index t = 0; t < periods; ++t) {
    if (!result[t].converged) ++not_converged;
    history = t == 0 ? slices[0] : graph::decay_step(history, slices[t], opt.gamma);
    for (Index u = 0; u < cfg.users; ++u) {
      double mass = 0, history_mass = 0;
      const std::vector<double> hop = hop_of(slices[t], u, mass);
      if (mass <= 0) continue;  // inactive, or only unlabelled items: no one-hop estimate
      const std::vector<double> hhop = hop_of(history, u, history_mass);
      std::vector<double> lp(labels);
      for (Index l = 0; l < labels; ++l) lp[l] = result[t].interests(u, l);
      const auto& tr = truth.at({u, t});
      add(propagated, divergence(tr, lp));
      add(one_hop, divergence(tr, hop));
      add(history_hop, divergence(tr, hhop));
      ++pairs;
    }
  }
  REQUIRE(not_converged == 0);
  REQUIRE(pairs > 1000);
  std::printf("planted drift (%d active user-periods, seed %llu): mean cross-entropy propagated %.4f vs one-hop %.4f; "
              "mean KL propagated %.4f vs one-hop %.4f; one-hop over the decayed history: cross-entropy %.4f, KL %.4f\n",
              pairs, static_cast<unsigned long long>(cfg.seed), propagated.cross_entropy / pairs,
              one_hop.cross_entropy / pairs, propagated.kl / pairs, one_hop.kl / pairs,
              history_hop.cross_entropy / pairs, history_hop.kl / pairs);
  CHECK(propagated.cross_entropy < one_hop.cross_entropy);
  CHECK(propagated.kl < one_hop.kl);
}
