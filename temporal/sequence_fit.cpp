#include "temporal/sequence_fit.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "graph/top_k.hpp"

namespace driftrec::temporal {
namespace mf = matrix_factorization;
namespace pr = propagation;
using graph::Index;

SequenceOptions::SequenceOptions() {
  // Features: propagation to 1e-4 (the features need no more), a small temporal ALS.
  propagation.propagation.tolerance = 1e-4;
  als.als.factors = 16;
  als.als.iterations = 3;
  als.als.regularization = 0.1f;
  als.eta = 1.0f;
  als.gamma = 0.5f;
  // Early stopping ends training; 30 epochs stopped still improving on generated data.
  model.epochs = 80;
}

void SequenceOptions::validate() const {
  if (window < 1) throw InputError(fmt::format("window: expected >= 1 periods, got {}", window));
  propagation.validate();
  als.validate();
  features.validate();
  model.validate();
}

SequenceFeatures sequence_features(const History& t, const SequenceOptions& o, const SequenceProgress& progress) {
  // The windowed periods and the events of each: the summed head holds every earlier event.
  const std::vector<graph::CsrMatrix> slices = windowed_slices(t, o.window);
  const std::size_t periods = slices.size(), skipped = t.slices.size() - periods;
  std::vector<std::size_t> first_event{0};
  for (std::size_t p = 0; p < periods; ++p) first_event.push_back(t.period_first[p + 1 + skipped]);
  SequenceFeatures out;
  out.item_label_seeds = pr::item_seed_labels(t.item_labels);
  out.history_periods = static_cast<std::int64_t>(t.slices.size());
  out.users = static_cast<std::int64_t>(t.n_users);

  // F_U(t): temporal label propagation over the periods.
  pr::propagate_temporal_streaming(slices, t.item_labels, o.propagation,
                                   [&](std::size_t p, pr::PeriodResult& r) {
                                     if (!r.converged) ++out.not_converged;
                                     out.inputs.interests.push_back(std::move(r.interests));
                                     if (p + 1 == periods) out.last_user_scores = std::move(r.user_scores);
                                     if (progress) progress("features: propagation", p + 1, periods);
                                   });
  // x_u(t): temporal ALS, and the item factors of the last period.
  mf::fit_temporal_als(slices, o.als, {}, [&](std::size_t p, const mf::AlsModel& m) {
    out.inputs.factors.push_back(m.user);
    if (p + 1 == periods) out.item_factors = m.item;
    if (p + 2 == periods) out.validation_item_factors = m.item;
    if (progress) progress("features: temporal ALS", p + 1, periods);
  });
  // Activity and interest truth from the events of each period.
  for (std::size_t p = 0; p < periods; ++p) {
    std::vector<float> activity(static_cast<std::size_t>(t.n_users), 0.0f);
    for (std::size_t k = first_event[p]; k < first_event[p + 1]; ++k) activity[static_cast<std::size_t>(t.events.user[k])] += 1;
    out.inputs.activity.push_back(std::move(activity));
    out.inputs.interest_truth.push_back(
        period_interest_truth(t.events, first_event[p], first_event[p + 1], t.item_labels, t.n_users));
  }
  return out;
}

RowMatrix period_interest_truth(const graph::EventColumns& events, std::size_t first, std::size_t last,
                                const graph::CsrMatrix& item_labels, Index users) {
  const auto labels = static_cast<std::size_t>(item_labels.n_cols);
  std::vector<double> acc(static_cast<std::size_t>(users) * labels, 0.0);
  for (std::size_t k = first; k < last; ++k)
    add_item_labels(item_labels, events.item[k], 1.0,
                    std::span<double>(acc.data() + static_cast<std::size_t>(events.user[k]) * labels, labels));
  RowMatrix truth(users, static_cast<Eigen::Index>(labels));
  for (Index u = 0; u < users; ++u) {
    std::span<double> row(acc.data() + static_cast<std::size_t>(u) * labels, labels);
    normalize(row);
    for (std::size_t l = 0; l < labels; ++l) truth(u, static_cast<Eigen::Index>(l)) = static_cast<float>(row[l]);
  }
  return truth;
}

std::string features_key(const SequenceOptions& o) {
  const auto& p = o.propagation;
  const auto& a = o.als;
  // The backends are borrowed pointers: the same pointer computes the same features.
  return fmt::format("p:{},{},{},{},{},{},{} a:{},{},{},{},{},{},{},{},{},{} f:{} w:{}", p.propagation.alpha,
                     p.propagation.tolerance, p.propagation.max_iterations, static_cast<int>(p.propagation.reorder),
                     static_cast<const void*>(p.propagation.backend), p.gamma, p.mu, a.als.factors,
                     a.als.regularization, a.als.alpha, a.als.iterations, a.als.cg_steps, static_cast<int>(a.als.solver),
                     a.als.seed, static_cast<const void*>(a.als.backend), a.eta, a.gamma, o.features.gap_cap, o.window);
}

TrainedSequence train_sequence(const History& t, const SequenceOptions& o, const SequenceProgress& progress) {
  o.validate();
  return train_sequence(std::make_shared<const SequenceFeatures>(sequence_features(t, o, progress)), o, progress);
}

TrainedSequence train_sequence(const SequenceFeatures& f, const SequenceOptions& o,
                               const SequenceProgress& progress) {
  return train_sequence(std::make_shared<const SequenceFeatures>(f), o, progress);
}

TrainedSequence train_sequence(std::shared_ptr<const SequenceFeatures> fp, const SequenceOptions& o,
                               const SequenceProgress& progress) {
  o.validate();
  if (!fp) throw std::invalid_argument("train_sequence: no features");
  const SequenceFeatures& f = *fp;
  if (f.data && f.data->options.gap_cap != o.features.gap_cap)
    throw std::invalid_argument("train_sequence: the features' assembled data has other feature options");
  const std::shared_ptr<const SequenceData> kept =
      f.data ? f.data : std::make_shared<const SequenceData>(assemble_sequences(f.inputs, o.features));
  const SequenceData& data = *kept;
  TrainedSequence out;
  out.data = kept;
  out.training = train_sequence_model(data, o.model, [&](const EpochReport& r) {
    if (progress) progress("training", static_cast<std::uint64_t>(r.epoch), static_cast<std::uint64_t>(o.model.epochs));
  });
  out.next = predict_next(out.training.model, data, o.model.threads, &out.state.recurrent);
  out.state.user_scores = f.last_user_scores;
  out.state.user_factors = f.inputs.factors.back();
  out.state.last_active.assign(static_cast<std::size_t>(f.users), -1);
  for (std::size_t p = 0; p < f.inputs.activity.size(); ++p)
    for (std::size_t u = 0; u < f.inputs.activity[p].size(); ++u)
      if (f.inputs.activity[p][u] > 0) out.state.last_active[u] = static_cast<std::int32_t>(p);
  out.state.fed_periods = data.periods;
  out.state.periods = f.history_periods;
  // Periods 0..P-2 predict P-1: the first P-1 periods of the same data (predict_next).
  out.validation_next = predict_next(out.training.model, data, o.model.threads, nullptr, data.periods - 1);
  out.validation_item_factors = f.validation_item_factors;
  out.item_factors = f.item_factors;
  out.item_label_seeds = f.item_label_seeds;
  out.not_converged = f.not_converged;
  out.inputs = std::shared_ptr<const SequenceInputs>(fp, &f.inputs);  // shares *fp's ownership
  return out;
}

void hybrid_parts(const mf::Factors& item_factors, const pr::DenseMatrix& item_label_seeds,
                  const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                  HybridParts& out) {
  out.by_factor.noalias() = item_factors * factor;
  out.match.noalias() = item_label_seeds * interests;
  const float f_max = out.by_factor.size() ? out.by_factor.cwiseAbs().maxCoeff() : 0.0f;
  const float m_max = out.match.size() ? out.match.maxCoeff() : 0.0f;
  if (f_max > 0) out.by_factor /= f_max;
  if (m_max > 0) out.match /= m_max;
}

void hybrid_blend(const HybridParts& parts, double weight, std::span<float> out) {
  Eigen::Map<Eigen::VectorXf> scores(out.data(), static_cast<Eigen::Index>(out.size()));
  scores = static_cast<float>(1 - weight) * parts.by_factor + static_cast<float>(weight) * parts.match;
}

void hybrid_scores(const mf::Factors& item_factors, const pr::DenseMatrix& item_label_seeds,
                   const Eigen::Ref<const Eigen::VectorXf>& factor, const Eigen::Ref<const Eigen::VectorXf>& interests,
                   double weight, std::span<float> out) {
  HybridParts parts;
  hybrid_parts(item_factors, item_label_seeds, factor, interests, parts);
  hybrid_blend(parts, weight, out);
}

namespace {

// hits in the best k of the candidates the user did not have (graph::top_k_unseen: higher
// score first, then lower index, NaN last) / min(k, |truth|).
double recall_of(std::span<const float> scores, std::span<const std::uint8_t> candidate, std::span<const Index> had,
                 std::span<const Index> truth, int k) {
  std::size_t hits = 0;
  for (Index i : graph::top_k_unseen(scores, candidate, had, k))
    hits += std::binary_search(truth.begin(), truth.end(), i) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(std::min(truth.size(), static_cast<std::size_t>(k)));
}

}  // namespace

WeightChoice choose_interest_weight(const History& h, const TrainedSequence& s, const std::vector<double>& grid, int k,
                                   int threads) {
  core::check_threads(threads);
  WeightChoice best;
  if (h.slices.size() < 2 || k < 1 || grid.empty()) return best;
  // Period v = P-1: what was known before it (the candidates, each user's items: every
  // stored entry of W_0 .. W_{v-1}) and each user's items of v.
  const std::size_t v = h.slices.size() - 1, first = h.period_first[v], last = h.period_first[v + 1];
  const auto n_items = static_cast<std::size_t>(h.n_items);
  std::vector<std::uint8_t> candidate(n_items, 0);
  for (std::size_t e = 0; e < first; ++e) candidate[static_cast<std::size_t>(h.events.item[e])] = 1;
  std::vector<std::vector<Index>> had(static_cast<std::size_t>(h.n_users)), now(static_cast<std::size_t>(h.n_users));
  for (std::size_t p = 0; p < v; ++p)
    for (Index u = 0; u < h.slices[p].n_rows; ++u) {
      const graph::CsrMatrix& w = h.slices[p];
      had[static_cast<std::size_t>(u)].insert(had[static_cast<std::size_t>(u)].end(), w.indices.begin() + w.indptr[u],
                                              w.indices.begin() + w.indptr[u + 1]);
    }
  for (std::size_t e = first; e < last; ++e) now[static_cast<std::size_t>(h.events.user[e])].push_back(h.events.item[e]);

  // Each user's recall at every weight (NaN: not a pair), on threads; summed in user order.
  const std::size_t n_grid = grid.size();
  std::vector<double> recalls(static_cast<std::size_t>(h.n_users) * n_grid, std::nan(""));
  struct Scratch {
    std::vector<std::uint8_t> mine;
    std::vector<float> scores;
    std::vector<Index> had, truth;
    HybridParts parts;
  };
  core::ParallelFor pf;
  pf.threads = threads;
  pf.schedule = core::Schedule::dynamic;
  pf.chunk = 16;
  pf.serial_nested = true;  // Eigen's products inside hybrid_parts stay on their thread
  core::parallel_for_with_state(
      h.n_users, pf, [&] { return Scratch{std::vector<std::uint8_t>(n_items, 0), std::vector<float>(n_items), {}, {}, {}}; },
      [&](std::int64_t user, Scratch& x) {
        const auto u = static_cast<std::size_t>(user);
        const auto& before = had[u];
        if (now[u].empty() || before.empty()) return;
        for (Index i : before) x.mine[static_cast<std::size_t>(i)] = 1;
        auto fresh = [&](Index i) { return candidate[static_cast<std::size_t>(i)] && !x.mine[static_cast<std::size_t>(i)]; };
        x.truth.clear();
        for (Index i : now[u])
          if (fresh(i)) x.truth.push_back(i);
        std::sort(x.truth.begin(), x.truth.end());
        x.truth.erase(std::unique(x.truth.begin(), x.truth.end()), x.truth.end());
        for (Index i : before) x.mine[static_cast<std::size_t>(i)] = 0;
        if (x.truth.empty()) return;
        x.had.assign(before.begin(), before.end());  // ranked: the candidates not in it
        std::sort(x.had.begin(), x.had.end());
        x.had.erase(std::unique(x.had.begin(), x.had.end()), x.had.end());
        const auto row = static_cast<Eigen::Index>(user);
        hybrid_parts(s.validation_item_factors, s.item_label_seeds, s.validation_next.factors.row(row).transpose(),
                     s.validation_next.interests.row(row).transpose(), x.parts);
        for (std::size_t g = 0; g < n_grid; ++g) {
          hybrid_blend(x.parts, grid[g], x.scores);
          recalls[u * n_grid + g] = recall_of(x.scores, candidate, x.had, x.truth, k);
        }
      });
  std::vector<double> sum(n_grid, 0.0);
  std::size_t pairs = 0;
  for (std::size_t u = 0; u < static_cast<std::size_t>(h.n_users); ++u) {
    if (std::isnan(recalls[u * n_grid])) continue;
    ++pairs;
    for (std::size_t g = 0; g < n_grid; ++g) sum[g] += recalls[u * n_grid + g];
  }
  for (std::size_t g = 0; g < grid.size(); ++g) {
    const double recall = pairs ? sum[g] / static_cast<double>(pairs) : 0.0;
    if (g == 0 || recall > best.recall) best = {grid[g], recall, pairs};
  }
  return best;
}

}  // namespace driftrec::temporal
