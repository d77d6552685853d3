#include "evaluation/report.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace driftrec::evaluation {

namespace {

std::vector<std::string> undefined_rows(const EvaluationReport& r) {
  std::vector<std::string> out;
  for (const ResultRow& row : r.rows)
    if (row.estimate.n == 0)
      out.push_back(fmt::format("{} {} {}: no evaluated pair defines it (left out of results)",
                                row.model, row.task, row.metric));
  return out;
}

std::string cell(const Estimate& e) {
  if (e.n == 0) return "n/a";
  return fmt::format("{:.4f} [{:.4f}, {:.4f}]", e.value, e.lo, e.hi);
}

// One block: models as rows, the given metrics of `task` as columns.
void block(std::string& out, const EvaluationReport& r, const std::string& task,
           const std::vector<std::string>& metrics, const std::string& title) {
  std::vector<std::string> models;
  std::map<std::pair<std::string, std::string>, const ResultRow*> at;
  std::int64_t users = -1;
  for (const ResultRow& row : r.rows) {
    if (row.task != task || std::find(metrics.begin(), metrics.end(), row.metric) == metrics.end()) continue;
    if (std::find(models.begin(), models.end(), row.model) == models.end()) models.push_back(row.model);
    at[{row.model, row.metric}] = &row;
    if (row.metric == metrics.front()) users = row.estimate.n;
  }
  if (models.empty()) return;
  std::size_t name_w = 5;
  for (const auto& m : models) name_w = std::max(name_w, m.size());
  std::vector<std::size_t> w;
  for (const auto& m : metrics) {
    std::size_t width = m.size();
    for (const auto& model : models)
      if (auto it = at.find({model, m}); it != at.end()) width = std::max(width, cell(it->second->estimate).size());
    w.push_back(width);
  }
  out += fmt::format("\n{} ({} pairs)\n", title, users);
  out += fmt::format("{:<{}}", "model", name_w);
  for (std::size_t j = 0; j < metrics.size(); ++j) out += fmt::format("  {:<{}}", metrics[j], w[j]);
  out += "\n";
  for (const auto& model : models) {
    out += fmt::format("{:<{}}", model, name_w);
    for (std::size_t j = 0; j < metrics.size(); ++j) {
      auto it = at.find({model, metrics[j]});
      out += fmt::format("  {:<{}}", it == at.end() ? "-" : cell(it->second->estimate), w[j]);
    }
    out += "\n";
  }
  // Pair counts that differ from the first metric's (new labels: a subset).
  for (std::size_t j = 1; j < metrics.size(); ++j)
    for (const auto& model : models)
      if (auto it = at.find({model, metrics[j]}); it != at.end() && it->second->estimate.n != users) {
        out += fmt::format("  {}: over the {} pairs it is defined for\n", metrics[j], it->second->estimate.n);
        break;
      }
}

}  // namespace

nlohmann::json report_json(const EvaluationReport& r, const ReportContext& c) {
  nlohmann::json results = nlohmann::json::array();
  for (const ResultRow& row : r.rows) {
    if (row.estimate.n == 0) continue;
    results.push_back({{"model", row.model},
                       {"task", row.task},
                       {"metric", row.metric},
                       {"value", row.estimate.value},
                       {"ci95", {row.estimate.lo, row.estimate.hi}},
                       {"users", row.estimate.n}});
  }
  std::vector<std::string> notes = r.notes;
  for (auto& n : undefined_rows(r)) notes.push_back(std::move(n));
  nlohmann::json j = {{"store", r.store},
                      {"slicing", r.slicing},
                      {"test_periods", r.test_periods},
                      {"users_evaluated", static_cast<std::int64_t>(r.pairs.size())},
                      {"results", results},
                      {"validation_period", c.validation_period},
                      {"hyperparameters", r.hyperparameters},
                      {"validation", r.validation},
                      {"fallbacks", r.fallbacks},
                      {"seconds", r.seconds},
                      {"cpu_seconds", r.cpu_seconds},
                      {"bootstrap", {{"resamples", c.resamples}, {"seed", c.seed}, {"level", 0.95},
                                     {"unit", "(user, test period) pair"}}},
                      {"notes", notes}};
  if (c.truth) j["truth"] = c.truth->description;
  return j;
}

std::string report_table(const EvaluationReport& r, const ReportContext& c) {
  std::string out;
  out += fmt::format("driftrec evaluate  {}  (slicing {})\n", r.store, r.slicing);
  out += fmt::format("test periods      {}\n", fmt::join(r.test_periods, ", "));
  out += fmt::format("validation period {}  (hyper-parameters chosen here)\n", c.validation_period);
  out += fmt::format("users evaluated   {} (user, period) pairs: active in the period, with history before it\n",
                     r.pairs.size());
  out += fmt::format("each cell: mean [95% bootstrap interval, {} resamples of the pairs, seed {}]\n",
                     c.resamples, c.seed);

  block(out, r, "interest",
        {"cross_entropy", "kl", "recall@3", "ndcg@3", "new_label_recall@3"},
        "interests: truth = label distribution of the user's items in the period; "
        "predictions floored at 1e-6 and renormalised; lower cross_entropy / kl is better");
  for (int k : r.ks)
    block(out, r, "item",
          {fmt::format("recall@{}", k), fmt::format("ndcg@{}", k), fmt::format("hr@{}", k)},
          fmt::format("items @{}: full ranking of the items seen in training, minus the user's "
                      "earlier items; truth = the user's new items in the period", k));
  if (c.truth)
    block(out, r, "interest_truth", {"cross_entropy", "kl"},
          "interest_truth: each model's floored prediction p against the PLANTED interests q "
          "the generator drew the user's events in the period from: -sum q log p, sum q log(q/p)");

  out += "\nhyper-parameters (chosen on validation):\n";
  for (const auto& [model, params] : r.hyperparameters.items()) {
    if (params.empty()) continue;
    std::vector<std::string> kv;
    for (const auto& [k, v] : params.items()) kv.push_back(fmt::format("{}={}", k, v.get<double>()));
    out += fmt::format("  {:<18} {}\n", model, fmt::join(kv, " "));
  }
  std::vector<std::string> fb;
  for (const auto& [model, n] : r.fallbacks.items())
    if (n.get<std::int64_t>() > 0) fb.push_back(fmt::format("{} {}", model, n.get<std::int64_t>()));
  if (!fb.empty())
    out += fmt::format("popularity fallback (no prediction for the user), pairs: {}\n", fmt::join(fb, ", "));
  std::vector<std::string> times;
  for (const auto& [model, t] : r.seconds.items()) times.push_back(fmt::format("{} {:.1f}", model, t.get<double>()));
  if (!times.empty()) out += fmt::format("seconds per model (validation + test fits and scoring): {}\n", fmt::join(times, ", "));
  std::vector<std::string> notes = r.notes;
  for (auto& n : undefined_rows(r)) notes.push_back(std::move(n));
  if (c.truth) notes.push_back(c.truth->description);
  for (const auto& n : notes) out += fmt::format("note: {}\n", n);
  return out;
}

}  // namespace driftrec::evaluation
