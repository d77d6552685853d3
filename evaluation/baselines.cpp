#include "evaluation/baselines.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace driftrec::evaluation {

using graph::Index;

const char* to_string(Task t) { return t == Task::interest ? "interest" : "item"; }

void FittedModel::interest(Index, std::span<float>) const {
  throw std::logic_error("this model does not predict interests");
}
void FittedModel::items(Index, std::span<float>) const {
  throw std::logic_error("this model does not score items");
}

double param(const Params& p, const std::string& name) {
  auto it = p.find(name);
  if (it == p.end()) throw std::out_of_range(fmt::format("hyper-parameter '{}' is not set", name));
  return it->second;
}

namespace {

std::vector<float> to_float(const std::vector<double>& v) { return {v.begin(), v.end()}; }

// The same scores for every user.
class GlobalScores : public FittedModel {
 public:
  GlobalScores(std::vector<float> labels, std::vector<float> items)
      : labels_(std::move(labels)), items_(std::move(items)) {}
  void interest(Index, std::span<float> out) const override {
    std::copy(labels_.begin(), labels_.end(), out.begin());
  }
  void items(Index, std::span<float> out) const override {
    std::copy(items_.begin(), items_.end(), out.begin());
  }

 private:
  std::vector<float> labels_, items_;
};

// Per-user label vectors, a dense users x labels table.
class UserLabels : public FittedModel {
 public:
  UserLabels(Index labels, std::vector<float> table) : labels_(labels), table_(std::move(table)) {}
  void interest(Index user, std::span<float> out) const override {
    const auto* row = table_.data() + static_cast<std::size_t>(user) * static_cast<std::size_t>(labels_);
    std::copy(row, row + labels_, out.begin());
  }

 private:
  Index labels_;
  std::vector<float> table_;
};

// The label distribution of each (user, period) of the training events, period by
// period: calls f(user, period, distribution) for every pair with a labelled event.
template <typename F>
void for_each_user_period(const Training& t, F&& f) {
  const std::size_t n_labels = static_cast<std::size_t>(t.n_labels);
  std::vector<std::vector<double>> acc;  // per user of the period, lazily
  std::vector<Index> touched;
  std::vector<double> row(n_labels);
  std::vector<int> slot(static_cast<std::size_t>(t.n_users), -1);
  for (std::size_t p = 0; p < t.period; ++p) {
    touched.clear();
    for (std::size_t k = t.period_first[p]; k < t.period_first[p + 1]; ++k) {
      const Index u = t.events.user[k];
      if (slot[static_cast<std::size_t>(u)] < 0) {
        slot[static_cast<std::size_t>(u)] = static_cast<int>(touched.size());
        touched.push_back(u);
        if (acc.size() < touched.size()) acc.emplace_back(n_labels);
        std::fill(acc[touched.size() - 1].begin(), acc[touched.size() - 1].end(), 0.0);
      }
      add_item_labels(t.item_labels, t.events.item[k], 1.0,
                      acc[static_cast<std::size_t>(slot[static_cast<std::size_t>(u)])]);
    }
    for (std::size_t j = 0; j < touched.size(); ++j) {
      slot[static_cast<std::size_t>(touched[j])] = -1;
      if (normalize(acc[j])) f(touched[j], p, std::span<const double>(acc[j]));
    }
  }
}

}  // namespace

std::vector<float> popularity_interest(const Training& t) {
  return to_float(label_distribution(t.events, 0, t.events.size(), -1, t.item_labels));
}

ModelSpec popularity_model() {
  ModelSpec m;
  m.name = "popularity";
  m.interest = m.item = true;
  m.fit = [](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
    return std::make_unique<GlobalScores>(popularity_interest(t), to_float(t.item_events));
  };
  return m;
}

ModelSpec recent_popularity_model() {
  ModelSpec m;
  m.name = "recent_popularity";
  m.interest = m.item = true;
  m.fit = [](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
    const std::size_t first = t.period_first[t.period - 1], last = t.period_first[t.period];
    std::vector<float> items(static_cast<std::size_t>(t.n_items), 0.0f);
    for (std::size_t k = first; k < last; ++k) items[static_cast<std::size_t>(t.events.item[k])] += 1;
    return std::make_unique<GlobalScores>(
        to_float(label_distribution(t.events, first, last, -1, t.item_labels)), std::move(items));
  };
  return m;
}

ModelSpec last_period_model() {
  ModelSpec m;
  m.name = "last_period";
  m.interest = true;
  m.fit = [](const Training& t, const Params&) -> std::unique_ptr<FittedModel> {
    const std::size_t L = static_cast<std::size_t>(t.n_labels);
    std::vector<float> table(static_cast<std::size_t>(t.n_users) * L, 0.0f);
    // Periods come in order, so the last write for a user is its latest labelled period.
    for_each_user_period(t, [&](Index u, std::size_t, std::span<const double> d) {
      float* row = table.data() + static_cast<std::size_t>(u) * L;
      for (std::size_t l = 0; l < L; ++l) row[l] = static_cast<float>(d[l]);
    });
    return std::make_unique<UserLabels>(t.n_labels, std::move(table));
  };
  return m;
}

ModelSpec ewma_model(std::vector<double> half_lives) {
  ModelSpec m;
  m.name = "ewma";
  m.interest = true;
  m.grid.clear();
  for (double h : half_lives) m.grid.push_back({{"half_life", h}});
  m.fit = [](const Training& t, const Params& params) -> std::unique_ptr<FittedModel> {
    const double half_life = param(params, "half_life");
    if (!(half_life > 0)) throw std::invalid_argument("ewma: half_life must be positive");
    const std::size_t L = static_cast<std::size_t>(t.n_labels);
    std::vector<double> acc(static_cast<std::size_t>(t.n_users) * L, 0.0);
    for_each_user_period(t, [&](Index u, std::size_t p, std::span<const double> d) {
      const double age = static_cast<double>(t.period - 1 - p);  // 0 for the last training period
      const double w = std::exp2(-age / half_life);
      double* row = acc.data() + static_cast<std::size_t>(u) * L;
      for (std::size_t l = 0; l < L; ++l) row[l] += w * d[l];
    });
    std::vector<float> table(acc.size());
    for (std::size_t u = 0; u < static_cast<std::size_t>(t.n_users); ++u) {
      std::span<double> row(acc.data() + u * L, L);
      normalize(row);
      for (std::size_t l = 0; l < L; ++l) table[u * L + l] = static_cast<float>(row[l]);
    }
    return std::make_unique<UserLabels>(t.n_labels, std::move(table));
  };
  return m;
}

}  // namespace driftrec::evaluation
