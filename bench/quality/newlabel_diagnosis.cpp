// newlabel_diagnosis: why the interest mixture's new-label recall@3 stays below
// recent_popularity's (issue 13), measured on the VALIDATION period of evaluate's split only
// (the period before the first test period; nothing here looks at a test period).
//
// It fits what `driftrec evaluate`'s mixture row fits for that period (the GRU, then the
// mixture, on the data strictly before it, the row's default options), scores the same
// pairs as evaluate (evaluated_pairs) and prints:
//   1. the mixture and recent_popularity (the population's label distribution of the last
//      training period) on cross-entropy, recall@3 and new-label recall@3;
//   2. the pairs where recent_popularity's top 3 hits a new label the mixture's misses, and
//      what fills the mixture's slots there (the user's own labels or not; the share of
//      each expert g_k q_k in their mass);
//   3. calibration: the mass the mixture gives to labels the user never had against their
//      truth share, and per bucket of p the truth share and the presence rate
//      (P(t_l > 0)) of the user's own labels and of labels new to the user: if new labels
//      appeared more often than own labels of the same p, a "labels that will appear"
//      ranking would differ from p's (share against presence);
//   4. a uniform boost c on the labels the user never had (p_l c, renormalised) over a
//      grid: cross-entropy over all pairs and over the pairs with a new label, recall@3,
//      new-label recall@3 (the trade a single distribution makes);
//   5. a per-pair boost exp(a . x) with explore features x (never-had fraction of labels,
//      population mass on them, log(1 + last-period events), the mixture's mass on them,
//      the user's past novelty rate) fitted by cross-entropy, in-sample and 2-fold by user
//      parity: what a gate that reads how much a user explores can gain under CE;
//   6. a separate "new to you" slate (top 3 among the labels the user never had, by p and
//      by the population): what a second ranking would score on new-label recall@3.
//
// Usage: newlabel_diagnosis STORE --test-periods N  (the store `driftrec ingest` wrote)
// bench/quality/results/2026-11-30-newlabel-diagnosis.md holds the numbers for the two
// development data sets.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "evaluation/library_models.hpp"
#include "evaluation/metrics.hpp"
#include "evaluation/registry.hpp"
#include "evaluation/split.hpp"
#include "io/store.hpp"
#include "temporal/mixture_fit.hpp"
#include "temporal/trainer.hpp"

namespace {

using namespace driftrec;
using namespace driftrec::evaluation;
using graph::Index;
using temporal::Matrix;

constexpr int kFeatures = 6;

// One evaluated pair with what every section needs.
struct Pair {
  Index user = 0;
  std::vector<double> p, truth;   // the mixture's floored prediction, the truth distribution
  std::vector<std::uint8_t> had;  // labels of the user's items before the period
  std::vector<Index> new_labels;
  std::array<double, kFeatures> x{};  // explore features (section 5)
  int column = 0;                     // the pair's column in the mixture's last step
};

struct Means {
  double ce = 0, recall = 0, new_recall = 0, ce_new = 0;
  double n = 0, n_new = 0;
  void add(const InterestScores& s) {
    ce += s.cross_entropy;
    recall += s.recall3;
    n += 1;
    if (s.has_new_label_recall) {
      new_recall += s.new_label_recall3;
      ce_new += s.cross_entropy;
      n_new += 1;
    }
  }
  std::string str() const {
    return fmt::format("CE {:.4f} recall@3 {:.4f} new@3 {:.4f} (CE on new-label pairs {:.4f})", ce / n, recall / n,
                       new_recall / n_new, ce_new / n_new);
  }
};

std::vector<double> floored(const std::vector<double>& q) {
  return floored_distribution(std::vector<float>(q.begin(), q.end()));
}

// p with the labels the user never had multiplied by c, renormalised.
std::vector<double> boosted(const Pair& r, double c) {
  std::vector<double> q(r.p.size());
  for (std::size_t l = 0; l < q.size(); ++l) q[l] = r.p[l] * (r.had[l] ? 1.0 : c);
  return floored(q);
}

double dot(const std::array<double, kFeatures>& a, const std::array<double, kFeatures>& x) {
  double s = 0;
  for (int i = 0; i < kFeatures; ++i) s += a[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)];
  return s;
}

// a minimising the mean CE of boosted(r, exp(a . x)) over the pairs `use` accepts (the first
// `features` coordinates free, the rest 0): full-batch Adam on the exact gradient
// d CE / d s = M'(s) - T, M' the boosted mass on never-had labels and T their truth mass.
template <typename Use>
std::array<double, kFeatures> fit_boost(const std::vector<Pair>& pairs, int features, Use use) {
  std::array<double, kFeatures> a{}, m{}, v{};
  for (int it = 1; it <= 1500; ++it) {
    std::array<double, kFeatures> g{};
    double n = 0;
    for (const Pair& r : pairs) {
      if (!use(r)) continue;
      const double c = std::exp(dot(a, r.x));
      double own = 0, unseen = 0, truth = 0;
      for (std::size_t l = 0; l < r.p.size(); ++l) (r.had[l] ? own : unseen) += r.p[l];
      for (std::size_t l = 0; l < r.p.size(); ++l)
        if (!r.had[l]) truth += r.truth[l];
      const double mass = c * unseen / (own + c * unseen);
      for (int i = 0; i < features; ++i) g[static_cast<std::size_t>(i)] += (mass - truth) * r.x[static_cast<std::size_t>(i)];
      n += 1;
    }
    for (std::size_t i = 0; i < static_cast<std::size_t>(features); ++i) {
      g[i] /= n;
      m[i] = 0.9 * m[i] + 0.1 * g[i];
      v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
      a[i] -= 0.02 * (m[i] / (1 - std::pow(0.9, it))) / (std::sqrt(v[i] / (1 - std::pow(0.999, it))) + 1e-8);
    }
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The mixture against recent_popularity on new labels, on evaluate's validation period only"};
  std::string path;
  std::int64_t test_periods = 3;
  app.add_option("store", path, "Store written by `driftrec ingest`")->required();
  app.add_option("--test-periods", test_periods, "evaluate's --test-periods (the validation period is before them)");
  CLI11_PARSE(app, argc, argv);

  const EvaluationData data = load_evaluation_data(io::Store::open(path));
  const std::size_t v = make_split(data.periods.size(), test_periods, temporal::kMinSequencePeriods).validation;
  const Training t = make_training(data, v);
  const Index L = data.n_labels;
  const auto L_size = static_cast<std::size_t>(L);

  // What evaluate's mixture row fits (registry.cpp's options, --train-users 0).
  temporal::SequenceOptions o = default_sequence_options(LibraryModelOptions{});
  o.model.train_users = 0;
  const temporal::TrainedSequence s = temporal::train_sequence(t, o);
  const temporal::TrainedMixture mixture = temporal::train_interest_mixture(t, s, o);
  const temporal::MixtureParameters& mp = mixture.fit.parameters;
  // The last step again, for its experts and gate.
  const temporal::SequenceData& d = *s.data;
  std::vector<std::vector<int>> users;
  const std::vector<temporal::MixtureBatch> steps =
      temporal::mixture_steps(d, *s.inputs, temporal::population_distributions(t, o.window),
                              temporal::hidden_states(s.training.model, d, o.model.threads), &users);
  const temporal::MixtureBatch& last = steps.back();
  const Matrix<double> gate = temporal::gate_weights(mp, last), neural = temporal::neural_expert(mp, last);
  std::vector<int> column(static_cast<std::size_t>(data.n_users), -1);
  for (std::size_t j = 0; j < users.back().size(); ++j) column[static_cast<std::size_t>(users.back()[j])] = static_cast<int>(j);

  const std::vector<double> pi = label_distribution(t.events, t.period_first[v - 1], t.period_first[v], -1, t.item_labels);
  const std::vector<double> rp = floored(pi);
  const std::vector<Index> rp_top = top_k(rp, 3);

  // Past novelty per user (periods before v with a label new at the time, over labelled
  // periods after the first) and events of the last training period.
  std::vector<int> novel(static_cast<std::size_t>(data.n_users), 0), labelled(novel), last_events(novel);
  {
    std::vector<std::vector<std::uint8_t>> seen(static_cast<std::size_t>(data.n_users));
    for (std::size_t per = 0; per < v; ++per) {
      std::map<Index, std::vector<double>> acc;
      for (std::size_t k = t.period_first[per]; k < t.period_first[per + 1]; ++k) {
        auto& a = acc[t.events.user[k]];
        if (a.empty()) a.assign(L_size, 0.0);
        add_item_labels(t.item_labels, t.events.item[k], 1.0, a);
        if (per + 1 == v) ++last_events[static_cast<std::size_t>(t.events.user[k])];
      }
      for (auto& [u, a] : acc) {
        auto& sn = seen[static_cast<std::size_t>(u)];
        if (sn.empty()) sn.assign(L_size, 0);
        bool any = false, brought_new = false;
        for (std::size_t l = 0; l < L_size; ++l)
          if (a[l] > 0) {
            any = true;
            brought_new |= sn[l] == 0;
            sn[l] = 1;
          }
        if (!any) continue;
        if (brought_new && labelled[static_cast<std::size_t>(u)] > 0) ++novel[static_cast<std::size_t>(u)];
        ++labelled[static_cast<std::size_t>(u)];
      }
    }
  }

  std::vector<Pair> pairs;
  for (const EvaluatedPair& e : evaluated_pairs(data, t)) {
    const int j = column[static_cast<std::size_t>(e.user)];
    if (!e.has_interest || j < 0) continue;
    Pair r;
    r.user = e.user;
    r.column = j;
    std::vector<float> raw(L_size);
    for (Index l = 0; l < L; ++l) raw[static_cast<std::size_t>(l)] = mixture.next(e.user, l);
    r.p = floored_distribution(raw);
    r.truth = e.interest;
    r.new_labels = e.new_labels;
    r.had.assign(L_size, 0);
    for (graph::Offset k = t.history.indptr[e.user]; k < t.history.indptr[e.user + 1]; ++k) {
      const Index item = t.history.indices[k];
      for (graph::Offset q = data.item_labels.indptr[item]; q < data.item_labels.indptr[item + 1]; ++q)
        r.had[static_cast<std::size_t>(data.item_labels.indices[q])] = 1;
    }
    double never = 0, pi_never = 0, p_never = 0;
    for (std::size_t l = 0; l < L_size; ++l)
      if (!r.had[l]) {
        never += 1;
        pi_never += pi[l];
        p_never += r.p[l];
      }
    const auto u = static_cast<std::size_t>(e.user);
    r.x = {1.0, never / static_cast<double>(L), pi_never, std::log1p(static_cast<double>(last_events[u])), p_never,
           labelled[u] > 1 ? static_cast<double>(novel[u]) / (labelled[u] - 1) : 0.5};
    pairs.push_back(std::move(r));
  }

  // 1. The two rows.
  Means mix, pop;
  for (const Pair& r : pairs) {
    mix.add(interest_scores(r.truth, r.p, r.new_labels));
    pop.add(interest_scores(r.truth, rp, r.new_labels));
  }
  fmt::print("# {} -- validation period {} (begins at {} s), {} labels\n", path, v, data.periods.begin[v], L);
  fmt::print("mixture fit: {} (internal validation CE {:.4f})\n",
             mp.only_expert >= 0 ? fmt::format("fell back to {}", temporal::expert_name(mp.only_expert)) : "gated",
             mixture.fit.validation_chosen);
  fmt::print("pairs {} (with a new label {})\n", mix.n, mix.n_new);
  fmt::print("1. mixture           {}\n   recent_popularity {}\n", mix.str(), pop.str());
  fmt::print("   recent_popularity's top 3:");
  for (Index l : rp_top) fmt::print(" {} ({:.3f})", data.label_names[static_cast<std::size_t>(l)], rp[static_cast<std::size_t>(l)]);
  fmt::print("\n");

  // 2. Who wins which pairs, and what fills the mixture's slots.
  long long rp_only = 0, mix_only = 0, own_slots = 0, new_slots = 0;
  std::array<double, temporal::kExpertCount> own_mass{}, gate_mean{};
  double third = 0;
  for (const Pair& r : pairs) {
    if (r.new_labels.empty()) continue;
    const std::vector<Index> mt = top_k(r.p, 3);
    third += r.p[static_cast<std::size_t>(mt[2])];
    for (int k = 0; k < temporal::kExpertCount; ++k) gate_mean[static_cast<std::size_t>(k)] += gate(k, r.column);
    const std::set<Index> fresh(r.new_labels.begin(), r.new_labels.end()), mine(mt.begin(), mt.end()),
        theirs(rp_top.begin(), rp_top.end());
    bool rp_hits = false, mix_hits = false;
    for (Index l : rp_top) rp_hits |= fresh.count(l) && !mine.count(l);
    for (Index l : mt) mix_hits |= fresh.count(l) && !theirs.count(l);
    rp_only += rp_hits;
    mix_only += mix_hits;
    if (!rp_hits) continue;
    for (Index l : mt) {
      if (!r.had[static_cast<std::size_t>(l)]) {
        ++new_slots;
        continue;
      }
      ++own_slots;
      std::array<double, temporal::kExpertCount> c{};
      double total = 0;
      for (int k = 0; k < temporal::kExpertCount; ++k) {
        const double q = k == temporal::kNeural ? neural(l, r.column) : last.experts[static_cast<std::size_t>(k)](l, r.column);
        c[static_cast<std::size_t>(k)] = gate(k, r.column) * q;
        total += c[static_cast<std::size_t>(k)];
      }
      for (std::size_t k = 0; k < c.size(); ++k) own_mass[k] += c[k] / total;
    }
  }
  fmt::print("2. new-label pairs where recent_popularity's top 3 has a new label the mixture's lacks: {} ({:.3f}); "
             "the reverse: {} ({:.3f})\n",
             rp_only, rp_only / mix.n_new, mix_only, mix_only / mix.n_new);
  fmt::print("   the mixture's slots in the first: own labels {}, never-had labels {}; own slots' mass by expert:",
             own_slots, new_slots);
  for (int k = 0; k < temporal::kExpertCount; ++k)
    fmt::print(" {} {:.3f}", temporal::expert_name(k), own_mass[static_cast<std::size_t>(k)] / std::max<long long>(own_slots, 1));
  fmt::print("\n   mean gate on new-label pairs:");
  for (int k = 0; k < temporal::kExpertCount; ++k)
    fmt::print(" {} {:.3f}", temporal::expert_name(k), gate_mean[static_cast<std::size_t>(k)] / mix.n_new);
  fmt::print("; mean p of the mixture's third label {:.4f}\n", third / mix.n_new);

  // 3. Calibration: share and presence.
  double p_never = 0, t_never = 0, top_n = 0, top_p = 0, top_t = 0, top_present = 0;
  const std::vector<double> edges = {0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 1.01};
  std::vector<std::array<double, 4>> own(edges.size()), never(edges.size());  // n, sum p, sum t, present
  for (const Pair& r : pairs) {
    for (std::size_t l = 0; l < L_size; ++l) {
      if (!r.had[l]) {
        p_never += r.p[l];
        t_never += r.truth[l];
      }
      std::size_t b = 0;
      while (b + 2 < edges.size() && r.p[l] >= edges[b + 1]) ++b;
      auto& cell = (r.had[l] ? own : never)[b];
      cell[0] += 1;
      cell[1] += r.p[l];
      cell[2] += r.truth[l];
      cell[3] += r.truth[l] > 0;
    }
    if (r.new_labels.empty()) continue;
    for (Index l : rp_top)
      if (!r.had[static_cast<std::size_t>(l)]) {
        top_n += 1;
        top_p += r.p[static_cast<std::size_t>(l)];
        top_t += r.truth[static_cast<std::size_t>(l)];
        top_present += r.truth[static_cast<std::size_t>(l)] > 0;
      }
  }
  fmt::print("3. mass on never-had labels per pair: predicted {:.4f}, truth {:.4f}\n", p_never / mix.n, t_never / mix.n);
  fmt::print("   recent_popularity's top-3 labels a user never had (new-label pairs, {} cases): mixture p {:.4f}, "
             "truth share {:.4f}, present {:.3f}\n",
             top_n, top_p / top_n, top_t / top_n, top_present / top_n);
  fmt::print("   | p bucket | own: n | mean p | mean truth | present | never had: n | mean p | mean truth | present |\n");
  for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
    const auto cell = [](const std::array<double, 4>& c) {
      const double n = std::max(1.0, c[0]);
      return fmt::format("{:.0f} | {:.4f} | {:.4f} | {:.3f}", c[0], c[1] / n, c[2] / n, c[3] / n);
    };
    fmt::print("   | [{}, {}) | {} | {} |\n", edges[b], std::min(1.0, edges[b + 1]), cell(own[b]), cell(never[b]));
  }

  // 4. A uniform boost on never-had labels.
  fmt::print("4. p_l * c on never-had labels, renormalised:\n");
  for (double c : {0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0, 4.0}) {
    Means m;
    for (const Pair& r : pairs) m.add(interest_scores(r.truth, boosted(r, c), r.new_labels));
    fmt::print("   c {:<4} {}\n", c, m.str());
  }

  // 5. A per-pair boost on explore features, fitted by cross-entropy.
  fmt::print("5. p_l * exp(a . x) on never-had labels, a fitted by CE; x = (1, never-had fraction, population mass "
             "on them, log(1 + last-period events), the mixture's mass on them, past novelty rate)\n");
  for (int features : {1, kFeatures}) {
    const auto a = fit_boost(pairs, features, [](const Pair&) { return true; });
    Means m;
    for (const Pair& r : pairs) m.add(interest_scores(r.truth, boosted(r, std::exp(dot(a, r.x))), r.new_labels));
    fmt::print("   {} feature(s), in-sample: a = ({:.3f}); {}\n", features, fmt::join(a, ", "), m.str());
    for (Index fold = 0; fold < 2; ++fold) {
      const auto b = fit_boost(pairs, features, [fold](const Pair& r) { return r.user % 2 == fold; });
      Means h;
      for (const Pair& r : pairs)
        if (r.user % 2 != fold) h.add(interest_scores(r.truth, boosted(r, std::exp(dot(b, r.x))), r.new_labels));
      fmt::print("     fitted on users % 2 == {}, scored on the others: {}\n", fold, h.str());
    }
  }

  // 6. A separate slate of labels new to the user.
  double by_p = 0, by_pi = 0;
  for (const Pair& r : pairs) {
    if (r.new_labels.empty()) continue;
    std::vector<double> qp(L_size, -1.0), qpi(L_size, -1.0);
    for (std::size_t l = 0; l < L_size; ++l)
      if (!r.had[l]) {
        qp[l] = r.p[l];
        qpi[l] = rp[l];
      }
    const auto keep = [&](const std::vector<Index>& top) {
      std::vector<Index> out;
      for (Index l : top)
        if (!r.had[static_cast<std::size_t>(l)]) out.push_back(l);
      return out;
    };
    by_p += static_cast<double>(hits_at(keep(top_k(qp, 3)), r.new_labels, 3)) / static_cast<double>(r.new_labels.size());
    by_pi += static_cast<double>(hits_at(keep(top_k(qpi, 3)), r.new_labels, 3)) / static_cast<double>(r.new_labels.size());
  }
  fmt::print("6. a separate top 3 among never-had labels: new@3 {:.4f} by the mixture's p, {:.4f} by the population\n",
             by_p / mix.n_new, by_pi / mix.n_new);

  // 7. One top 3 with a quota: the mixture's top 3, its third slot given to the user's most
  // probable never-had label (by p) when none of the three is one.
  Means quota;
  for (const Pair& r : pairs) {
    std::vector<Index> top = top_k(r.p, 3);
    const bool has_new = std::any_of(top.begin(), top.end(), [&](Index l) { return !r.had[static_cast<std::size_t>(l)]; });
    Index best = -1;
    for (std::size_t l = 0; l < L_size; ++l)
      if (!r.had[l] && (best < 0 || r.p[l] > r.p[static_cast<std::size_t>(best)])) best = static_cast<Index>(l);
    if (!has_new && best >= 0 && top.size() == 3) top[2] = best;
    const std::vector<Index> truth = support(r.truth);
    quota.recall += recall_at(top, truth, 3);
    quota.n += 1;
    if (!r.new_labels.empty()) {
      quota.new_recall += static_cast<double>(hits_at(top, r.new_labels, 3)) / static_cast<double>(r.new_labels.size());
      quota.n_new += 1;
    }
  }
  fmt::print("7. the mixture's top 3 with one slot kept for a never-had label: recall@3 {:.4f} new@3 {:.4f}\n",
             quota.recall / quota.n, quota.new_recall / quota.n_new);
  return 0;
}
