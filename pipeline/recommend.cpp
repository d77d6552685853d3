#include "pipeline/recommend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <span>

#include <fmt/format.h>

#include "evaluation/metrics.hpp"
#include "evaluation/ranker_model.hpp"
#include "evaluation/split.hpp"
#include "io/factors_result.hpp"
#include "io/id_map.hpp"
#include "io/sequence_result.hpp"
#include "io/store_info.hpp"
#include "io/text.hpp"
#include "pipeline/common.hpp"
#include "pipeline/ranking.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;
namespace ev = evaluation;

namespace {

// The cut-off the ranker's setting is chosen by (pipeline/ranking.cpp): recall@20.
constexpr int kRankerValidationK = 20;

std::vector<RankedItem> ranked(const io::Store& store, const std::vector<mf::ScoredItem>& top,
                               const std::vector<std::string>& ids, const std::vector<std::string>& titles,
                               const std::vector<std::string>& labels) {
  std::vector<RankedItem> out;
  for (const mf::ScoredItem& s : top) {
    const auto i = static_cast<std::size_t>(s.item);
    out.push_back({ids[i], store.has_titles() ? titles[i] : std::string(), s.score, labels[i]});
  }
  return out;
}

// A title for JSON: the text, or null where the item has none.
nlohmann::json title_json(const std::string& title) {
  return title.empty() ? nlohmann::json(nullptr) : nlohmann::json(title);
}

nlohmann::json items_json(const std::vector<RankedItem>& items, const char* score_name) {
  nlohmann::json list = nlohmann::json::array();
  for (const RankedItem& r : items)
    list.push_back({{"item", r.item}, {"title", title_json(r.title)}, {score_name, r.score}, {"labels", r.labels}});
  return list;
}

}  // namespace

Recommendations recommend(const RecommendRequest& q) {
  if (q.k < 1) throw InputError(fmt::format("k: expected 1 or more, got {}", q.k));
  if (!q.model.empty() && q.period)
    throw InputError("period: a sequence model (model) predicts the period after the last; give no period");
  const io::Store store = io::Store::open(q.store);
  const std::vector<std::string> users = store.users(), items = store.items();
  const graph::Index u = find_id(users, q.user, "user", q.store);  // before the ranker's fit
  RankingOptions o;
  o.result = q.model.empty() ? q.result : q.model;
  o.period = q.period;
  o.include_seen = q.include_seen;
  o.filter_items = q.filter_items;
  o.threads = q.threads;
  const UserRanking ranking(store, o);
  ranking.check_k(q.k);
  std::vector<graph::Index> top(static_cast<std::size_t>(q.k));
  std::vector<float> scores(top.size());
  std::int32_t user_period = 0;
  ranking.rank(std::span<const graph::Index>(&u, 1), q.k, top.data(), scores.data(), &user_period);
  std::vector<mf::ScoredItem> best;
  for (std::size_t j = 0; j < top.size() && top[j] >= 0; ++j) best.push_back({top[j], scores[j]});

  Recommendations out;
  out.user = q.user;
  out.result = o.result;
  out.ranked_by = ranking.ranked_by();
  out.period = ranking.period();
  out.period_begin_utc = io::format_time(store.periods().begin[out.period]);
  out.user_period = static_cast<std::size_t>(user_period);
  out.user_period_begin_utc = io::format_time(store.periods().begin[out.user_period]);
  out.excluded = ranking.excluded(u);
  out.items = ranked(store, best, items, store.item_titles(), item_label_text(store.item_labels(), store.labels()));
  out.has_titles = store.has_titles();
  if (const auto& c = ranking.ranker_choice()) {
    RankerSummary r;
    r.setting = ev::ranker_setting_name(c->params);
    r.l2 = r.setting == "learned" ? ev::param(c->params, "l2") : 0.0;
    r.validation_recall = c->recall;
    r.validation_pairs = c->pairs;
    r.validation_period = ranking.period();
    out.ranker = r;
  }
  return out;
}

nlohmann::json Recommendations::to_json() const {
  nlohmann::json j = {{"user", user},
          {"result", result},
          {"ranked_by", ranked_by},
          {"period", period},
          {"period_begin_utc", period_begin_utc},
          {"user_period", user_period},
          {"user_period_begin_utc", user_period_begin_utc},
          {"excluded", excluded},
          {"items", items_json(items, "score")}};
  if (ranker)
    j["ranker"] = {{"setting", ranker->setting},
                   {"l2", ranker->l2},
                   {"validation_period", ranker->validation_period},
                   {"validation_pairs", ranker->validation_pairs},
                   {fmt::format("validation_recall@{}", kRankerValidationK),
                    std::isnan(ranker->validation_recall) ? nlohmann::json(nullptr)
                                                          : nlohmann::json(ranker->validation_recall)}};
  return j;
}

SimilarItems similar_items(const SimilarItemsRequest& q) {
  if (q.k < 1) throw InputError(fmt::format("k: expected 1 or more, got {}", q.k));
  const io::Store store = io::Store::open(q.store);
  const io::StoredFactors factors = io::read_factors(store, q.result, q.period);
  const std::vector<std::string> items = store.items();
  const graph::Index i = find_id(items, q.item, "item", q.store);
  const std::vector<std::string> labels = item_label_text(store.item_labels(), store.labels());
  const std::vector<std::string> titles = store.item_titles();
  SimilarItems out;
  out.item = q.item;
  out.item_title = store.has_titles() ? titles[static_cast<std::size_t>(i)] : std::string();
  out.item_labels = labels[static_cast<std::size_t>(i)];
  out.result = q.result;
  out.period = factors.period;
  out.items = ranked(store, mf::similar_items(factors.model, i, q.k), items, titles, labels);
  out.has_titles = store.has_titles();
  return out;
}

nlohmann::json SimilarItems::to_json() const {
  return {{"item", item}, {"title", title_json(item_title)}, {"result", result}, {"period", period},
          {"items", items_json(items, "cosine")}};
}

}  // namespace driftrec::pipeline
