#include "evaluation/evaluate.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>

#include <sys/resource.h>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "evaluation/baselines.hpp"
#include "evaluation/metrics.hpp"
#include "io/store_info.hpp"

namespace driftrec::evaluation {

using graph::Index;

namespace {

const char* const kInterestMetrics[] = {"cross_entropy", "kl", "recall@3", "ndcg@3",
                                        "new_label_recall@3"};
const char* const kTruthMetrics[] = {"cross_entropy", "kl"};

// Every metric of one model on a list of pairs (one Series per metric).
struct ModelSeries {
  std::vector<Series> interest;  // kInterestMetrics order
  std::vector<Series> item;      // per K: recall, ndcg, hr
  std::vector<Series> truth;     // kTruthMetrics order
  std::int64_t fallbacks = 0;

  ModelSeries(const ModelSpec& spec, std::size_t n, std::size_t n_ks, bool with_truth) {
    auto make = [n](std::size_t count) {
      return std::vector<Series>(count, Series{std::vector<double>(n, 0.0), std::vector<std::uint8_t>(n, 0)});
    };
    if (spec.interest) interest = make(5);
    if (spec.item) item = make(3 * n_ks);
    if (spec.interest && with_truth) truth = make(2);
  }
};

void set(Series& s, std::size_t i, double v) {
  s.value[i] = v;
  s.defined[i] = 1;
}

double mean_defined(const Series& s) {
  double sum = 0;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < s.value.size(); ++i)
    if (s.defined[i]) {
      sum += s.value[i];
      ++n;
    }
  return n > 0 ? sum / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
}

// Scores fitted models of one row (the settings of its grid, or its one fit) on the pairs of
// one period, in one pass over the pairs: the period's candidate items are flagged once, and a
// model may reuse per-user work between consecutive calls for the same user on the same
// thread (the ranker's candidates are the same for every setting of its grid).
// Every (model, pair) slot is computed as it would be alone, so the series are the same.
std::vector<ModelSeries> score_models(const ModelSpec& spec, const std::vector<const FittedModel*>& fitted,
                                      const Training& t, const std::vector<EvaluatedPair>& pairs,
                                      const std::vector<float>& popularity, const std::vector<int>& ks,
                                      const PlantedTruth* truth, int threads) {
  const std::size_t n = pairs.size();
  std::vector<ModelSeries> out;
  for (std::size_t g = 0; g < fitted.size(); ++g) out.emplace_back(spec, n, ks.size(), truth != nullptr);
  const int max_k = *std::max_element(ks.begin(), ks.end());
  const std::vector<std::uint8_t> candidates = spec.item ? candidate_flags(t) : std::vector<std::uint8_t>{};
  // Pairs cost whatever the model's scoring costs (a sequence model's forward pass, a
  // similarity row sum): dynamic schedule, small chunks. Each pair writes only its own
  // slots, so the series do not depend on the schedule.
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.chunk = 4;
  struct Scratch {
    std::vector<float> labels, items, ranking;
    std::vector<double> order;
  };
  std::vector<std::atomic<std::int64_t>> fallbacks(fitted.size());
  core::parallel_for_with_state(
      static_cast<std::int64_t>(n), o,
      [&] {
        return Scratch{std::vector<float>(static_cast<std::size_t>(t.n_labels)),
                       std::vector<float>(static_cast<std::size_t>(t.n_items)),
                       std::vector<float>(static_cast<std::size_t>(t.n_labels)), {}};
      },
      [&](std::int64_t pair, Scratch& scratch) {
        const auto i = static_cast<std::size_t>(pair);
        std::vector<float>& labels = scratch.labels;
        std::vector<float>& items = scratch.items;
        const EvaluatedPair& e = pairs[i];
        if (spec.interest)
          for (std::size_t g = 0; g < fitted.size(); ++g) {
            ModelSeries& s_out = out[g];
            std::fill(labels.begin(), labels.end(), 0.0f);
            fitted[g]->interest(e.user, labels);
            const bool any = std::any_of(labels.begin(), labels.end(), [](float v) { return v > 0; });
            if (!any) {
              labels = popularity;
              fallbacks[g].fetch_add(1, std::memory_order_relaxed);
            }
            const std::vector<double> p = floored_distribution(labels);
            if (e.has_interest) {
              std::vector<double>& order = scratch.order;
              order.clear();
              std::fill(scratch.ranking.begin(), scratch.ranking.end(), 0.0f);
              if (any && fitted[g]->label_ranking(e.user, scratch.ranking))
                order.assign(scratch.ranking.begin(), scratch.ranking.end());
              const InterestScores s = interest_scores(e.interest, p, e.new_labels, order);
              set(s_out.interest[0], i, s.cross_entropy);
              set(s_out.interest[1], i, s.kl);
              set(s_out.interest[2], i, s.recall3);
              set(s_out.interest[3], i, s.ndcg3);
              if (s.has_new_label_recall) set(s_out.interest[4], i, s.new_label_recall3);
            }
            if (truth) {
              auto it = truth->interests.find({e.period, e.user});
              if (it != truth->interests.end()) {
                set(s_out.truth[0], i, cross_entropy(it->second, p));
                set(s_out.truth[1], i, kl_divergence(it->second, p));
              }
            }
          }
        if (spec.item && !e.items.empty()) {
          const std::span<const Index> seen = seen_items(t, e.user);
          for (std::size_t g = 0; g < fitted.size(); ++g) {
            ModelSeries& s_out = out[g];
            std::fill(items.begin(), items.end(), 0.0f);
            fitted[g]->items(e.user, items);
            const std::vector<Index> top = top_k_unseen(items, candidates, seen, max_k);
            for (std::size_t k = 0; k < ks.size(); ++k) {
              set(s_out.item[3 * k], i, recall_at(top, e.items, ks[k]));
              set(s_out.item[3 * k + 1], i, ndcg_at(top, e.items, ks[k]));
              set(s_out.item[3 * k + 2], i, hit_rate_at(top, e.items, ks[k]));
            }
          }
        }
      });
  for (std::size_t g = 0; g < fitted.size(); ++g) out[g].fallbacks = fallbacks[g].load();
  return out;
}

// The evaluate() running on this thread and the stage it is in, for fit_progress.
struct FitProgressContext {
  const EvaluateOptions* options = nullptr;
  std::string stage;
  std::uint64_t done = 0, total = 0;
};
thread_local FitProgressContext* fit_context = nullptr;

// Sets fit_context for the scope of one evaluate() call.
class FitContextScope {
 public:
  explicit FitContextScope(FitProgressContext& c) : previous_(fit_context) { fit_context = &c; }
  ~FitContextScope() { fit_context = previous_; }
  FitContextScope(const FitContextScope&) = delete;
  FitContextScope& operator=(const FitContextScope&) = delete;

 private:
  FitProgressContext* previous_;
};

nlohmann::json params_json(const Params& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : p) j[k] = v;
  return j;
}

}  // namespace

void fit_progress(const char* what, std::uint64_t done, std::uint64_t total) {
  const FitProgressContext* c = fit_context;
  if (c == nullptr || !c->options->progress) return;
  const std::string stage = fmt::format("{}: {} {}/{}", c->stage, what, done, total);
  c->options->progress(stage.c_str(), c->done, c->total);
}

std::size_t min_training_periods(const std::vector<ModelSpec>& models) {
  std::size_t most = 1;
  for (const ModelSpec& m : models) most = std::max(most, m.min_training_periods);
  return most;
}

EvaluationReport evaluate(const EvaluationData& data, const std::vector<ModelSpec>& models,
                          const EvaluateOptions& options) {
  return assemble_report(data, models, options, evaluate_models(data, models, options));
}

ModelOutcomes evaluate_models(const EvaluationData& data, const std::vector<ModelSpec>& models,
                              const EvaluateOptions& options, const std::vector<bool>& selected) {
  if (models.empty()) throw InputError("evaluate: no models to evaluate");
  if (options.ks.empty()) throw InputError("--k: expected at least one cut-off");
  for (int k : options.ks)
    if (k < 1) throw InputError(fmt::format("--k: expected cut-offs of at least 1, got {}", k));
  if (options.resamples < 1)
    throw InputError(fmt::format("resamples: expected at least 1, got {}", options.resamples));
  if (options.threads < 0)
    throw InputError(fmt::format("threads: expected 0 (OpenMP's default) or a positive count, got {}",
                                 options.threads));
  for (const ModelSpec& m : models)
    if (m.grid.empty() || !m.fit || (!m.interest && !m.item))
      throw std::invalid_argument(fmt::format("model '{}' has no grid, no fit or no task", m.name));
  if (!selected.empty() && selected.size() != models.size())
    throw std::invalid_argument(fmt::format("evaluate_models: {} selection flags for {} models", selected.size(),
                                            models.size()));
  auto chosen_model = [&](std::size_t m) { return selected.empty() || selected[m]; };

  const Split split = make_split(data.periods.size(), options.test_periods, min_training_periods(models));
  ModelOutcomes out;
  out.models.resize(models.size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    out.models[m].evaluated = chosen_model(m);
    if (out.models[m].evaluated) out.models[m].period_notes.resize(split.test.size());
  }

  std::uint64_t total_fits = 0, done = 0;
  for (std::size_t m = 0; m < models.size(); ++m)
    if (chosen_model(m)) total_fits += (models[m].grid.size() > 1 ? models[m].grid.size() : 0) + split.test.size();
  FitProgressContext context{&options, {}, 0, total_fits};
  const FitContextScope scope(context);
  auto progress = [&](const std::string& stage) {
    context.stage = stage;
    context.done = done;
    if (options.progress) options.progress(stage.c_str(), done, total_fits);
  };

  auto clock = [] { return std::chrono::steady_clock::now(); };
  auto cpu = [] {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec); };
    return s(u.ru_utime) + s(u.ru_stime);
  };
  auto since = [&](auto t0) { return std::chrono::duration<double>(clock() - t0).count(); };

  // Validation: tune every model with more than one setting.
  {
    bool any_grid = false;
    for (std::size_t m = 0; m < models.size(); ++m) any_grid |= chosen_model(m) && models[m].grid.size() > 1;
    Training t;
    std::vector<EvaluatedPair> pairs;
    std::vector<float> popularity;
    if (any_grid) {
      t = make_training(data, split.validation);
      pairs = evaluated_pairs(data, t);
      popularity = popularity_interest(t);
    }
    for (std::size_t m = 0; m < models.size(); ++m) {
      if (!chosen_model(m)) continue;
      const ModelSpec& spec = models[m];
      ModelOutcome& o = out.models[m];
      o.chosen = spec.grid.front();
      if (spec.grid.size() == 1) continue;
      const char* metric_name = spec.interest ? "cross_entropy" : nullptr;
      const auto largest_k = static_cast<std::size_t>(std::max_element(options.ks.begin(), options.ks.end()) - options.ks.begin());
      const std::size_t item_series = spec.select_by_recall ? 3 * largest_k : 1;
      const std::string item_metric = spec.select_by_recall ? fmt::format("recall@{}", options.ks[largest_k])
                                                            : fmt::format("ndcg@{}", options.ks.front());
      nlohmann::json tried = nlohmann::json::array();
      double best = std::numeric_limits<double>::quiet_NaN();
      // Every setting fitted first, then scored in one pass (score_models).
      std::vector<std::unique_ptr<FittedModel>> fits;
      std::vector<const FittedModel*> views;
      const auto t0 = clock();
      const double c0 = cpu();
      for (const Params& p : spec.grid) {
        progress(fmt::format("validate {}", spec.name));
        fits.push_back(spec.fit(t, p));
        views.push_back(fits.back().get());
        ++done;
      }
      progress(fmt::format("validate {}: scoring", spec.name));
      const std::vector<ModelSeries> scored =
          score_models(spec, views, t, pairs, popularity, options.ks, nullptr, options.threads);
      fits.clear();
      o.seconds += since(t0);
      o.cpu_seconds += cpu() - c0;
      for (std::size_t g = 0; g < spec.grid.size(); ++g) {
        const Params& p = spec.grid[g];
        const ModelSeries& s = scored[g];
        const double v = spec.interest ? mean_defined(s.interest[0]) : mean_defined(s.item[item_series]);
        tried.push_back({{"params", params_json(p)},
                         {"metric", metric_name ? metric_name : item_metric},
                         {"value", std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v)}});
        const bool better = spec.interest ? v < best : v > best;
        if (!std::isnan(v) && (std::isnan(best) || better)) {
          best = v;
          o.chosen = p;
        }
      }
      if (std::isnan(best))
        o.validation_note = fmt::format("{}: no validation pair defines the selection metric; "
                                        "kept the first setting", spec.name);
      o.validation = tried;
    }
  }

  // Test periods: refit each model on the data before the period and score its pairs.
  std::vector<std::vector<ModelSeries>> per_period(split.test.size());
  for (std::size_t q = 0; q < split.test.size(); ++q) {
    const Training t = make_training(data, split.test[q]);
    const std::vector<EvaluatedPair> pairs = evaluated_pairs(data, t);
    const std::vector<float> popularity = popularity_interest(t);
    for (const auto& e : pairs) out.pairs.push_back({e.user, e.period});
    for (std::size_t m = 0; m < models.size(); ++m) {
      if (!chosen_model(m)) {
        per_period[q].emplace_back(ModelSeries{models[m], 0, 0, false});
        continue;
      }
      ModelOutcome& o = out.models[m];
      progress(fmt::format("test {}", models[m].name));
      const auto t0 = clock();
      const double c0 = cpu();
      auto fitted = models[m].fit(t, o.chosen);
      o.period_notes[q] = fitted->note();
      per_period[q].push_back(std::move(
          score_models(models[m], {fitted.get()}, t, pairs, popularity, options.ks, options.truth, options.threads)
              .front()));
      o.fallbacks += per_period[q].back().fallbacks;
      o.seconds += since(t0);
      o.cpu_seconds += cpu() - c0;
      ++done;
    }
  }

  // Each row's series pools the periods in order; rows in report order (assemble_report).
  auto pooled = [&](std::size_t m, auto member, std::size_t j) {
    Series s;
    for (std::size_t q = 0; q < split.test.size(); ++q) {
      const Series& x = (per_period[q][m].*member)[j];
      s.value.insert(s.value.end(), x.value.begin(), x.value.end());
      s.defined.insert(s.defined.end(), x.defined.begin(), x.defined.end());
    }
    return s;
  };
  for (std::size_t m = 0; m < models.size(); ++m) {
    if (!chosen_model(m)) continue;
    const ModelSpec& spec = models[m];
    std::vector<Series>& series = out.models[m].series;
    if (spec.interest)
      for (std::size_t j = 0; j < 5; ++j) series.push_back(pooled(m, &ModelSeries::interest, j));
    if (spec.item)
      for (std::size_t j = 0; j < 3 * options.ks.size(); ++j) series.push_back(pooled(m, &ModelSeries::item, j));
    if (spec.interest && options.truth)
      for (std::size_t j = 0; j < 2; ++j) series.push_back(pooled(m, &ModelSeries::truth, j));
    for (auto& period : per_period) period[m] = ModelSeries{spec, 0, 0, false};  // pooled: free them
  }
  return out;
}

EvaluationReport assemble_report(const EvaluationData& data, const std::vector<ModelSpec>& models,
                                 const EvaluateOptions& options, ModelOutcomes outcomes) {
  if (outcomes.models.size() != models.size())
    throw std::invalid_argument(fmt::format("assemble_report: {} outcomes for {} models", outcomes.models.size(),
                                            models.size()));
  const Split split = make_split(data.periods.size(), options.test_periods, min_training_periods(models));
  EvaluationReport r;
  r.store = data.store;
  r.slicing = data.slicing;
  r.ks = options.ks;
  r.validation_period = split.validation;
  r.test_period_index = split.test;
  for (std::size_t p : split.test)
    r.test_periods.push_back(io::format_time(data.periods.begin[p]) + "/" + io::format_time(data.periods.end[p]));
  r.pairs = std::move(outcomes.pairs);

  std::uint64_t total_fits = 0;
  for (const ModelSpec& m : models) total_fits += (m.grid.size() > 1 ? m.grid.size() : 0) + split.test.size();
  if (options.progress) options.progress("bootstrap", total_fits, total_fits);

  for (std::size_t m = 0; m < models.size(); ++m) {
    const ModelOutcome& o = outcomes.models[m];
    if (!o.evaluated) throw std::invalid_argument(fmt::format("assemble_report: model '{}' not evaluated", models[m].name));
    if (!o.validation.is_null()) r.validation[models[m].name] = o.validation;
    if (!o.validation_note.empty()) r.notes.push_back(o.validation_note);
    r.hyperparameters[models[m].name] = params_json(o.chosen);
  }
  for (std::size_t q = 0; q < split.test.size(); ++q)
    for (std::size_t m = 0; m < models.size(); ++m)
      if (const std::string& note = outcomes.models[m].period_notes.at(q); !note.empty())
        r.notes.push_back(fmt::format("{} (period {}): {}", models[m].name, r.test_periods[q], note));

  // Rows in model order, each with its series.
  for (std::size_t m = 0; m < models.size(); ++m) {
    const ModelSpec& spec = models[m];
    ModelOutcome& o = outcomes.models[m];
    const std::size_t first_row = r.rows.size();
    if (spec.interest) {
      for (const char* metric : kInterestMetrics) r.rows.push_back({spec.name, "interest", metric, {}});
      r.fallbacks[spec.name] = o.fallbacks;
    }
    if (spec.item)
      for (int k : options.ks)
        for (const char* name : {"recall", "ndcg", "hr"})
          r.rows.push_back({spec.name, "item", fmt::format("{}@{}", name, k), {}});
    if (spec.interest && options.truth)
      for (const char* metric : kTruthMetrics) r.rows.push_back({spec.name, "interest_truth", metric, {}});
    if (o.series.size() != r.rows.size() - first_row)
      throw std::invalid_argument(fmt::format("assemble_report: model '{}' has {} series for {} rows", spec.name,
                                              o.series.size(), r.rows.size() - first_row));
    for (Series& s : o.series) {
      if (s.value.size() != r.pairs.size() || s.defined.size() != r.pairs.size())
        throw std::invalid_argument(fmt::format("assemble_report: model '{}': a series of {} values for {} pairs",
                                                spec.name, s.value.size(), r.pairs.size()));
      r.series.push_back(std::move(s));
    }
  }
  for (std::size_t m = 0; m < models.size(); ++m) {
    r.seconds[models[m].name] = outcomes.models[m].seconds;
    r.cpu_seconds[models[m].name] = outcomes.models[m].cpu_seconds;
  }
  const std::vector<Estimate> est = bootstrap(r.series, r.pairs.size(), options.seed, options.resamples, options.threads);
  for (std::size_t i = 0; i < r.rows.size(); ++i) r.rows[i].estimate = est[i];
  if (options.progress) options.progress("done", total_fits, total_fits);
  return r;
}

}  // namespace driftrec::evaluation
