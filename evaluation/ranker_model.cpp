#include "evaluation/ranker_model.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

#include <Eigen/Core>
#include <fmt/format.h>

#include "core/parallel.hpp"
#include "evaluation/item_knn.hpp"
#include "evaluation/metrics.hpp"
#include "evaluation/ranker.hpp"
#include "propagation/random_walk.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::evaluation {

namespace mf = matrix_factorization;
using graph::Index;

namespace {

// The five sources and the per-item features, fitted on one Training.
struct Sources {
  std::uint64_t id = 0;  // unique per fit (Ranker's per-thread candidate reuse)
  Index n_items = 0;
  graph::CsrMatrix history;
  std::shared_ptr<const graph::CsrMatrix> rp3, knn;   // shared with rp3beta's and item_knn's fits
  std::shared_ptr<const mf::AlsModel> tals, als;      // and temporal_als's and als's
  propagation::DenseMatrix interests;  // users x labels
  Eigen::MatrixXf item_labels;         // items x labels, each row a distribution (or zero)
  std::vector<float> recent, age, trend, item_events;
  std::vector<float> recent_scale, popularity_scale;  // log1p(count) / log1p(largest count)
  std::vector<float> activity;                        // per user, see fit_sources

  using Scores = std::array<std::vector<float>, kRankerSources>;

  // Every entry of `out` is written, so a scratch reused across users needs no clearing.
  void score(Index u, Scores& out) const {
    const auto n = static_cast<Eigen::Index>(n_items);
    for (auto& v : out) v.resize(static_cast<std::size_t>(n_items));
    Eigen::Map<Eigen::VectorXf>(out[0].data(), n).noalias() = tals->item * tals->user.row(u).transpose();
    Eigen::Map<Eigen::VectorXf>(out[1].data(), n).noalias() = als->item * als->user.row(u).transpose();
    item_knn_scores(history, *rp3, u, out[2]);
    item_knn_scores(history, *knn, u, out[3]);
    out[kRecentPopularitySource] = recent;
    Eigen::Map<Eigen::VectorXf>(out[5].data(), n).noalias() = item_labels * interests.row(u).transpose();
  }

  // Items seen before P that the user did not have, ascending (eligible_items' rule).
  // One merge of the user's ascending history against the items, no search per item.
  std::vector<Index> eligible(Index u) const {
    std::vector<Index> out;
    out.reserve(static_cast<std::size_t>(n_items));
    auto k = history.indptr[u];
    const auto e = history.indptr[u + 1];
    for (Index i = 0; i < n_items; ++i) {
      while (k < e && history.indices[k] < i) ++k;
      if (k < e && history.indices[k] == i) continue;  // the user had it
      if (item_events[static_cast<std::size_t>(i)] > 0) out.push_back(i);
    }
    return out;
  }

  CandidateSet candidates(Index u, Scores& scratch, int per_source) const {
    score(u, scratch);
    std::array<std::span<const float>, kRankerSources> views;
    for (int s = 0; s < kRankerSources; ++s) views[s] = scratch[s];
    return make_candidates(views, eligible(u), {age, trend, recent_scale, popularity_scale},
                           activity[static_cast<std::size_t>(u)], per_source);
  }
};

// The sources' settings.
constexpr float kTemporalAlsGamma = 0.9f, kTemporalAlsEta = 0.1f;
constexpr int kAlsFactors = 32;
constexpr float kAlsRegularization = 10.0f;
constexpr float kRp3Alpha = 1.0f, kRp3Beta = 0.3f;
constexpr int kRp3Neighbours = 100, kKnnNeighbours = 200;
constexpr float kPropagationAlpha = 0.85f, kPropagationGamma = 0.9f, kPropagationMu = 0.5f;

std::vector<std::string> ranker_sources_keys(const LibraryModelOptions& o) {
  return {temporal_als_key(o, kTemporalAlsGamma, kTemporalAlsEta), als_key(o, kAlsFactors, kAlsRegularization, nullptr),
          rp3beta_key(kRp3Alpha, kRp3Beta, kRp3Neighbours), item_knn_key(kKnnNeighbours),
          propagation_key(o, kPropagationAlpha, kPropagationGamma, kPropagationMu, nullptr)};
}

Sources fit_sources(const Training& t, const LibraryModelOptions& o) {
  static std::atomic<std::uint64_t> fitted{0};
  Sources s;
  s.id = ++fitted;
  s.n_items = t.n_items;
  s.history = t.history;
  const std::size_t P = t.period;
  const auto n_items = static_cast<std::size_t>(t.n_items);
  // The settings are those of ranker_sources_keys (wanted by the shared fits).
  s.tals = shared_temporal_als(t, o, kTemporalAlsGamma, kTemporalAlsEta);
  s.als = shared_als(t, o, kAlsFactors, kAlsRegularization, nullptr);
  s.rp3 = shared_rp3beta(t, o.shared_fits.get(), kRp3Alpha, kRp3Beta, kRp3Neighbours);
  s.knn = shared_item_knn(t, o.shared_fits.get(), kKnnNeighbours);
  const std::shared_ptr<const PropagationFit> propagated =
      shared_propagation(t, o, kPropagationAlpha, kPropagationGamma, kPropagationMu, nullptr);
  s.interests = propagated->interests;
  const propagation::DenseMatrix& item_scores = propagated->item_labels;
  s.item_labels.setZero(t.n_items, t.n_labels);
  for (Index i = 0; i < t.n_items; ++i) {
    const auto b = t.item_labels.indptr[i], e = t.item_labels.indptr[i + 1];
    if (e > b) {
      for (auto k = b; k < e; ++k) s.item_labels(i, t.item_labels.indices[k]) = 1.0f / static_cast<float>(e - b);
    } else if (const float sum = item_scores.row(i).sum(); sum > 0) {
      s.item_labels.row(i) = item_scores.row(i) / sum;  // labels from propagation
    }
  }

  // Per period counts and first periods.
  std::vector<float> before(n_items, 0.0f);
  s.recent.assign(n_items, 0.0f);
  s.age.assign(n_items, 0.0f);
  std::vector<std::size_t> first(n_items, P);
  for (std::size_t q = 0; q < P; ++q)
    for (std::size_t k = t.period_first[q]; k < t.period_first[q + 1]; ++k) {
      const auto i = static_cast<std::size_t>(t.events.item[k]);
      first[i] = std::min(first[i], q);
      if (q + 1 == P) s.recent[i] += 1;
      if (q + 2 == P) before[i] += 1;
    }
  s.trend.resize(n_items);
  for (std::size_t i = 0; i < n_items; ++i) {
    if (first[i] < P)
      s.age[i] = static_cast<float>(std::log1p(static_cast<double>(P - first[i])) / std::log1p(static_cast<double>(P)));
    s.trend[i] = static_cast<float>(std::log((1.0 + s.recent[i]) / (1.0 + before[i])));
  }
  s.item_events.assign(t.item_events.begin(), t.item_events.end());
  // Counts on one log scale for every user (the per-candidate min-max of the recent
  // popularity source loses how popular the candidates are in absolute terms).
  auto log_scale = [](const std::vector<float>& counts) {
    double most = 0;
    for (float c : counts) most = std::max(most, static_cast<double>(c));
    std::vector<float> out(counts.size(), 0.0f);
    if (most > 0)
      for (std::size_t i = 0; i < counts.size(); ++i)
        out[i] = static_cast<float>(std::log1p(static_cast<double>(counts[i])) / std::log1p(most));
    return out;
  };
  s.recent_scale = log_scale(s.recent);
  s.popularity_scale = log_scale(s.item_events);
  // activity = log1p(items the user had) / log1p(the most any user had).
  std::vector<float> had(static_cast<std::size_t>(t.n_users), 0.0f);
  for (Index u = 0; u < t.n_users; ++u)
    had[static_cast<std::size_t>(u)] = static_cast<float>(t.history.indptr[u + 1] - t.history.indptr[u]);
  s.activity = log_scale(had);
  return s;
}

EvaluationData as_data(const Training& t) {
  EvaluationData d;
  d.n_users = t.n_users;
  d.n_items = t.n_items;
  d.n_labels = t.n_labels;
  d.slices = t.slices;
  d.events = t.events;
  d.period_first = t.period_first;
  d.item_labels = t.item_labels;
  return d;
}

using Key = std::pair<std::size_t, std::uint64_t>;

struct Cache {
  LibraryModelOptions library;
  RankerOptions options;
  std::mutex mutex;
  std::map<Key, std::shared_ptr<const Sources>> sources;
  // A fit's examples: the periods' own, held, and pointers to them in the order fitted.
  struct Examples {
    std::vector<std::shared_ptr<const std::vector<RankingExample>>> parts;
    std::vector<const RankingExample*> all;
    bool empty() const { return all.empty(); }
  };
  std::map<Key, std::shared_ptr<const std::vector<RankingExample>>> by_period;
  std::map<Key, std::shared_ptr<const Examples>> examples;

  template <class V>
  static void bound(std::map<Key, V>& m, std::size_t most) {
    while (m.size() > most) m.erase(m.begin());  // the earliest period first
  }

  std::shared_ptr<const Sources> sources_of(const Training& t) {
    const Key key{t.period, training_fingerprint(t)};
    if (auto it = sources.find(key); it != sources.end()) return it->second;
    auto s = std::make_shared<const Sources>(fit_sources(t, library));
    sources.emplace(key, s);
    bound(sources, static_cast<std::size_t>(options.training_periods) + 2);
    return s;
  }

  // The listwise examples of training period q < the period of `d`'s data: q's users with
  // new items (at most max_users_per_period, evenly spaced), their candidates from the
  // sources fitted before q. The fits of the next training_periods periods all use them, so
  // they are made once, keyed by q and the events up to q's end (all they depend on).
  std::shared_ptr<const std::vector<RankingExample>> period_examples(const EvaluationData& d, std::size_t q,
                                                                     const Training& next) {
    const Key key{q, training_fingerprint(next)};
    if (auto it = by_period.find(key); it != by_period.end()) return it->second;
    auto out = std::make_shared<std::vector<RankingExample>>();
    const Training tq = make_training(d, q);
    const std::shared_ptr<const Sources> s = sources_of(tq);
    std::vector<EvaluatedPair> pairs = evaluated_pairs(d, tq);
    std::erase_if(pairs, [](const EvaluatedPair& e) { return e.items.empty(); });
    const auto most = static_cast<std::size_t>(options.max_users_per_period);
    if (pairs.size() > most) {  // evenly spaced, by user
      std::vector<EvaluatedPair> kept;
      for (std::size_t j = 0; j < most; ++j) kept.push_back(std::move(pairs[j * pairs.size() / most]));
      pairs = std::move(kept);
    }
    std::vector<RankingExample> made(pairs.size());
    core::ParallelFor o;
    o.threads = library.threads;
    o.schedule = core::Schedule::dynamic;
    o.chunk = 8;
    o.serial_nested = true;
    core::parallel_for_with_state(
        static_cast<std::int64_t>(pairs.size()), o, [] { return Sources::Scores{}; },
        [&](std::int64_t j, Sources::Scores& scratch) {
          const EvaluatedPair& e = pairs[static_cast<std::size_t>(j)];
          RankingExample& ex = made[static_cast<std::size_t>(j)];
          ex.candidates = s->candidates(e.user, scratch, options.per_source);
          for (Index i : ex.candidates.items)
            ex.positive.push_back(std::binary_search(e.items.begin(), e.items.end(), i) ? 1 : 0);
        });
    for (RankingExample& ex : made)
      if (std::any_of(ex.positive.begin(), ex.positive.end(), [](auto y) { return y != 0; }))
        out->push_back(std::move(ex));
    by_period.emplace(key, out);
    bound(by_period, static_cast<std::size_t>(options.training_periods) + 1);
    return out;
  }

  // The listwise examples of every training period before t.period, the latest first.
  std::shared_ptr<const Examples> examples_of(const Training& t) {
    const Key key{t.period, training_fingerprint(t)};
    if (auto it = examples.find(key); it != examples.end()) return it->second;
    auto out = std::make_shared<Examples>();
    const EvaluationData d = as_data(t);
    for (int back = 1; back <= options.training_periods; ++back) {
      if (t.period < static_cast<std::size_t>(back) + 1) break;  // q >= 1
      const std::size_t q = t.period - static_cast<std::size_t>(back);
      auto part = back == 1 ? period_examples(d, q, t) : period_examples(d, q, make_training(d, q + 1));
      for (const RankingExample& ex : *part) out->all.push_back(&ex);
      out->parts.push_back(std::move(part));
    }
    examples.emplace(key, out);
    bound(examples, 2);
    return out;
  }
};

class Ranker : public FittedModel {
 public:
  Ranker(std::shared_ptr<const Sources> s, Eigen::VectorXd w, int per_source, std::string note)
      : s_(std::move(s)), w_(std::move(w)), per_source_(per_source), note_(std::move(note)) {}

  void items(Index u, std::span<float> out) const override {
    // The evaluator scores every setting of the grid for a user in a row on one thread
    // (evaluate.cpp, score_models): the candidates, most of a call's cost, are the same
    // for each, so the last user's are kept per thread.
    // The scores' scratch (six catalogue-long vectors) is kept per thread too.
    struct Last {
      std::uint64_t sources = 0;
      Index user = -1;
      int per_source = 0;
      CandidateSet candidates;
      Sources::Scores scratch;
    };
    thread_local Last last;
    if (last.sources != s_->id || last.user != u || last.per_source != per_source_) {
      last.candidates = s_->candidates(u, last.scratch, per_source_);
      last.sources = s_->id;
      last.user = u;
      last.per_source = per_source_;
    }
    const CandidateSet& c = last.candidates;
    if (c.items.empty()) return;
    const Eigen::VectorXd score = c.features * w_;
    // Every candidate above every other item.
    std::fill(out.begin(), out.end(), static_cast<float>(score.minCoeff() - 1.0));
    for (std::size_t j = 0; j < c.items.size(); ++j)
      out[static_cast<std::size_t>(c.items[j])] = static_cast<float>(score(static_cast<Eigen::Index>(j)));
  }
  std::string note() const override { return note_; }

 private:
  std::shared_ptr<const Sources> s_;
  Eigen::VectorXd w_;
  int per_source_;
  std::string note_;
};

}  // namespace

ModelSpec ranker_model(const LibraryModelOptions& library, const RankerOptions& options) {
  DRIFTREC_THROW_IF_NOT(options.per_source >= 1 && options.training_periods >= 1 && options.max_users_per_period >= 1 &&
                            !options.l2.empty(),
                        "ranker: per_source, training_periods and max_users_per_period must be at least 1, "
                        "and the l2 grid must not be empty");
  for (double l2 : options.l2) DRIFTREC_THROW_IF_NOT(l2 > 0, "ranker: every l2 of the grid must be positive");
  ModelSpec m;
  m.name = "ranker";
  m.item = true;
  m.select_by_recall = true;
  // Validation at V needs sources fitted on the data before V - training_periods (>= 1).
  m.min_training_periods = static_cast<std::size_t>(options.training_periods) + 1;
  m.grid.clear();
  for (double l2 : options.l2) m.grid.push_back({{"source", -1}, {"l2", l2}});
  if (options.sources_alone)
    for (int s = 0; s < kRankerSources; ++s) m.grid.push_back({{"source", s}, {"l2", 0}});
  auto cache = std::make_shared<Cache>();
  if (library.shared_fits)
    for (const std::string& key : ranker_sources_keys(library)) library.shared_fits->want(key);
  cache->library = library;
  cache->options = options;
  m.fit = [cache](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    std::lock_guard lock(cache->mutex);
    const auto sources = cache->sources_of(t);
    Eigen::VectorXd w = Eigen::VectorXd::Zero(kRankerFeatures);
    std::string note;
    const int source = static_cast<int>(param(p, "source"));
    DRIFTREC_THROW_IF_NOT(source >= -1 && source < kRankerSources, "ranker: source must be -1 (learned) or a source");
    if (source >= 0) {
      w(rank_feature(source)) = 1.0;  // the source's own order
    } else if (const auto examples = cache->examples_of(t); examples->empty()) {
      w(rank_feature(kRecentPopularitySource)) = 1.0;
      note = "no user had a new item among its candidates in the training periods; ranked by recent popularity";
    } else {
      const ListwiseFit f = fit_listwise(examples->all, param(p, "l2"), 50, cache->library.threads);
      w = f.weights;
      if (f.gradient_norm > 1e-4)
        note = fmt::format("the listwise fit stopped after {} Newton steps with |gradient| {:.3g}", f.iterations,
                           f.gradient_norm);
    }
    return std::make_unique<Ranker>(sources, std::move(w), cache->options.per_source, std::move(note));
  };
  return m;
}

const char* ranker_setting_name(const Params& p) {
  const int source = static_cast<int>(param(p, "source"));
  return source < 0 ? "learned" : kRankerSourceNames[static_cast<std::size_t>(source)];
}

RankerChoice choose_ranker_setting(const EvaluationData& data, const ModelSpec& ranker, std::size_t validation,
                                   int k, int threads) {
  DRIFTREC_THROW_IF_NOT(k >= 1, "ranker: the recall cut-off must be at least 1");
  const Training t = make_training(data, validation);
  std::vector<EvaluatedPair> pairs = evaluated_pairs(data, t);
  std::erase_if(pairs, [](const EvaluatedPair& e) { return e.items.empty(); });
  RankerChoice c;
  c.params = ranker.grid.front();
  c.pairs = pairs.size();
  c.recall = std::numeric_limits<double>::quiet_NaN();
  const std::vector<std::uint8_t> candidates = candidate_flags(t);
  for (const Params& p : ranker.grid) {
    const std::unique_ptr<FittedModel> fitted = ranker.fit(t, p);
    std::vector<double> recall(pairs.size(), 0.0);
    core::ParallelFor o;
    o.threads = threads;
    o.schedule = core::Schedule::dynamic;
    core::parallel_for_with_state(
        static_cast<std::int64_t>(pairs.size()), o,
        [&] { return std::vector<float>(static_cast<std::size_t>(t.n_items)); },
        [&](std::int64_t j, std::vector<float>& scores) {
          const EvaluatedPair& e = pairs[static_cast<std::size_t>(j)];
          std::fill(scores.begin(), scores.end(), 0.0f);
          fitted->items(e.user, scores);
          const std::vector<Index> top = top_k_unseen(scores, candidates, seen_items(t, e.user), k);
          recall[static_cast<std::size_t>(j)] = recall_at(top, e.items, k);
        });
    double mean = std::numeric_limits<double>::quiet_NaN();
    if (!pairs.empty()) {
      mean = 0;
      for (double r : recall) mean += r;  // serial sum: the same for any thread count
      mean /= static_cast<double>(pairs.size());
    }
    c.tried.emplace_back(p, mean);
    if (!std::isnan(mean) && (std::isnan(c.recall) || mean > c.recall)) {
      c.recall = mean;
      c.params = p;
    }
  }
  return c;
}

}  // namespace driftrec::evaluation
