// Planted-drift generator: see generator.hpp for the model and its references. This file
// holds the item tables (labels, Zipf popularity, per-label alias
// tables) and the per-user walk that emits truth and events.
#include "graph/generator.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::graph {
namespace {

// Independent streams under one seed: the items use one, each user two (activity is
// drawn separately so it can be normalised over all users before any user is generated).
constexpr std::uint64_t kItemStream = 1;
constexpr std::uint64_t kActivityStream = 2;
constexpr std::uint64_t kUserStream = 3;

constexpr Time kMaxTime = 253402300799;    // 9999-12-31 23:59:59 UTC
constexpr Index kActivityBlock = 65536;    // fixed blocks: the mean is summed the same way
                                           // for any thread count
constexpr Index kLogBlock = 256;           // users per task in generate_drift_log

void normalise(std::vector<double>& w) {
  double sum = 0;
  for (double v : w) sum += v;
  for (double& v : w) v /= sum;
}

template <class T>
void erase_at(std::vector<T>& v, std::size_t i) {
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
}

}  // namespace

// ---- DriftConfig -----------------------------------------------------------------------

void DriftConfig::validate() const {
  auto fail = [](const std::string& msg) { throw InputError(msg); };
  if (users <= 0) fail(fmt::format("--users: expected a positive count below 2^31, got {}", users));
  if (items <= 0) fail(fmt::format("--items: expected a positive count below 2^31, got {}", items));
  if (labels <= 0) fail(fmt::format("--labels: expected a positive count, got {}", labels));
  if (labels > items)
    fail(fmt::format("--labels: expected at most --items ({}) labels so that every label has an "
                     "item, got {}", items, labels));
  if (periods <= 0 || static_cast<std::size_t>(periods) > 100000)
    fail(fmt::format("--periods: expected a count in [1, 100000], got {}", periods));
  if (period_seconds <= 0)
    fail(fmt::format("--period-seconds: expected a positive number of seconds, got {}",
                     period_seconds));
  if (start < 0 || start > kMaxTime)
    fail(fmt::format("--start: expected Unix seconds in [0, {}], got {}", kMaxTime, start));
  if (period_seconds > kMaxTime || (kMaxTime - first_period_begin()) / period_seconds < periods)
    fail(fmt::format("--periods x --period-seconds: {} periods of {} s from {} run past year 9999",
                     periods, period_seconds, start));
  if (!(events_per_period > 0.0 && events_per_period <= 1e9))
    fail(fmt::format("--events-per-period: expected a positive mean (at most 1e9), got {}",
                     events_per_period));
  if (!(activity_sigma >= 0.0 && activity_sigma <= 5.0))
    fail(fmt::format("--activity-sigma: expected a lognormal sigma in [0, 5], got {}",
                     activity_sigma));
  if (!(popularity_exponent >= 0.0 && popularity_exponent <= 10.0))
    fail(fmt::format("--popularity-exponent: expected a Zipf exponent in [0, 10], got {}",
                     popularity_exponent));
  if (labels_per_item <= 0 || labels_per_item > labels)
    fail(fmt::format("--labels-per-item: expected a count in [1, --labels = {}], got {}", labels,
                     labels_per_item));
  if (!(labelled_fraction >= 0.0 && labelled_fraction <= 1.0))
    fail(fmt::format("--labelled-fraction: expected a fraction in [0, 1], got {}",
                     labelled_fraction));
  if (!(drift >= 0.0 && drift <= 1.0))
    fail(fmt::format("--drift: expected a step in [0, 1], got {}", drift));
  if (!(jump >= 0.0 && jump <= 1.0))
    fail(fmt::format("--jump: expected a probability in [0, 1], got {}", jump));
  if (user_labels <= 0 || user_labels > labels)
    fail(fmt::format("--user-labels: expected a count in [1, --labels = {}], got {}", labels,
                     user_labels));
}

Time DriftConfig::first_period_begin() const {
  if (period_seconds <= 0) return start;
  return (start + period_seconds - 1) / period_seconds * period_seconds;
}

std::string DriftConfig::slice_spec() const { return fmt::format("{}s", period_seconds); }

// ---- DriftGenerator: items -------------------------------------------------------------

DriftGenerator::DriftGenerator(const DriftConfig& config, int threads) : config_(config) {
  config_.validate();
  core::check_threads(threads);
  const Index n_items = config_.items;
  const Index n_labels = config_.labels;
  Rng rng(config_.seed, kItemStream, 0);
  std::vector<Index> order(static_cast<std::size_t>(n_items));
  auto shuffle = [&] {
    std::iota(order.begin(), order.end(), Index{0});
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  };

  // Popularity ranks are a random permutation, so an item's id says nothing about it.
  shuffle();
  popularity_.assign(order.size(), 0.0);
  double total = 0;
  for (std::size_t r = 0; r < order.size(); ++r) {
    const double w = std::pow(static_cast<double>(r + 1), -config_.popularity_exponent);
    popularity_[static_cast<std::size_t>(order[r])] = w;
    total += w;
  }
  for (double& p : popularity_) p /= total;

  // Labels: a random item is given label l for every l (so no label is empty), then each
  // item fills up to its 1..labels_per_item distinct labels uniformly.
  shuffle();
  std::vector<Index> cover(order.size(), -1);
  for (Index l = 0; l < n_labels; ++l) cover[static_cast<std::size_t>(order[l])] = l;
  item_label_ptr_.assign(order.size() + 1, 0);
  item_label_idx_.reserve(order.size() * static_cast<std::size_t>(config_.labels_per_item + 1) / 2);
  for (Index i = 0; i < n_items; ++i) {
    const auto first = item_label_idx_.size();
    const auto want = 1 + rng.below(static_cast<std::uint64_t>(config_.labels_per_item));
    if (cover[i] >= 0) item_label_idx_.push_back(cover[i]);
    while (item_label_idx_.size() - first < want) {
      const auto l = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n_labels)));
      if (std::find(item_label_idx_.begin() + static_cast<std::ptrdiff_t>(first),
                    item_label_idx_.end(), l) == item_label_idx_.end())
        item_label_idx_.push_back(l);
    }
    std::sort(item_label_idx_.begin() + static_cast<std::ptrdiff_t>(first), item_label_idx_.end());
    item_label_ptr_[static_cast<std::size_t>(i) + 1] = static_cast<Offset>(item_label_idx_.size());
  }

  // Published labels: exactly round(fraction * items) items, chosen at random.
  shuffle();
  published_count_ = static_cast<Index>(std::llround(config_.labelled_fraction * n_items));
  published_.assign(order.size(), 0);
  for (Index r = 0; r < published_count_; ++r) published_[static_cast<std::size_t>(order[r])] = 1;

  // label -> items (the transpose, by counting), then one alias table per label over the
  // popularity of its items.
  alias_ptr_.assign(static_cast<std::size_t>(n_labels) + 1, 0);
  for (Index l : item_label_idx_) ++alias_ptr_[static_cast<std::size_t>(l) + 1];
  std::partial_sum(alias_ptr_.begin(), alias_ptr_.end(), alias_ptr_.begin());
  std::vector<Index> label_items(item_label_idx_.size());
  {
    std::vector<Offset> fill(alias_ptr_.begin(), alias_ptr_.end() - 1);
    for (Index i = 0; i < n_items; ++i)
      for (Index l : item_labels(i)) label_items[static_cast<std::size_t>(fill[l]++)] = i;
  }
  alias_.resize(item_label_idx_.size());
  // One task per label (label sizes are skewed); each writes only its own slots.
  struct AliasScratch {
    std::vector<double> q;
    std::vector<std::int64_t> small, large;
  };
  core::ParallelFor per_label;
  per_label.threads = threads;
  per_label.schedule = core::Schedule::dynamic;
  core::parallel_for_with_state(
      n_labels, per_label, [] { return AliasScratch{}; },
      [&](std::int64_t label, AliasScratch& scratch) {
        const auto l = static_cast<Index>(label);
        auto& [q, small, large] = scratch;
        // Vose's alias method: slot k keeps item k with probability threshold and otherwise
        // yields the alias that topped it up.
        const Offset b = alias_ptr_[l];
        const Offset n = alias_ptr_[l + 1] - b;
        q.assign(static_cast<std::size_t>(n), 0.0);
        double sum = 0;
        for (Offset k = 0; k < n; ++k) sum += popularity_[label_items[b + k]];
        small.clear();
        large.clear();
        for (Offset k = 0; k < n; ++k) {
          q[k] = popularity_[label_items[b + k]] * static_cast<double>(n) / sum;
          (q[k] < 1.0 ? small : large).push_back(k);
        }
        while (!small.empty() && !large.empty()) {
          const auto s = small.back();
          small.pop_back();
          const auto g = large.back();
          alias_[b + s] = {q[s], label_items[b + s], label_items[b + g]};
          q[g] -= 1.0 - q[s];
          if (q[g] < 1.0) {
            large.pop_back();
            small.push_back(g);
          }
        }
        // What is left is 1 up to rounding.
        for (auto k : small) alias_[b + k] = {1.0, label_items[b + k], label_items[b + k]};
        for (auto k : large) alias_[b + k] = {1.0, label_items[b + k], label_items[b + k]};
      });

  // Activity: mean of the raw lognormal draws, summed in fixed blocks.
  if (config_.activity_sigma > 0) {
    const auto n_blocks =
        static_cast<Index>((std::int64_t{config_.users} + kActivityBlock - 1) / kActivityBlock);
    std::vector<double> partial(static_cast<std::size_t>(n_blocks), 0.0);
    const double s = config_.activity_sigma;
    core::parallel_for(n_blocks, core::ParallelFor{.threads = threads}, [&](std::int64_t blk) {
      const std::int64_t first = blk * kActivityBlock;
      const std::int64_t end = std::min<std::int64_t>(config_.users, first + kActivityBlock);
      double acc = 0;
      for (std::int64_t u = first; u < end; ++u) {
        Rng r(config_.seed, kActivityStream, static_cast<std::uint64_t>(u));
        acc += std::exp(s * r.normal());
      }
      partial[static_cast<std::size_t>(blk)] = acc;
    });
    double sum = 0;
    for (double p : partial) sum += p;
    activity_norm_ = static_cast<double>(config_.users) / sum;
  }
}

std::span<const Index> DriftGenerator::item_labels(Index item) const {
  const auto b = static_cast<std::size_t>(item_label_ptr_[item]);
  const auto e = static_cast<std::size_t>(item_label_ptr_[item + 1]);
  return {item_label_idx_.data() + b, e - b};
}

double DriftGenerator::user_activity(Index user) const {
  if (config_.activity_sigma <= 0) return 1.0;
  Rng r(config_.seed, kActivityStream, static_cast<std::uint64_t>(user));
  return std::exp(config_.activity_sigma * r.normal()) * activity_norm_;
}

Index DriftGenerator::draw_item(Index label, Rng& rng) const {
  const Offset b = alias_ptr_[label];
  const Offset n = alias_ptr_[label + 1] - b;
  const double x = rng.uniform() * static_cast<double>(n);
  const Offset k = std::min<Offset>(static_cast<Offset>(x), n - 1);
  const AliasSlot& slot = alias_[b + k];
  return x - static_cast<double>(k) < slot.threshold ? slot.item : slot.alias;
}

// ---- DriftGenerator: one user's walk ---------------------------------------------------

void DriftGenerator::step_interests(Index period, Rng& rng, UserLog& log) const {
  auto& sup = log.support_;
  auto& w = log.weight_;
  auto& hist = log.history_;
  const Index n_labels = config_.labels;

  // Labels below kDropWeight fade out; the largest always stays.
  auto drop_small = [&] {
    const auto top = static_cast<std::size_t>(std::max_element(w.begin(), w.end()) - w.begin());
    bool dropped = false;
    for (std::size_t i = w.size(); i-- > 0;)
      if (i != top && w[i] < kDropWeight) {
        erase_at(sup, i);
        erase_at(w, i);
        dropped = true;
      }
    if (dropped) normalise(w);
  };

  if (period == 0) {
    sup.clear();
    w.clear();
    while (static_cast<Index>(sup.size()) < config_.user_labels) {
      const auto l = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n_labels)));
      if (std::find(sup.begin(), sup.end(), l) == sup.end()) sup.push_back(l);
    }
    std::sort(sup.begin(), sup.end());
    for (std::size_t i = 0; i < sup.size(); ++i) w.push_back(rng.gamma(1.0));  // Dir(1,...,1)
    normalise(w);
    drop_small();
    hist = sup;
    return;
  }

  // w(t) ~ Dir(kappa * w(t-1)).
  if (config_.drift > 0) {
    const double kappa = 1.0 / (config_.drift * config_.drift);
    auto& g = log.cumulative_;
    g.clear();
    double sum = 0;
    for (double v : w) {
      g.push_back(rng.gamma(kappa * v));
      sum += g.back();
    }
    if (sum > 0 && std::isfinite(sum)) w = g;  // all-zero draws (underflow): stay put
    normalise(w);
  }
  drop_small();

  // A jump: mass moves to a label the user never had.
  if (rng.uniform() < config_.jump && static_cast<Index>(hist.size()) < n_labels) {
    Index fresh;
    const auto unseen = static_cast<std::uint64_t>(n_labels) - hist.size();
    if (hist.size() * 2 < static_cast<std::size_t>(n_labels)) {
      do {
        fresh = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n_labels)));
      } while (std::binary_search(hist.begin(), hist.end(), fresh));
    } else {  // mostly seen: take the r-th unseen label directly
      auto r = rng.below(unseen);
      fresh = 0;
      for (std::size_t h = 0; h <= hist.size(); ++h) {
        const Index next = h < hist.size() ? hist[h] : n_labels;
        const auto gap = static_cast<std::uint64_t>(next - fresh);
        if (r < gap) {
          fresh += static_cast<Index>(r);
          break;
        }
        r -= gap;
        fresh = next + 1;
      }
    }
    const double mass = 0.25 + 0.35 * rng.uniform();
    for (double& v : w) v *= 1.0 - mass;
    const auto at = std::lower_bound(sup.begin(), sup.end(), fresh) - sup.begin();
    sup.insert(sup.begin() + at, fresh);
    w.insert(w.begin() + at, mass);
    hist.insert(std::lower_bound(hist.begin(), hist.end(), fresh), fresh);
  }

  // Sparse: at most twice the initial support; the smallest go first.
  const auto cap = static_cast<std::size_t>(2 * config_.user_labels);
  if (sup.size() > cap) {
    while (sup.size() > cap) {
      const auto i = static_cast<std::size_t>(std::min_element(w.begin(), w.end()) - w.begin());
      erase_at(sup, i);
      erase_at(w, i);
    }
    normalise(w);
  }
}

void DriftGenerator::generate_user(Index user, UserLog& log) const {
  log.clear();
  Rng rng(config_.seed, kUserStream, static_cast<std::uint64_t>(user));
  const double mean = config_.events_per_period * user_activity(user);
  const auto length = static_cast<std::uint64_t>(config_.period_seconds);
  for (Index p = 0; p < config_.periods; ++p) {
    step_interests(p, rng, log);
    const auto& sup = log.support_;
    const auto& w = log.weight_;
    for (std::size_t i = 0; i < sup.size(); ++i) log.truth.push_back({user, p, sup[i], w[i]});

    auto& cum = log.cumulative_;
    cum.resize(w.size());
    std::partial_sum(w.begin(), w.end(), cum.begin());
    const std::size_t last = cum.size() - 1;
    const Time begin = config_.period_begin(p);
    const std::int64_t n = rng.poisson(mean);
    // Times and items are independent, so sorting the times alone and pairing them with
    // the items in draw order gives the same law as sorting whole events, for less work.
    auto& times = log.times_;
    times.resize(static_cast<std::size_t>(n));
    for (auto& t : times) t = begin + static_cast<Time>(rng.below(length));
    std::sort(times.begin(), times.end());
    for (const Time t : times) {
      const double u = rng.uniform();
      std::size_t i = 0;
      while (i < last && u >= cum[i]) ++i;
      log.events.push_back({t, user, draw_item(sup[i], rng), 1.0f});
    }
  }
}

DriftLog generate_drift_log(const DriftGenerator& generator, int threads) {
  core::check_threads(threads);
  const Index users = generator.config().users;
  const auto n_blocks = static_cast<Index>((std::int64_t{users} + kLogBlock - 1) / kLogBlock);
  std::vector<DriftLog> parts(static_cast<std::size_t>(n_blocks));
  core::ParallelFor per_block;
  per_block.threads = threads;
  per_block.schedule = core::Schedule::dynamic;
  core::parallel_for_with_state(
      n_blocks, per_block, [] { return UserLog{}; },
      [&](std::int64_t blk, UserLog& log) {
        auto& part = parts[static_cast<std::size_t>(blk)];
        const std::int64_t first = blk * kLogBlock;
        const std::int64_t end = std::min<std::int64_t>(users, first + kLogBlock);
        for (std::int64_t u = first; u < end; ++u) {
          generator.generate_user(static_cast<Index>(u), log);
          part.events.insert(part.events.end(), log.events.begin(), log.events.end());
          part.truth.insert(part.truth.end(), log.truth.begin(), log.truth.end());
        }
      });
  DriftLog out;
  std::size_t n_events = 0, n_truth = 0;
  for (const auto& p : parts) {
    n_events += p.events.size();
    n_truth += p.truth.size();
  }
  out.events.reserve(n_events);
  out.truth.reserve(n_truth);
  for (auto& p : parts) {
    out.events.insert(out.events.end(), p.events.begin(), p.events.end());
    out.truth.insert(out.truth.end(), p.truth.begin(), p.truth.end());
    p = DriftLog{};
  }
  return out;
}

}  // namespace driftrec::graph
