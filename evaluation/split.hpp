// The global temporal split of the evaluation protocol (docs/evaluation.md, "Evaluation protocol"
// and "Exact definitions"; no look-ahead as in Ji et al. 2023, "A critical study on data
// leakage in recommender system offline evaluation"): the last N non-empty periods are
// test periods, the one before them is the validation period, and a model that predicts
// period P is handed a Training holding COPIES of the data strictly before P (slices
// W_0..W_{P-1}, the events before P), so it cannot reach an event of P or later.
//
// Truth for (user, P), for users with an event in P and one before P:
//   interests: the normalised sum over the user's events in P (repeats included) of each
//              item's label vector, an item's labels sharing weight 1 equally (unlabelled
//              items add nothing); empty: the user is skipped for the interest task;
//   new labels: labels of that support absent from every item the user touched before P;
//   items: the user's items in P that were seen in training (candidates) and that the
//          user did not have before P; ranked among candidates minus the user's items.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "graph/events.hpp"
#include "graph/slicing.hpp"
#include "io/store.hpp"
#include "temporal/history.hpp"

namespace driftrec::evaluation {

// A store's content held in memory for evaluation.
struct EvaluationData {
  std::string store;    // path, for reports
  std::string slicing;  // the store's slicing spec
  graph::Index n_users = 0, n_items = 0, n_labels = 0;
  std::vector<std::string> user_ids, label_names;
  graph::Periods periods;
  std::vector<graph::CsrMatrix> slices;   // W_k, one per period (users x items)
  graph::EventColumns events;             // sorted by time
  std::vector<std::size_t> period_first;  // events of period k: [period_first[k], period_first[k+1])
  graph::CsrMatrix item_labels;           // items x labels
};

// Reads everything from the store (slices as stored, so their aggregation is the store's).
EvaluationData load_evaluation_data(const io::Store& store);

// The same from parts already in memory: slices are derived from the events with
// `aggregate` (tests, library callers). Events must be sorted by time.
EvaluationData make_evaluation_data(graph::Index n_users, graph::Index n_items,
                                    graph::CsrMatrix item_labels, graph::EventColumns events,
                                    const graph::Slicing& slicing, graph::Aggregate aggregate);

struct Split {
  std::size_t validation = 0;       // the period hyper-parameters are tuned on
  std::vector<std::size_t> test;    // ascending period indices
};

// The most test periods a store of `n_periods` periods allows (0: none) when the models
// need `min_training_periods` periods before the validation period (the most any model
// evaluated needs: ModelSpec::min_training_periods; the sequence model's 3). The one rule
// behind make_split's check and its message: n_periods >= min_training_periods + 1 (the
// validation period) + test periods.
std::int64_t max_test_periods(std::size_t n_periods, std::size_t min_training_periods = 1);

// The last `test_periods` periods, 1 <= test_periods <= max_test_periods(n_periods,
// min_training_periods). Throws InputError naming --test-periods and the numbers that
// would be accepted, or saying plainly that the store has too few periods for any.
Split make_split(std::size_t n_periods, std::int64_t test_periods, std::size_t min_training_periods = 1);

// What a model may see when it predicts period P: the data strictly before P
// (temporal::History: n_users, n_items, n_labels, slices W_0 .. W_{P-1}, the events before
// P by time, P + 1 period offsets, item labels), and what the protocol adds.
struct Training : temporal::History {
  std::size_t period = 0;           // P, the period predicted (index into the store's periods)
  graph::CsrMatrix history;         // sum of the slices W_0 + .. + W_{P-1}
  std::vector<double> item_events;  // events per item before P (repeats included)
};

// Copies the data before `period` (period >= 1). O(events before P + slices).
Training make_training(const EvaluationData& data, std::size_t period);

// The label helpers of the truth formula (temporal/history.hpp).
using temporal::add_item_labels;
using temporal::normalize;

// The label distribution of events [first, last) of `events` restricted to `user`
// (user < 0: every event) -- the interest-truth formula. All zero if no event is labelled.
std::vector<double> label_distribution(const graph::EventColumns& events, std::size_t first,
                                       std::size_t last, graph::Index user,
                                       const graph::CsrMatrix& item_labels);

// One evaluated (user, period) pair and its truth.
struct EvaluatedPair {
  graph::Index user = 0;
  std::size_t period = 0;
  std::vector<double> interest;         // n_labels; all zero: skipped for the interest task
  bool has_interest = false;
  std::vector<graph::Index> new_labels;  // ascending
  std::vector<graph::Index> items;       // item truth, ascending; empty: skipped for items
};

// The pairs of period P (users ascending) with their truth, computed from the events of
// P and the Training of P.
std::vector<EvaluatedPair> evaluated_pairs(const EvaluationData& data, const Training& training);

// Items a user may be recommended at P: candidates (item_events > 0) not in the user's
// row of training.history, ascending.
std::vector<graph::Index> eligible_items(const Training& training, graph::Index user);

// The candidates of P as one flag per item (item_events > 0), for every user at once
// (metrics.hpp top_k_unseen ranks them minus a user's row of training.history).
std::vector<std::uint8_t> candidate_flags(const Training& training);

// The user's items of training.history (ascending): what top_k_unseen leaves out.
std::span<const graph::Index> seen_items(const Training& training, graph::Index user);

}  // namespace driftrec::evaluation
