// The small interface every evaluated model implements, so that any module plugs a row
// into `driftrec evaluate`: given the Training of period P (only data strictly before P,
// see split.hpp) and one setting of its hyper-parameters, a model is fitted once and then
// asked, for each evaluated user, for label scores (interest task) and / or a score for
// every item (item task). The evaluator tunes each model on the validation period over
// its grid, then refits it for every test period with the chosen setting.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "evaluation/split.hpp"
#include "graph/types.hpp"

namespace driftrec::evaluation {

enum class Task { interest, item };
const char* to_string(Task t);  // "interest" | "item"

// Named hyper-parameter values, e.g. {"half_life": 4}.
using Params = std::map<std::string, double>;

// A model fitted on one Training. Both queries are const and called concurrently from
// several threads; `out` arrives zero-filled.
class FittedModel {
 public:
  virtual ~FittedModel() = default;
  // Non-negative label scores for `user` (out.size() == n_labels); the evaluator
  // normalises them. All zero means "no prediction for this user": the evaluator then
  // uses popularity's prediction (the label distribution of every training event).
  virtual void interest(graph::Index user, std::span<float> out) const;
  // The order the label metrics (recall@3, ndcg@3, new-label recall@3) rank `user`'s labels
  // in, when it is not the order of interest()'s scores: fills `out` (n_labels, higher
  // first, ties toward the lower index) and returns true. Cross-entropy and KL always score
  // interest()'s distribution. Only called when interest() gave a prediction.
  virtual bool label_ranking(graph::Index /*user*/, std::span<float> /*out*/) const { return false; }
  // A score for every item (out.size() == n_items), higher is better; only candidates the
  // user did not have are ranked, ties toward the lower index.
  virtual void items(graph::Index user, std::span<float> out) const;
  // Anything the report should say about this fit (non-convergence...); empty: nothing.
  virtual std::string note() const { return {}; }
};

struct ModelSpec {
  std::string name;  // snake_case: the JSON's "model"
  bool interest = false;
  bool item = false;
  std::vector<Params> grid{Params{}};  // settings tried on validation (one: nothing to tune)
  std::function<std::unique_ptr<FittedModel>(const Training&, const Params&)> fit;
  // Periods the model must see before the validation period, where it may be fitted first
  // (make_split's rule; the sequence model needs temporal::kMinSequencePeriods).
  std::size_t min_training_periods = 1;
  // Item-only models: the validation metric their grid is chosen by. false: ndcg@K of the
  // first K asked for; true: recall@K of the largest K asked for (the ranker, whose goal is
  // recall@20 and whose grid holds each of its sources alone).
  bool select_by_recall = false;

  bool supports(Task t) const { return t == Task::interest ? interest : item; }
};

// The value of `name` in `p`; throws std::out_of_range naming it if absent.
double param(const Params& p, const std::string& name);

}  // namespace driftrec::evaluation
