// Synthetic interaction logs with PLANTED interest drift and known truth, so that every
// stage downstream (ingest, propagation, the sequence model, evaluation) can be checked
// against the answer it should recover.
//
// Each user holds a sparse distribution over labels (a few labels in support) that moves
// from period to period:
//   - a Dirichlet random walk, w(t) ~ Dir(kappa * w(t-1)) with kappa = 1/drift^2, so
//     E[w(t)] = w(t-1) and sd(w_l(t)) ~ drift * sqrt(w_l (1 - w_l)) (the discrete analogue
//     of the random-walk topics of Blei & Lafferty 2006, "Dynamic topic models");
//   - labels whose weight falls below kDropWeight leave the support (interests fade);
//   - with probability `jump` per period, a mass m ~ U(0.25, 0.6) moves to a label the user
//     has never had (the new-interest drift that Koren 2009, "Collaborative filtering with
//     temporal dynamics", shows a static model misses, and that evaluation scores as
//     new-label recall).
// Events: per user and period, a Poisson count with mean events_per_period * activity_u
// (activity lognormal, rescaled to average exactly 1 over users, so users are heavy-tailed
// and have gaps); each event draws a label from the user's current distribution, then an
// item among the items carrying that label with probability proportional to its Zipf
// popularity (rank^-s, Zipf 1949) from a per-label alias table (Walker 1977, Vose 1991:
// O(1) per draw), at a uniform time in the period, value 1.
//
// Determinism: every random number comes from a xoshiro256** stream (Blackman & Vigna
// 2018) seeded by splitmix64 (Steele et al. 2014) from (seed, stream, index): one stream for
// the items, one per user. A user's whole history depends only on (config, user), so the
// output is identical for any thread count and any blocking of users. The samplers (normal,
// gamma, Poisson) are written here rather than taken from <random>, whose algorithms differ
// between standard libraries.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/events.hpp"
#include "graph/random.hpp"
#include "graph/types.hpp"

namespace driftrec::graph {

inline constexpr Time kDefaultPeriodSeconds = 2592000;  // 30 days
inline constexpr Time kDefaultStart = 1577836800;       // 2020-01-01 00:00 UTC
inline constexpr double kDropWeight = 0.02;             // a label below this leaves the support

// The generator's parameters. Field names match the `driftrec generate` options, and
// validate() names the option in its messages.
struct DriftConfig {
  Index users = 10000;
  Index items = 5000;
  Index labels = 20;                  // at most `items`, so every label has an item
  Index periods = 12;
  Time period_seconds = kDefaultPeriodSeconds;
  Time start = kDefaultStart;         // periods begin at the first multiple of
                                      // period_seconds at or after `start`
  double events_per_period = 5.0;     // mean events per user per period (before activity)
  double activity_sigma = 1.0;        // lognormal sigma of per-user activity; 0: all equal
  double popularity_exponent = 1.0;   // Zipf s: the item of popularity rank r has weight (r+1)^-s
  Index labels_per_item = 3;          // each item carries 1..labels_per_item labels, uniformly
  double labelled_fraction = 1.0;     // fraction of items whose labels are published
  double drift = 0.25;                // Dirichlet walk step, in [0, 1]; 0: weights never move
  double jump = 0.15;                 // probability per user and period of a new label
  Index user_labels = 3;              // initial support size; the support never exceeds twice it
  std::uint64_t seed = 42;

  // Throws InputError naming the option and what was expected.
  void validate() const;

  Time first_period_begin() const;
  Time period_begin(Index period) const { return first_period_begin() + period * period_seconds; }
  Time end_time() const { return period_begin(periods); }
  // The slicing that recovers the generator's periods exactly: "<period_seconds>s".
  std::string slice_spec() const;
};

// One row of the planted truth: the user's weight on a label during a period.
struct TruthEntry {
  Index user;
  Index period;
  Index label;
  double weight;
};

// One user's generated data; reused across users to keep allocations out of the hot loop.
struct UserLog {
  std::vector<Event> events;      // by time
  std::vector<TruthEntry> truth;  // every period (active or not), by (period, label); the
                                  // weights of a (user, period) sum to 1
  void clear() {
    events.clear();
    truth.clear();
  }

 private:
  friend class DriftGenerator;
  std::vector<Index> support_;   // current labels, ascending
  std::vector<double> weight_;   // their weights
  std::vector<Index> history_;   // every label the user ever had
  std::vector<double> cumulative_;
  std::vector<Time> times_;
};

class DriftGenerator {
 public:
  // Validates the config and builds the items: their labels, popularity and per-label
  // alias tables (O(items * labels_per_item) memory), on `threads` threads (0: OpenMP's
  // default; a negative count is an InputError naming `threads`). The thread count is how
  // the generator runs, not what it generates, so it is not part of DriftConfig.
  explicit DriftGenerator(const DriftConfig& config, int threads = 0);

  const DriftConfig& config() const { return config_; }

  // Every label an item carries (ascending), published or not.
  std::span<const Index> item_labels(Index item) const;
  // Whether the item's labels are published (labels.csv); exactly
  // round(labelled_fraction * items) items are.
  bool item_published(Index item) const { return published_[item] != 0; }
  Index published_items() const { return published_count_; }
  // Zipf probability of the item (sums to 1 over items); the draw within a label
  // is proportional to it.
  double item_popularity(Index item) const { return popularity_[item]; }
  // The user's activity multiplier (averages exactly 1 over all users).
  double user_activity(Index user) const;

  // Appends the user's truth and events to `out` (after clearing it). Thread-safe:
  // const, and its randomness is the user's own stream.
  void generate_user(Index user, UserLog& out) const;

 private:
  struct AliasSlot {
    double threshold;  // take `item` when the fractional part is below this, else `alias`
    Index item;
    Index alias;
  };
  Index draw_item(Index label, Rng& rng) const;
  void step_interests(Index period, Rng& rng, UserLog& log) const;

  DriftConfig config_;
  std::vector<Offset> item_label_ptr_;
  std::vector<Index> item_label_idx_;
  std::vector<std::uint8_t> published_;
  Index published_count_ = 0;
  std::vector<double> popularity_;
  std::vector<Offset> alias_ptr_;   // label l's slots are [alias_ptr_[l], alias_ptr_[l+1])
  std::vector<AliasSlot> alias_;
  double activity_norm_ = 1.0;      // 1 / mean raw lognormal activity over all users
};

// The whole log in memory, users in order (each user's events by time): for tests, demos
// and library callers. Parallel over fixed blocks of users on `threads` threads (0: OpenMP's
// default); identical for any thread count.
struct DriftLog {
  std::vector<Event> events;
  std::vector<TruthEntry> truth;
};
DriftLog generate_drift_log(const DriftGenerator& generator, int threads = 0);

}  // namespace driftrec::graph
