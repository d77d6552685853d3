#include "serve/snapshot.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/factors_result.hpp"
#include "io/result_name.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "io/store_info.hpp"
#include "pipeline/common.hpp"
#include "pipeline/ranking.hpp"
#include "temporal/label_ranking.hpp"

namespace driftrec::serve {

std::size_t Snapshot::item_bytes() const {
  return exact ? item_factors.size() * sizeof(float) : item_codes.bytes();
}

bool Snapshot::can_include_seen() const { return !ranking || ranking->can_include_seen(); }

std::vector<Scored> Snapshot::recommend(std::int32_t user, int k, bool exclude_seen) const {
  DRIFTREC_ASSERT(user >= 0 && user < n_users() && k >= 1);
  if (ranking) {
    std::vector<graph::Index> items(static_cast<std::size_t>(k));
    std::vector<float> scores(items.size());
    std::int32_t period_used = 0;
    ranking->rank(std::span<const graph::Index>(&user, 1), k, items.data(), scores.data(), &period_used, exclude_seen);
    std::vector<Scored> out;
    for (std::size_t j = 0; j < items.size() && items[j] >= 0; ++j) out.push_back({items[j], scores[j]});
    return out;
  }
  const ScoreRows rows{exact ? item_factors.data() : nullptr, &item_codes, n_items(), factors};
  const std::span<const std::int32_t> excluded = exclude_seen ? seen.row(user) : std::span<const std::int32_t>{};
  return top_k(rows, user_factors.data() + static_cast<std::int64_t>(user) * factors, k, excluded, -1, {});
}

std::vector<Scored> Snapshot::similar(std::int32_t item, int k) const {
  DRIFTREC_ASSERT(item >= 0 && item < n_items() && k >= 1);
  const ScoreRows rows{exact ? item_factors.data() : nullptr, &item_codes, n_items(), factors};
  // The query is the item's own row (as held) scaled to unit length: then score * weight
  // is the cosine, as matrix_factorization::similar_items computes it.
  std::vector<float> q = exact ? std::vector<float>(item_factors.begin() + static_cast<std::int64_t>(item) * factors,
                                                    item_factors.begin() + static_cast<std::int64_t>(item + 1) * factors)
                               : item_codes.dequantized(item);
  const float w = item_inverse_norms[static_cast<std::size_t>(item)];
  for (float& x : q) x *= w;
  return top_k(rows, q.data(), k, {}, item, item_inverse_norms);
}

std::vector<Snapshot::Interest> Snapshot::user_interests(std::int32_t user, int k) const {
  DRIFTREC_ASSERT(interests && user >= 0 && user < n_users() && k >= 1);
  const Interests& in = *interests;
  const auto labels = static_cast<std::size_t>(in.n_labels);
  const std::span<const float> p(in.next.data() + static_cast<std::int64_t>(user) * in.n_labels, labels);
  std::vector<std::uint8_t> had(labels, 0);
  for (std::int32_t l : in.had.row(user)) had[static_cast<std::size_t>(l)] = 1;
  std::vector<Interest> out;
  for (std::int32_t l : temporal::ranked_labels(p, had, in.new_label_boost, static_cast<std::size_t>(k)))
    out.push_back({l, p[static_cast<std::size_t>(l)], had[static_cast<std::size_t>(l)] == 0});
  return out;
}

void finish_snapshot(Snapshot& s) {
  const std::int64_t items = s.n_items();
  DRIFTREC_ASSERT(static_cast<std::int64_t>(s.user_factors.size()) == s.n_users() * s.factors);
  DRIFTREC_ASSERT(static_cast<std::int64_t>(s.item_factors.size()) == items * s.factors);
  if (s.item_titles.empty()) s.item_titles.assign(static_cast<std::size_t>(items), "");
  if (s.item_labels.empty()) s.item_labels.assign(static_cast<std::size_t>(items), "");
  if (static_cast<std::int64_t>(s.seen.indptr.size()) != s.n_users() + 1) {
    s.seen.indptr.assign(static_cast<std::size_t>(s.n_users()) + 1, 0);
    s.seen.indices.clear();
  }
  s.user_index.clear();
  s.user_index.reserve(s.user_ids.size());
  for (std::size_t u = 0; u < s.user_ids.size(); ++u) s.user_index.emplace(s.user_ids[u], static_cast<std::int32_t>(u));
  s.item_index.clear();
  s.item_index.reserve(s.item_ids.size());
  for (std::size_t i = 0; i < s.item_ids.size(); ++i) s.item_index.emplace(s.item_ids[i], static_cast<std::int32_t>(i));
  s.item_inverse_norms.resize(static_cast<std::size_t>(items));
  for (std::int64_t i = 0; i < items; ++i) {
    double n2 = 0;
    for (int f = 0; f < s.factors; ++f) n2 += static_cast<double>(s.item_factors[i * s.factors + f]) * s.item_factors[i * s.factors + f];
    s.item_inverse_norms[static_cast<std::size_t>(i)] = n2 > 0 ? static_cast<float>(1.0 / std::sqrt(n2)) : 0.0f;
  }
  if (!s.exact) {
    s.item_codes = quantize_rows(s.item_factors.data(), items, s.factors);
    std::vector<float>().swap(s.item_factors);
  }
}

namespace {

// Sorted, de-duplicated lists per row from (row, index) pairs.
RowLists row_lists(std::vector<std::pair<std::int32_t, std::int32_t>> pairs, std::int64_t rows) {
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  RowLists out;
  out.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  out.indices.reserve(pairs.size());
  for (const auto& [r, i] : pairs) {
    ++out.indptr[static_cast<std::size_t>(r) + 1];
    out.indices.push_back(i);
  }
  for (std::size_t r = 1; r < out.indptr.size(); ++r) out.indptr[r] += out.indptr[r - 1];
  return out;
}

}  // namespace

Snapshot load_snapshot(const SnapshotSource& src) {
  const io::Store store = io::Store::open(src.store);
  Snapshot s;
  s.kind = io::result_kind(store, src.result);
  io::StoredFactors f;
  if (s.kind == "sequence_model") {
    // Ranked as recommend --model and export rank it; the item factors serve /similar.
    pipeline::RankingOptions o;
    o.result = src.result;
    if (src.result == io::kRankerName)  // UserRanking reads that name as the ranker, not the stored result
      throw InputError(fmt::format("{}: result 'ranker': that name means the learned item ranker to recommend and "
                                   "export; train the model again under another --name to serve it",
                                   src.store));
    auto ranking = std::make_shared<const pipeline::UserRanking>(store, o);
    const io::SequenceResult& r = *ranking->sequence();
    f.period = ranking->period();
    f.model.user = r.next_factors;
    f.model.item = r.item_factors;
    s.ranked_by = ranking->ranked_by();
    if (const auto& c = ranking->ranker_choice()) s.ranker_setting = evaluation::ranker_setting_name(c->params);
    s.ranking = std::move(ranking);
  } else if (s.kind == "temporal_als") {
    f = io::read_factors(store, src.result);
  } else {
    throw InputError(fmt::format("{}: result '{}' is a {} result; serve ranks by a factorize (temporal_als) or train "
                                 "(sequence_model) result",
                                 src.store, src.result, s.kind));
  }
  s.store = src.store;
  s.result = src.result;
  s.period = f.period;
  s.period_begin_utc = io::format_time(store.periods().begin[f.period]);
  s.user_ids = store.users();
  s.item_ids = store.items();
  if (store.has_titles()) s.item_titles = store.item_titles();
  const graph::CsrMatrix item_labels = store.item_labels();
  const std::vector<std::string> label_names = store.labels();
  s.item_labels = pipeline::item_label_text(item_labels, label_names);
  s.factors = static_cast<int>(f.model.item.cols());
  s.user_factors.assign(f.model.user.data(), f.model.user.data() + f.model.user.size());
  s.item_factors.assign(f.model.item.data(), f.model.item.data() + f.model.item.size());
  f.model = {};
  s.exact = src.exact;

  const graph::EventColumns e = store.events();
  const graph::Time end = store.periods().end[f.period];
  std::vector<std::pair<std::int32_t, std::int32_t>> seen;
  for (std::size_t k = 0; k < e.size() && e.time[k] < end; ++k) seen.emplace_back(e.user[k], e.item[k]);
  s.seen = row_lists(std::move(seen), s.n_users());

  const std::vector<std::string> results = store.results();
  if (!src.model.empty() && std::find(results.begin(), results.end(), src.model) != results.end()) {
    const io::SequenceResult r = io::read_sequence_result(store, src.model);
    Interests in;
    in.model = src.model;
    in.labels = label_names;
    in.n_labels = static_cast<std::int64_t>(label_names.size());
    DRIFTREC_ASSERT(r.next_interests.rows() == s.n_users() && r.next_interests.cols() == in.n_labels);
    in.next.assign(r.next_interests.data(), r.next_interests.data() + r.next_interests.size());
    in.new_label_boost = static_cast<float>(r.new_label_boost);
    // Labels of every item the user had, as `driftrec predict` flags new ones.
    std::vector<std::pair<std::int32_t, std::int32_t>> had;
    for (std::size_t k = 0; k < e.size(); ++k)
      for (graph::Offset p = item_labels.indptr[e.item[k]]; p < item_labels.indptr[e.item[k] + 1]; ++p)
        had.emplace_back(e.user[k], item_labels.indices[p]);
    in.had = row_lists(std::move(had), s.n_users());
    s.interests = std::move(in);
  }
  finish_snapshot(s);
  return s;
}

}  // namespace driftrec::serve
