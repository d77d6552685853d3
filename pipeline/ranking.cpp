#include "pipeline/ranking.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "evaluation/metrics.hpp"
#include "io/factors_result.hpp"
#include "io/id_map.hpp"
#include "io/result_name.hpp"
#include "io/text.hpp"
#include "pipeline/common.hpp"
#include "propagation/label_propagation.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;
namespace ev = evaluation;
using graph::Index;

History user_history(const io::Store& store, graph::Time end) {
  const graph::EventColumns e = store.events();
  const graph::Periods& periods = store.periods();
  History h;
  h.last_active.assign(static_cast<std::size_t>(store.n_users()), -1);
  std::vector<graph::Triplet> had;
  for (std::size_t k = 0; k < e.size() && e.time[k] < end; ++k) {  // sorted by time
    had.push_back({e.user[k], e.item[k], 1.0f});
    const auto p = std::upper_bound(periods.begin.begin(), periods.begin.end(), e.time[k]) - periods.begin.begin() - 1;
    h.last_active[static_cast<std::size_t>(e.user[k])] = static_cast<std::int32_t>(std::max<std::ptrdiff_t>(p, 0));
  }
  h.seen = graph::csr_from_triplets(store.n_users(), store.n_items(), had);
  return h;
}

std::vector<std::uint8_t> labels_had(std::span<const Index> items, const graph::CsrMatrix& item_labels) {
  std::vector<std::uint8_t> had(static_cast<std::size_t>(item_labels.n_cols), 0);
  for (Index i : items)
    for (graph::Offset p = item_labels.indptr[i]; p < item_labels.indptr[i + 1]; ++p)
      had[static_cast<std::size_t>(item_labels.indices[p])] = 1;
  return had;
}

std::vector<std::uint8_t> read_item_filter(const std::string& path, const io::Store& store) {
  std::vector<std::uint8_t> blocked(static_cast<std::size_t>(store.n_items()), 0);
  io::LineReader r(path);
  const io::IdMap ids = io::IdMap::from_names(store.items());
  std::string_view line;
  while (r.next(line))
    if (const Index i = ids.find(io::trim(line)); i >= 0) blocked[static_cast<std::size_t>(i)] = 1;
  return blocked;
}

namespace {

// The cut-off the ranker's setting is chosen by: the goal of issue 13 is recall@20.
constexpr int kRankerValidationK = 20;

// Checked before the ranker's fit, which costs seconds.
void refuse_seen_for_ranker(const RankingOptions& o) {
  if (o.include_seen)
    throw InputError(fmt::format("include_seen: {}, which ranks only items new to the user; rank by a factorize "
                                 "result (or a train result trained with --items hybrid) to include the items they had",
                                 o.result == io::kRankerName ? std::string("the learned item ranker ranks")
                                                      : fmt::format("result '{}' ranks by the learned item ranker "
                                                                    "(train chose it)",
                                                                    o.result)));
}

}  // namespace

// The ranker fitted on every period of the store with `setting`, or with the setting that
// has the best recall@20 on the store's last period (fitted on the periods before it).
void UserRanking::fit_ranker(const io::Store& store, const std::optional<ev::Params>& setting) {
  const ev::EvaluationData data = ev::load_evaluation_data(store);
  for (std::size_t k = 0; k < data.slices.size(); ++k) check_slice_weights(store, k, data.slices[k]);
  ev::LibraryModelOptions lo;
  lo.threads = threads_;
  const ev::ModelSpec spec = ev::ranker_model(lo);
  const std::size_t n = data.slices.size();
  if (n < spec.min_training_periods + 1)
    throw InputError(fmt::format("{}: the ranker needs at least {} periods (its setting is chosen on the last, "
                                 "fitted on the {} before it); the store has {}",
                                 store.path(), spec.min_training_periods + 1, spec.min_training_periods, n));
  if (setting) {
    ranker_choice_.emplace();
    ranker_choice_->params = *setting;
  } else {
    ranker_choice_ = ev::choose_ranker_setting(data, spec, n - 1, kRankerValidationK, threads_);
  }
  ranker_training_ = ev::make_training(data, n);
  ranker_ = spec.fit(ranker_training_, ranker_choice_->params);  // reuses the sources the choice fitted
}

UserRanking::UserRanking(const io::Store& store, const RankingOptions& o) : threads_(o.threads) {
  core::check_threads(o.threads);
  kind_ = o.result == io::kRankerName ? "ranker" : io::result_kind(store, o.result);
  const bool walk = kind_ == "p3alpha" || kind_ == "rp3beta" || kind_ == "ppr";
  if (kind_ != "temporal_als" && kind_ != "sequence_model" && kind_ != "ranker" && !walk)
    throw InputError(fmt::format("{}: result '{}' is a {} result; items are ranked by a temporal_als (factorize), "
                                 "sequence_model (train) or p3alpha/rp3beta/ppr (propagate) result, or by the "
                                 "ranker (\"ranker\")",
                                 store.path(), o.result, kind_));
  if (o.period && kind_ != "temporal_als")
    throw InputError(fmt::format("period: result '{}' ({}) ranks for the store's last period; give no period",
                                 o.result, kind_));
  if (walk && o.include_seen)
    throw InputError(fmt::format("include_seen: result '{}' ({}) saved each user's top items without the items "
                                 "they had; rank by a factorize or train result to include them",
                                 o.result, kind_));
  if (!o.filter_items.empty()) blocked_ = read_item_filter(o.filter_items, store);
  use_seen_ = !o.include_seen;

  io::StoredFactors factors;
  if (kind_ == "temporal_als") {
    factors = io::read_factors(store, o.result, o.period);
    period_ = factors.period;
  } else {
    period_ = store.n_slices() - 1;
  }
  history_ = user_history(store, store.periods().end[period_]);
  const auto n_users = static_cast<std::size_t>(store.n_users());

  if (kind_ == "temporal_als") {
    users_ = std::move(factors.model.user);
    items_ = mf::PackedItems(factors.model.item.data(), static_cast<Index>(factors.model.item.rows()),
                             static_cast<int>(factors.model.item.cols()));
    // Each quiet user's last active state (see the header), one period's factors at a time.
    const std::vector<bool> kept = io::user_factor_periods(store, o.result);
    state_period_.assign(n_users, static_cast<std::int32_t>(period_));
    quiet_row_.assign(n_users, -1);
    std::vector<std::vector<Index>> by_period(period_);
    for (std::size_t u = 0; u < n_users; ++u) {
      const std::int32_t a = history_.last_active[u];
      if (a < 0 || static_cast<std::size_t>(a) >= period_) continue;
      std::size_t p = static_cast<std::size_t>(a);
      while (p < period_ && !kept[p]) ++p;
      if (p == period_) continue;
      state_period_[u] = static_cast<std::int32_t>(p);
      quiet_row_[u] = static_cast<std::int32_t>(quiet_count_++);
      by_period[p].push_back(static_cast<Index>(u));
    }
    quiet_factors_.resize(quiet_count_, users_.cols());
    for (std::size_t p = 0; p < period_; ++p) {
      if (by_period[p].empty()) continue;
      const mf::Factors x = io::read_user_factors(store, o.result, p);
      for (Index u : by_period[p]) quiet_factors_.row(quiet_row_[static_cast<std::size_t>(u)]) = x.row(u);
    }
    ranked_by_ = "factors";
  } else if (kind_ == "sequence_model") {
    sequence_ = io::read_sequence_result(store, o.result);
    ranked_by_ = sequence_->items;
    if (sequence_->items == "ranker") {
      refuse_seen_for_ranker(o);
      fit_ranker(store, ev::Params{{"source", sequence_->ranker_source}, {"l2", sequence_->ranker_l2}});
      ranker_choice_->recall = sequence_->validation_recall_ranker;
      ranker_choice_->pairs = 0;  // not kept by the train result
    } else {
      item_label_seeds_ = propagation::item_seed_labels(store.item_labels());
    }
  } else if (kind_ == "ranker") {
    ranked_by_ = "ranker";
    refuse_seen_for_ranker(o);
    fit_ranker(store, std::nullopt);
  } else {
    walk_ = io::read_walk_result(store, o.result);
    ranked_by_ = kind_;
  }
}

std::int32_t UserRanking::user_period(Index u) const {
  return state_period_.empty() ? static_cast<std::int32_t>(period_) : state_period_[static_cast<std::size_t>(u)];
}

void UserRanking::check_k(int k) const {
  if (k < 1) throw InputError(fmt::format("k: expected 1 or more, got {}", k));
  if (walk_ && k > walk_->top.k)
    throw InputError(fmt::format("k: the {} result saved the top {} items per user; ask for at most {} (or propagate "
                                 "again with a larger --top)",
                                 walk_->method, walk_->top.k, walk_->top.k));
}

std::size_t UserRanking::excluded(Index u) const {
  const graph::CsrMatrix& s = history_.seen;
  std::size_t n = use_seen_ ? static_cast<std::size_t>(s.row_length(u)) : 0;
  for (std::size_t i = 0; i < blocked_.size(); ++i)
    if (blocked_[i] && !(use_seen_ && std::binary_search(s.indices.begin() + s.indptr[u],
                                                          s.indices.begin() + s.indptr[u + 1], static_cast<Index>(i))))
      ++n;
  return n;
}

void UserRanking::rank(std::span<const Index> users, int k, Index* out_items, float* out_scores,
                       std::int32_t* out_periods) const {
  rank(users, k, out_items, out_scores, out_periods, use_seen_);
}

void UserRanking::rank(std::span<const Index> users, int k, Index* out_items, float* out_scores,
                       std::int32_t* out_periods, bool exclude_seen) const {
  if (!exclude_seen && !can_include_seen())
    throw InputError(fmt::format("include_seen: items ranked by the {} exclude the items each user had", ranked_by_));
  const auto rows = static_cast<std::int64_t>(users.size());
  for (std::int64_t r = 0; r < rows; ++r) out_periods[r] = user_period(users[static_cast<std::size_t>(r)]);
  if (k <= 0 || rows == 0) return;
  mf::Exclusions exclude;
  if (exclude_seen) {
    exclude.seen = &history_.seen;
    exclude.rows = users;
  }
  exclude.blocked = blocked_;
  if (kind_ == "temporal_als") {
    const int f = static_cast<int>(users_.cols());
    mf::Factors queries(rows, f);
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto u = static_cast<std::size_t>(users[static_cast<std::size_t>(r)]);
      queries.row(r) = quiet_row_[u] < 0 ? users_.row(static_cast<Index>(u)) : quiet_factors_.row(quiet_row_[u]);
    }
    mf::top_k_dot(queries.data(), rows, items_, exclude, k, out_items, out_scores, threads_);
  } else if (ranker_) {
    // Eligible: the items seen before the period after the last that u did not have
    // (evaluation::eligible_items), less the filter; the ranker's candidates score above
    // every other item, which follow by index (evaluation::top_k_of's ties).
    std::vector<std::uint8_t> candidate = ev::candidate_flags(ranker_training_);
    for (std::size_t i = 0; i < blocked_.size() && i < candidate.size(); ++i)
      if (blocked_[i] != 0) candidate[i] = 0;
    core::ParallelFor pf;
    pf.threads = threads_;
    pf.parallel = rows > 1;
    pf.schedule = core::Schedule::dynamic;
    pf.serial_nested = true;
    core::parallel_for_with_state(
        rows, pf, [&] { return std::vector<float>(static_cast<std::size_t>(ranker_training_.n_items)); },
        [&](std::int64_t r, std::vector<float>& scores) {
          const Index u = users[static_cast<std::size_t>(r)];
          std::fill(scores.begin(), scores.end(), 0.0f);
          ranker_->items(u, scores);
          const std::vector<Index> top = ev::top_k_unseen(scores, candidate, ev::seen_items(ranker_training_, u), k);
          for (int j = 0; j < k; ++j) {
            const bool has = static_cast<std::size_t>(j) < top.size();
            out_items[r * k + j] = has ? top[static_cast<std::size_t>(j)] : -1;
            out_scores[r * k + j] = has ? scores[static_cast<std::size_t>(top[static_cast<std::size_t>(j)])]
                                        : -std::numeric_limits<float>::infinity();
          }
        });
  } else if (sequence_) {
    const io::SequenceResult& s = *sequence_;
    core::ParallelFor pf;
    pf.threads = threads_;
    pf.parallel = rows > 1;
    pf.serial_nested = true;  // Eigen inside hybrid_scores stays on this thread
    core::parallel_for_with_state(
        rows, pf, [&] { return std::vector<float>(static_cast<std::size_t>(s.item_factors.rows())); },
        [&](std::int64_t r, std::vector<float>& scores) {
          const Index u = users[static_cast<std::size_t>(r)];
          temporal::hybrid_scores(s.item_factors, item_label_seeds_, s.next_factors.row(u).transpose(),
                                  s.next_interests.row(u).transpose(), s.interest_weight, scores);
          mf::top_k_scores(scores, exclude.of(r), blocked_, k, out_items + r * k, out_scores + r * k);
        });
  } else {
    check_k(k);
    const propagation::TopItems& top = walk_->top;
    for (std::int64_t r = 0; r < rows; ++r) {
      const auto items = top.items_of(users[static_cast<std::size_t>(r)]);
      const auto scores = top.scores_of(users[static_cast<std::size_t>(r)]);
      int j = 0;
      for (int c = 0; c < top.k && j < k; ++c) {
        const Index i = items[static_cast<std::size_t>(c)];
        if (i < 0 || (!blocked_.empty() && blocked_[static_cast<std::size_t>(i)])) continue;
        out_items[r * k + j] = i;
        out_scores[r * k + j++] = scores[static_cast<std::size_t>(c)];
      }
      for (; j < k; ++j) {
        out_items[r * k + j] = -1;
        out_scores[r * k + j] = -std::numeric_limits<float>::infinity();
      }
    }
  }
}

}  // namespace driftrec::pipeline
