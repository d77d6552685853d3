// Tuning within a time budget (issue 13, item 4): a small, generic search that tries
// candidate settings in the order given, scores each with a caller's function (lower is
// better) and keeps the best, and stops before a candidate the budget cannot pay for. The
// first candidate (the defaults) is always tried, so a budget too small for any search
// still yields the defaults; after that a candidate starts only if the time spent so far
// plus the slowest try so far stays within the budget, so the search ends within the
// budget unless one try is slower than every earlier one (the overshoot is at most that
// one try, and the result says how long it all took).
//
// tune_sequence applies it to the sequence models of `driftrec evaluate`: hidden size,
// window and learning rate, each setting trained (GRU cell) on the data strictly before
// the validation period and scored by the mean interest cross-entropy on that period's
// pairs; the test periods are never read. The candidates vary one option at a time from
// the defaults (a coordinate search), cheaper settings first.
//
// Seam for the interest mixture (issue 13, item 1): when a `mixture` row exposes its
// experts as options, their switches join the Params of tune_sequence's space and
// apply_sequence_params sets them; nothing else here changes.
#pragma once
#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluation/model.hpp"
#include "evaluation/split.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::evaluation {

struct TuneTrial {
  Params params;
  double value = 0;  // the score (NaN: undefined, never chosen)
  double seconds = 0;
};

struct TuneResult {
  Params chosen;
  std::vector<TuneTrial> trials;  // in the order tried
  std::size_t skipped = 0;        // candidates left untried for the budget
  double budget_seconds = 0;
  double seconds = 0;  // the whole search
};

// Seconds on some monotonic clock (tests pass a fake one).
using TuneClock = std::function<double()>;

// Throws InputError if candidates is empty or the budget is negative.
TuneResult tune_within_budget(const std::vector<Params>& candidates,
                              const std::function<double(const Params&)>& score, double budget_seconds,
                              const TuneClock& clock = {});

nlohmann::json to_json(const TuneResult& r);

// The sequence models' search space from `base`: {hidden, window, learning_rate}, the
// defaults first.
std::vector<Params> sequence_search_space(const temporal::SequenceOptions& base);
// `base` with the settings of `p` (keys absent from p keep base's values).
temporal::SequenceOptions apply_sequence_params(temporal::SequenceOptions base, const Params& p);

// The mean interest cross-entropy of a GRU fitted with `o` on the data before `period`,
// over the evaluated pairs of `period` (the evaluator's fallback to popularity for users
// without a prediction).
double sequence_validation_loss(const EvaluationData& data, std::size_t period, const temporal::SequenceOptions& o);

// Chooses the sequence settings on `validation_period` within the budget.
TuneResult tune_sequence(const EvaluationData& data, std::size_t validation_period,
                         const temporal::SequenceOptions& base, double budget_seconds,
                         const TuneClock& clock = {});

}  // namespace driftrec::evaluation
