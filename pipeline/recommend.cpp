#include "pipeline/recommend.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "io/factors_result.hpp"
#include "io/id_map.hpp"
#include "io/sequence_result.hpp"
#include "io/store_info.hpp"
#include "io/text.hpp"
#include "pipeline/common.hpp"
#include "temporal/sequence_fit.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;

namespace {

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

// The items excluded for user u: those had before `end` (unless include_seen) and the filter list.
std::set<graph::Index> excluded_items(const io::Store& store, const RecommendRequest& q, graph::Index u, graph::Time end,
                                      const std::vector<std::string>& items) {
  std::set<graph::Index> excluded;
  if (!q.include_seen) {
    const graph::EventColumns e = store.events();
    for (std::size_t k = 0; k < e.size() && e.time[k] < end; ++k)
      if (e.user[k] == u) excluded.insert(e.item[k]);
  }
  if (!q.filter_items.empty()) {
    io::LineReader r(q.filter_items);
    io::IdMap ids = io::IdMap::from_names(items);
    std::string_view line;
    while (r.next(line))
      if (graph::Index i = ids.find(io::trim(line)); i >= 0) excluded.insert(i);
  }
  return excluded;
}

// The k best items by the sequence model's hybrid scores, ties toward the lower index.
std::vector<mf::ScoredItem> sequence_top(const io::Store& store, const io::SequenceResult& s, graph::Index u, int k,
                                         const std::set<graph::Index>& excluded) {
  std::vector<float> scores(static_cast<std::size_t>(store.n_items()));
  temporal::hybrid_scores(s.item_factors, propagation::item_seed_labels(store.item_labels()),
                          s.next_factors.row(u).transpose(), s.next_interests.row(u).transpose(), s.interest_weight,
                          scores);
  std::vector<mf::ScoredItem> top;
  for (graph::Index i = 0; i < store.n_items(); ++i)
    if (!excluded.contains(i)) top.push_back({i, scores[static_cast<std::size_t>(i)]});
  const auto keep = std::min(top.size(), static_cast<std::size_t>(k));
  std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                    [](const mf::ScoredItem& x, const mf::ScoredItem& y) {
                      return x.score > y.score || (x.score == y.score && x.item < y.item);
                    });
  top.resize(keep);
  return top;
}

}  // namespace

Recommendations recommend(const RecommendRequest& q) {
  if (q.k < 1) throw InputError(fmt::format("k: expected 1 or more, got {}", q.k));
  if (!q.model.empty() && q.period)
    throw InputError("period: a sequence model (model) predicts the period after the last; give no period");
  const io::Store store = io::Store::open(q.store);
  std::optional<io::SequenceResult> sequence;
  io::StoredFactors factors;
  if (!q.model.empty()) {
    sequence = io::read_sequence_result(store, q.model);
    factors.period = store.n_slices() - 1;
  } else {
    factors = io::read_factors(store, q.result, q.period);
  }
  const std::vector<std::string> users = store.users(), items = store.items();
  const graph::Index u = find_id(users, q.user, "user", q.store);
  const std::set<graph::Index> excluded = excluded_items(store, q, u, store.periods().end[factors.period], items);

  std::vector<mf::ScoredItem> top;
  if (sequence) {
    top = sequence_top(store, *sequence, u, q.k, excluded);
  } else {
    graph::CsrMatrix seen;  // only row u is filled
    seen.n_rows = store.n_users();
    seen.n_cols = store.n_items();
    seen.indptr.assign(static_cast<std::size_t>(seen.n_rows) + 1, 0);
    seen.indices.assign(excluded.begin(), excluded.end());
    seen.data.assign(seen.indices.size(), 1.0f);
    for (graph::Index r = u + 1; r <= seen.n_rows; ++r)
      seen.indptr[static_cast<std::size_t>(r)] = static_cast<graph::Offset>(seen.indices.size());
    top = mf::recommend(factors.model, seen, u, q.k, /*exclude_seen=*/true);
  }
  Recommendations out;
  out.user = q.user;
  out.result = sequence ? q.model : q.result;
  out.period = factors.period;
  out.period_begin_utc = io::format_time(store.periods().begin[factors.period]);
  out.excluded = excluded.size();
  out.items = ranked(store, top, items, store.item_titles(), item_label_text(store.item_labels(), store.labels()));
  out.has_titles = store.has_titles();
  return out;
}

nlohmann::json Recommendations::to_json() const {
  return {{"user", user},         {"result", result},     {"period", period}, {"period_begin_utc", period_begin_utc},
          {"excluded", excluded}, {"items", items_json(items, "score")}};
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
