#include "pipeline/train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "evaluation/ranker_model.hpp"
#include "evaluation/split.hpp"
#include "io/result_name.hpp"
#include "io/sequence_result.hpp"
#include "temporal/mixture_fit.hpp"

namespace driftrec::pipeline {

temporal::History store_history(const io::Store& store) {
  temporal::History h;
  h.n_users = store.n_users();
  h.n_items = store.n_items();
  h.n_labels = store.n_labels();
  for (std::size_t k = 0; k < store.n_slices(); ++k) h.slices.push_back(checked_slice(store, k));
  h.events = store.events();
  h.period_first = graph::period_offsets(store.periods(), h.events.time);
  h.item_labels = store.item_labels();
  return h;
}

namespace {

// The item model recommend --model ranks by (TrainRequest::items): the hybrid's recall@20
// on the last period was measured by train_history; the ranker's is measured here the same
// way (fitted on the periods before the last, scored on its users' new items).
void choose_items(const io::Store& store, const TrainRequest& q, TrainSummary& out, io::SequenceResult& r) {
  out.validation_recall_ranker = std::numeric_limits<double>::quiet_NaN();
  r.validation_recall_hybrid = out.interest_weight.recall;
  if (q.items == "hybrid") return;
  const evaluation::EvaluationData data = evaluation::load_evaluation_data(store);
  evaluation::LibraryModelOptions lo;
  lo.threads = q.threads;
  const evaluation::ModelSpec spec = evaluation::ranker_model(lo);
  const std::size_t n = data.slices.size();
  if (n < spec.min_training_periods + 1) {
    if (q.items == "ranker")
      throw InputError(fmt::format("items: the ranker needs at least {} periods; {} has {}",
                                   spec.min_training_periods + 1, q.store, n));
    return;  // best: the hybrid
  }
  if (q.progress) q.progress("item ranker", 0, 1);
  const evaluation::RankerChoice c = evaluation::choose_ranker_setting(data, spec, n - 1, 20, q.threads);
  r.ranker_source = evaluation::param(c.params, "source");
  r.ranker_l2 = evaluation::param(c.params, "l2");
  r.validation_recall_ranker = std::isnan(c.recall) ? 0.0 : c.recall;
  const bool ranker = q.items == "ranker" || (!std::isnan(c.recall) && c.recall > out.interest_weight.recall);
  r.items = ranker ? "ranker" : "hybrid";
  out.items = r.items;
  out.ranker_setting = evaluation::ranker_setting_name(c.params);
  out.validation_recall_ranker = c.recall;
}

}  // namespace

TrainSummary train_store(const TrainRequest& q) {
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  temporal::SequenceOptions options = q.options;
  options.model.threads = q.threads;
  options.propagation.propagation.threads = q.threads;
  options.als.als.threads = q.threads;
  const DeviceBackends device = device_backends(q.device, q.threads);
  options.propagation.propagation.backend = device.propagation.get();
  options.als.als.backend = device.als.get();
  options.validate();
  if (q.interests != "best" && q.interests != "sequence" && q.interests != "mixture")
    throw InputError(fmt::format("interests: expected best, sequence or mixture, found '{}'", q.interests));
  if (q.items != "best" && q.items != "hybrid" && q.items != "ranker")
    throw InputError(fmt::format("items: expected best, hybrid or ranker, found '{}'", q.items));
  io::check_result_name(q.name);
  // The writer (and the store's writer lock) before reading: what this job computes from
  // is the store it amends, whatever other writers do meanwhile.
  io::StoreWriter writer(q.store, io::StoreWriter::Amend{}, q.threads);
  const io::Store store = io::Store::open(q.store);
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels; ingest with --labels", q.store));
  if (store.n_slices() < 4)
    throw InputError(fmt::format("{}: the store has {} periods; training needs at least 4 (reslice finer)", q.store,
                                 store.n_slices()));
  const auto t0 = std::chrono::steady_clock::now();
  io::SequenceResult r;
  TrainSummary out = train_history(store_history(store), options, store.slicing(), r, q.progress, q.interests);
  out.store = q.store;
  out.result = q.name;
  choose_items(store, q, out, r);
  io::write_sequence_result(writer, q.name, r);
  writer.commit();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

TrainSummary train_history(const temporal::History& history, const temporal::SequenceOptions& options,
                           const std::string& slicing, io::SequenceResult& r, const Progress& progress,
                           const std::string& interests) {
  temporal::TrainedSequence s = temporal::train_sequence(history, options, progress);
  const temporal::WeightChoice w =
      temporal::choose_interest_weight(history, s, temporal::kInterestWeights, 20, options.model.threads);
  // The interest mixture on top of the trained cell; kept when asked for, or with "best"
  // when its cross-entropy on the last period (the validation step) is the lower.
  std::optional<temporal::TrainedMixture> mixture;
  if (interests != "sequence") {
    if (progress) progress("interest mixture", 0, 1);
    mixture = temporal::train_interest_mixture(history, s, options);
  }

  TrainSummary out;
  out.cell = options.model.cell;
  out.periods = history.slices.size();
  out.epochs_run = s.training.history.size();
  out.best_epoch = s.training.best_epoch;
  out.stopped_early = s.training.stopped_early;
  if (!s.training.history.empty())
    out.best_validation_loss = s.training.history[static_cast<std::size_t>(s.training.best_epoch - 1)].validation_loss;
  out.interest_weight = w;
  out.propagation_not_converged = s.not_converged;
  out.validation_cross_entropy_sequence =
      s.training.history.empty()
          ? 0.0
          : s.training.history[static_cast<std::size_t>(s.training.best_epoch - 1)].validation_cross_entropy;
  out.validation_cross_entropy_mixture = std::numeric_limits<double>::quiet_NaN();
  const bool use_mixture = mixture && (interests == "mixture" || mixture->fit.validation_chosen <
                                                                     out.validation_cross_entropy_sequence);
  if (mixture) {
    out.validation_cross_entropy_mixture = mixture->fit.validation_chosen;
    out.mixture_only_expert = mixture->fit.parameters.only_expert;
  }
  if (use_mixture) out.label_ranking = mixture->ranking;
  out.interests = use_mixture ? "mixture" : "sequence";

  r = io::SequenceResult{};
  for (const temporal::EpochReport& e : s.training.history) {
    r.train_loss.push_back(e.train_loss);
    r.validation_loss.push_back(e.validation_loss);
  }
  r.model = std::move(s.training.model);
  r.next_interests = use_mixture ? std::move(mixture->next) : std::move(s.next.interests);
  r.interests = out.interests;
  r.new_label_boost = out.label_ranking.boost;
  r.validation_cross_entropy_sequence = out.validation_cross_entropy_sequence;
  if (mixture) {
    r.validation_cross_entropy_mixture = mixture->fit.validation_chosen;
    r.mixture = mixture->fit.parameters;
  }
  r.next_factors = std::move(s.next.factors);
  r.item_factors = std::move(s.item_factors);
  r.interest_weight = w.weight;
  r.best_epoch = s.training.best_epoch;
  r.window = options.window;
  r.slicing = slicing;
  r.periods = static_cast<std::int64_t>(out.periods);
  r.trained_periods = r.periods;
  r.state = std::move(s.state);
  if (mixture) r.state->mixture = std::move(mixture->state);  // what update steps the mixture from
  return out;
}

temporal::SequenceOptions stored_train_options(const io::SequenceResult& result) {
  temporal::SequenceOptions o;
  o.model = result.model.options;
  o.features = result.model.features;
  o.window = result.window;
  o.als.als.factors = static_cast<int>(result.next_factors.cols());
  o.als.als.seed = o.model.seed;  // as `driftrec train --seed` sets both
  return o;
}

const char* TrainSummary::cell_name() const { return temporal::cell_name(cell).data(); }

nlohmann::json TrainSummary::to_json() const {
  return {{"store", store},
          {"result", result},
          {"cell", cell_name()},
          {"periods", periods},
          {"epochs_run", epochs_run},
          {"best_epoch", best_epoch},
          {"stopped_early", stopped_early},
          {"best_validation_loss", best_validation_loss},
          {"interest_weight", interest_weight.weight},
          {"interest_weight_recall@20", interest_weight.recall},
          {"interest_weight_pairs", interest_weight.pairs},
          {"propagation_not_converged", propagation_not_converged},
          {"interests", interests},
          {"validation_cross_entropy_sequence", validation_cross_entropy_sequence},
          {"validation_cross_entropy_mixture", std::isnan(validation_cross_entropy_mixture)
                                                   ? nlohmann::json(nullptr)
                                                   : nlohmann::json(validation_cross_entropy_mixture)},
          {"mixture_only_expert", mixture_only_expert},
          {"new_label_boost", label_ranking.boost},
          {"items", items},
          {"ranker_setting", ranker_setting},
          {"validation_recall_ranker@20", std::isnan(validation_recall_ranker)
                                              ? nlohmann::json(nullptr)
                                              : nlohmann::json(validation_recall_ranker)},
          {"seconds", seconds}};
}

Prediction predict(const PredictRequest& q) {
  if (q.top < 1) throw InputError(fmt::format("top: expected 1 or more, got {}", q.top));
  const io::Store store = io::Store::open(q.store);
  const io::SequenceResult s = io::read_sequence_result(store, q.model);
  const graph::Index u = find_id(store.users(), q.user, "user", q.store);
  // Labels of the user's items so far.
  std::set<graph::Index> had;
  const graph::CsrMatrix labels = store.item_labels();
  const graph::EventColumns e = store.events();
  for (std::size_t k = 0; k < e.size(); ++k)
    if (e.user[k] == u)
      for (graph::Offset p = labels.indptr[e.item[k]]; p < labels.indptr[e.item[k] + 1]; ++p) had.insert(labels.indices[p]);
  std::vector<std::uint8_t> flags(static_cast<std::size_t>(store.n_labels()), 0);
  for (graph::Index l : had) flags[static_cast<std::size_t>(l)] = 1;
  const std::span<const float> p(s.next_interests.row(u).data(), static_cast<std::size_t>(store.n_labels()));
  const std::vector<std::string> names = store.labels();
  Prediction out{q.user, q.model, {}};
  for (graph::Index l : temporal::ranked_labels(p, flags, static_cast<float>(s.new_label_boost),
                                                static_cast<std::size_t>(q.top)))
    out.labels.push_back({names[static_cast<std::size_t>(l)], p[static_cast<std::size_t>(l)], flags[static_cast<std::size_t>(l)] == 0});
  return out;
}

nlohmann::json Prediction::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const PredictedLabel& l : labels) list.push_back({{"label", l.label}, {"probability", l.probability}, {"new", l.is_new}});
  return {{"user", user}, {"model", model}, {"labels", list}};
}

}  // namespace driftrec::pipeline
