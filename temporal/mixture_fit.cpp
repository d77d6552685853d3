#include "temporal/mixture_fit.hpp"

#include <algorithm>
#include <cmath>
#include <span>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "temporal/network.hpp"

namespace driftrec::temporal {
namespace {

constexpr double kShortHalfLife = 1, kLongHalfLife = 6;

// q normalised and smoothed; `fallback` (already a distribution, or zero) when q is zero.
void expert_column(Eigen::Ref<Eigen::VectorXd> out, const Eigen::VectorXd& q, const Eigen::VectorXd& fallback) {
  const Eigen::Index labels = out.size();
  const double mass = q.sum();
  if (mass > 0)
    out = q / mass;
  else if (fallback.sum() > 0)
    out = fallback / fallback.sum();
  else
    out.setConstant(1.0 / static_cast<double>(labels));
  out = ((1 - kExpertSmoothing) * out.array() + kExpertSmoothing / static_cast<double>(labels)).matrix();
}

double entropy(const Eigen::VectorXd& p) {
  double h = 0;
  for (Eigen::Index l = 0; l < p.size(); ++l)
    if (p(l) > 0) h -= p(l) * std::log(p(l));
  return h;
}

// Jensen-Shannon divergence (natural log); 0 when either vector is zero.
double jensen_shannon(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  if (!(a.sum() > 0) || !(b.sum() > 0)) return 0;
  const Eigen::VectorXd m = 0.5 * (a + b);
  return entropy(m) - 0.5 * entropy(a) - 0.5 * entropy(b);
}

}  // namespace

Eigen::VectorXd population_distribution(const graph::EventColumns& events, std::size_t first, std::size_t last,
                                        const graph::CsrMatrix& item_labels) {
  std::vector<double> acc(static_cast<std::size_t>(item_labels.n_cols), 0.0);
  for (std::size_t k = first; k < last; ++k) add_item_labels(item_labels, events.item[k], 1.0, acc);
  normalize(acc);
  return Eigen::Map<const Eigen::VectorXd>(acc.data(), static_cast<Eigen::Index>(acc.size()));
}

std::vector<Eigen::VectorXd> population_distributions(const History& h, int window) {
  const std::size_t all = h.slices.size(), w = static_cast<std::size_t>(std::max(window, 1));
  const std::size_t periods = all <= w + 1 ? all : w + 1, skipped = all - periods;
  std::vector<Eigen::VectorXd> out;
  for (std::size_t p = 0; p < periods; ++p) {
    const std::size_t first = p == 0 ? 0 : h.period_first[p + skipped], last = h.period_first[p + 1 + skipped];
    out.push_back(population_distribution(h.events, first, last, h.item_labels));
  }
  return out;
}

std::vector<Matrix<float>> hidden_states(const SequenceModel& model, const SequenceData& d, int threads) {
  std::vector<Matrix<float>> out(static_cast<std::size_t>(d.periods), Matrix<float>(model.parameters.hidden(), d.users));
  const int chunks = (d.users + kChunkUsers - 1) / kChunkUsers;
  core::ParallelFor o;
  o.threads = threads;
  o.schedule = core::Schedule::dynamic;
  o.serial_nested = true;
  core::parallel_for(chunks, o, [&](std::int64_t chunk) {
    const int begin = static_cast<int>(chunk) * kChunkUsers, end = std::min(d.users, begin + kChunkUsers);
    std::vector<Matrix<float>> inputs;
    for (int t = 0; t < d.periods; ++t) inputs.push_back(d.features(t).middleCols(begin, end - begin));
    const States<float> s = run_states<float>(model.parameters, inputs, {}, {});
    for (int t = 0; t < d.periods; ++t) out[static_cast<std::size_t>(t)].middleCols(begin, end - begin) = s.h[static_cast<std::size_t>(t)];
  });
  return out;
}

MixtureState empty_mixture_state(int users, int labels) {
  MixtureState s;
  s.ewma_short = Eigen::MatrixXd::Zero(labels, users);
  s.ewma_long = s.ewma_short;
  s.labelled.assign(static_cast<std::size_t>(users), 0);
  return s;  // population empty: no period read yet
}

double advance_mixture_state(MixtureState& s, const RowMatrix* truth, const Eigen::VectorXd& population) {
  const double short_decay = std::exp2(-1 / kShortHalfLife), long_decay = std::exp2(-1 / kLongHalfLife);
  s.ewma_short *= short_decay;
  s.ewma_long *= long_decay;
  if (truth)
    for (Eigen::Index u = 0; u < s.ewma_short.cols(); ++u) {
      const Eigen::VectorXd y = truth->row(u).transpose().cast<double>();
      if (!(y.sum() > 0)) continue;
      s.ewma_short.col(u) += y;
      s.ewma_long.col(u) += y;
      ++s.labelled[static_cast<std::size_t>(u)];
    }
  const double shift = s.population.size() > 0 ? jensen_shannon(population, s.population) / std::log(2.0) : 0.0;
  s.population = population;
  return shift;
}

MixtureBatch mixture_batch(const MixtureState& s, double shift, const RowMatrix& interests,
                           const Eigen::Ref<const Matrix<float>, 0, Eigen::OuterStride<>>& features,
                           int factor_size, const Matrix<float>& hidden, const std::vector<int>& cols,
                           const ColumnsView* targets) {
  const auto labels = static_cast<int>(s.ewma_short.rows());
  const int f = factor_size;
  const auto n = static_cast<Eigen::Index>(cols.size());
  const Eigen::VectorXd& pi = s.population;
  Eigen::VectorXd prop(labels), ewma_short(labels), ewma_long(labels);
  MixtureBatch b;
  for (auto& e : b.experts) e.resize(labels, n);
  b.hidden.resize(hidden.rows(), n);
  b.gate_input.resize(kGateFeatures, n);
  b.target = Matrix<double>::Zero(labels, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    const int u = cols[static_cast<std::size_t>(j)];
    prop = interests.row(u).transpose().cast<double>().cwiseMax(0.0);
    const bool has_prop = prop.sum() > 0;
    expert_column(b.experts[kPropagated].col(j), prop, pi);
    expert_column(b.experts[kEwmaShort].col(j), s.ewma_short.col(u), pi);
    expert_column(b.experts[kEwmaLong].col(j), s.ewma_long.col(u), pi);
    expert_column(b.experts[kPopulation].col(j), pi, Eigen::VectorXd::Zero(labels));
    ewma_short = s.ewma_short.col(u);
    ewma_long = s.ewma_long.col(u);
    if (ewma_short.sum() > 0) ewma_short /= ewma_short.sum();
    if (ewma_long.sum() > 0) ewma_long /= ewma_long.sum();
    const int seen = s.labelled[static_cast<std::size_t>(u)];
    b.gate_input(0, j) = features(labels + f, u);      // log(1 + activity)
    b.gate_input(1, j) = features(labels + f + 1, u);  // log(1 + gap)
    b.gate_input(2, j) = labels > 1 ? entropy(ewma_long) / std::log(static_cast<double>(labels)) : 0.0;
    b.gate_input(3, j) = seen > 0 ? 1.0 : 0.0;
    b.gate_input(4, j) = has_prop ? 1.0 : 0.0;
    b.gate_input(5, j) = shift;
    b.gate_input(6, j) = std::log1p(static_cast<double>(seen));
    b.gate_input(7, j) = ewma_short.cwiseMin(pi).sum();
    b.hidden.col(j) = hidden.col(u).cast<double>();
    if (targets) b.target.col(j) = targets->col(u).cast<double>();
  }
  return b;
}

std::vector<MixtureBatch> mixture_steps(const SequenceData& d, const SequenceInputs& in,
                                        const std::vector<Eigen::VectorXd>& population,
                                        const std::vector<Matrix<float>>& hidden, std::vector<std::vector<int>>* users_out,
                                        MixtureState* state_out, const std::vector<int>* targets_of) {
  const int users = d.users;
  MixtureState state = empty_mixture_state(users, d.labels);
  std::vector<MixtureBatch> out;
  if (users_out) users_out->clear();
  for (int t = 0; t < d.periods; ++t) {
    const auto tt = static_cast<std::size_t>(t);
    // Period t's own labels enter the histories first: step t reads periods 0..t.
    const double shift =
        advance_mixture_state(state, in.interest_truth.empty() ? nullptr : &in.interest_truth[tt], population[tt]);
    const bool last = t + 1 == d.periods;
    std::vector<int> cols;
    if (last) {
      for (int u = 0; u < users; ++u) cols.push_back(u);
      out.push_back(mixture_batch(state, shift, in.interests[tt], d.features(t), d.factor_size, hidden[tt], cols, nullptr));
    } else {
      const ColumnsView mask = d.interest_mask(t), targets = d.interest_targets(t);
      if (targets_of == nullptr) {
        for (int u = 0; u < users; ++u)
          if (mask(0, u) != 0) cols.push_back(u);
      } else {
        for (int u : *targets_of)
          if (mask(0, u) != 0) cols.push_back(u);
      }
      out.push_back(mixture_batch(state, shift, in.interests[tt], d.features(t), d.factor_size, hidden[tt], cols, &targets));
    }
    if (users_out) users_out->push_back(std::move(cols));
  }
  if (state_out) *state_out = std::move(state);
  return out;
}

TrainedMixture train_interest_mixture(const History& h, const TrainedSequence& s, const SequenceOptions& o,
                                      const MixtureOptions& mixture, const SequenceProgress& progress) {
  if (!s.data || !s.inputs) throw InputError("interest mixture: the sequence fit kept no features");
  const SequenceData& d = *s.data;
  if (d.periods < kMinSequencePeriods)
    throw InputError(fmt::format("interest mixture: needs at least {} periods, got {}", kMinSequencePeriods, d.periods));
  const std::vector<Eigen::VectorXd> population = population_distributions(h, o.window);
  if (static_cast<int>(population.size()) != d.periods)
    throw InputError(fmt::format("interest mixture: {} population periods for {} feature periods", population.size(),
                                 d.periods));
  const std::vector<Matrix<float>> hidden = hidden_states(s.training.model, d, o.model.threads);
  std::vector<std::vector<int>> users;
  TrainedMixture out;
  // The sequence model's training sample (every user below the cap: no filter at all).
  const std::vector<int> sample = training_user_sample(d.users, o.model.train_users, o.model.seed);
  const bool sampled = sample.size() < static_cast<std::size_t>(d.users);
  std::vector<MixtureBatch> steps =
      mixture_steps(d, *s.inputs, population, hidden, &users, &out.state, sampled ? &sample : nullptr);
  // Steps 0..T-3 train (moved into one batch, which empties them); T-2 validates.
  const MixtureBatch train_batch =
      concatenate(std::span<MixtureBatch>(steps.data(), static_cast<std::size_t>(d.periods - 2)));
  const MixtureBatch& validation = steps[static_cast<std::size_t>(d.periods - 2)];
  const Parameters<float>& p = s.training.model.parameters;
  MixtureOptions mo = mixture;
  mo.seed = o.model.seed;
  out.fit = train_mixture(train_batch, validation,
                          initial_mixture(p[kInterestWeight].cast<double>(), p[kInterestBias].cast<double>()), mo,
                          [&progress](int epoch, int epochs) {
                            if (progress)
                              progress("mixture", static_cast<std::uint64_t>(epoch), static_cast<std::uint64_t>(epochs));
                          });
  out.ranking = choose_new_label_boost(mixture_distribution(out.fit.parameters, validation), validation);
  const Matrix<double> next = mixture_distribution(out.fit.parameters, steps.back());
  out.next = RowMatrix::Zero(d.users, d.labels);
  const std::vector<int>& cols = users.back();
  for (std::size_t j = 0; j < cols.size(); ++j)
    out.next.row(cols[j]) = next.col(static_cast<Eigen::Index>(j)).transpose().cast<float>();
  return out;
}

void label_ranking(const TrainedMixture& m, int user, std::span<float> out) {
  const auto u = static_cast<Eigen::Index>(user);
  const auto boost = static_cast<float>(m.ranking.boost);
  for (std::size_t l = 0; l < out.size(); ++l) {
    const auto i = static_cast<Eigen::Index>(l);
    out[l] = m.state.ewma_long(i, u) > 0 ? m.next(u, i) : m.next(u, i) * boost;
  }
}

}  // namespace driftrec::temporal
