#include "evaluation/split.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "graph/types.hpp"

namespace driftrec::evaluation {

using graph::Index;

EvaluationData load_evaluation_data(const io::Store& store) {
  EvaluationData d;
  d.store = store.path();
  d.slicing = store.slicing();
  d.n_users = store.n_users();
  d.n_items = store.n_items();
  d.n_labels = store.n_labels();
  d.user_ids = store.users();
  d.label_names = store.labels();
  d.periods = store.periods();
  d.events = store.events();
  d.item_labels = store.item_labels();
  d.slices.reserve(store.n_slices());
  for (std::size_t k = 0; k < store.n_slices(); ++k) d.slices.push_back(store.slice(k));
  d.period_first = graph::period_offsets(d.periods, d.events.time);
  return d;
}

EvaluationData make_evaluation_data(Index n_users, Index n_items, graph::CsrMatrix item_labels,
                                    graph::EventColumns events, const graph::Slicing& slicing,
                                    graph::Aggregate aggregate) {
  EvaluationData d;
  d.store = "(memory)";
  d.slicing = slicing.spec();
  d.n_users = n_users;
  d.n_items = n_items;
  d.n_labels = item_labels.n_cols;
  for (Index u = 0; u < n_users; ++u) d.user_ids.push_back(fmt::format("{}", u));
  for (Index l = 0; l < d.n_labels; ++l) d.label_names.push_back(fmt::format("{}", l));
  d.periods = graph::make_periods(slicing, events.time);
  d.period_first = graph::period_offsets(d.periods, events.time);
  for (std::size_t k = 0; k < d.periods.size(); ++k)
    d.slices.push_back(graph::slice_matrix(events, d.period_first[k], d.period_first[k + 1],
                                           n_users, n_items, aggregate));
  d.item_labels = std::move(item_labels);
  d.events = std::move(events);
  return d;
}

std::int64_t max_test_periods(std::size_t n_periods, std::size_t min_training_periods) {
  const std::size_t before = std::max<std::size_t>(min_training_periods, 1) + 1;  // training + validation
  return n_periods > before ? static_cast<std::int64_t>(n_periods - before) : 0;
}

Split make_split(std::size_t n_periods, std::int64_t test_periods, std::size_t min_training_periods) {
  const std::int64_t most = max_test_periods(n_periods, min_training_periods);
  const std::size_t training = std::max<std::size_t>(min_training_periods, 1);
  const std::string why = fmt::format(
      "the store has {} non-empty periods, and the evaluation needs {} to train on, one to validate on, and "
      "then the test periods",
      n_periods, training);
  if (most == 0)
    throw InputError(fmt::format(
        "--test-periods: {}, so it is too short for any test period (at least {} periods are needed); reslice "
        "it into shorter periods (driftrec reslice --slice ...) or evaluate a longer log",
        why, training + 2));
  if (test_periods < 1 || test_periods > most)
    throw InputError(fmt::format("--test-periods {}: {}; use 1 to {}", test_periods, why, most));
  Split s;
  const std::size_t n = static_cast<std::size_t>(test_periods);
  s.validation = n_periods - n - 1;
  for (std::size_t k = n_periods - n; k < n_periods; ++k) s.test.push_back(k);
  return s;
}

Training make_training(const EvaluationData& d, std::size_t period) {
  if (period < 1 || period >= d.slices.size() + 1)
    throw std::out_of_range(fmt::format("make_training: period {} outside 1..{}", period,
                                        d.slices.size()));
  Training t;
  t.period = period;
  t.n_users = d.n_users;
  t.n_items = d.n_items;
  t.n_labels = d.n_labels;
  t.slices.assign(d.slices.begin(), d.slices.begin() + static_cast<std::ptrdiff_t>(period));
  const std::size_t end = d.period_first[period];
  auto prefix = [end](const auto& v) { return std::vector(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(end)); };
  t.events.user = prefix(d.events.user);
  t.events.item = prefix(d.events.item);
  t.events.time = prefix(d.events.time);
  t.events.value = prefix(d.events.value);
  t.period_first.assign(d.period_first.begin(),
                        d.period_first.begin() + static_cast<std::ptrdiff_t>(period) + 1);
  t.item_labels = d.item_labels;

  // history = W_0 + .. + W_{P-1}: the stored values summed, every stored entry kept.
  std::vector<graph::Triplet> triplets;
  std::size_t nnz = 0;
  for (const auto& s : t.slices) nnz += static_cast<std::size_t>(s.nnz());
  triplets.reserve(nnz);
  for (const auto& s : t.slices)
    for (Index u = 0; u < s.n_rows; ++u)
      for (graph::Offset k = s.indptr[u]; k < s.indptr[u + 1]; ++k)
        triplets.push_back({u, s.indices[k], s.data[k]});
  t.history = graph::csr_from_triplets(d.n_users, d.n_items, triplets);

  t.item_events.assign(static_cast<std::size_t>(d.n_items), 0.0);
  for (Index i : t.events.item) t.item_events[static_cast<std::size_t>(i)] += 1;
  return t;
}

std::vector<double> label_distribution(const graph::EventColumns& events, std::size_t first,
                                       std::size_t last, Index user,
                                       const graph::CsrMatrix& item_labels) {
  std::vector<double> acc(static_cast<std::size_t>(item_labels.n_cols), 0.0);
  for (std::size_t k = first; k < last; ++k)
    if (user < 0 || events.user[k] == user) add_item_labels(item_labels, events.item[k], 1.0, acc);
  normalize(acc);
  return acc;
}

std::vector<Index> eligible_items(const Training& t, Index user) {
  std::vector<Index> out;
  out.reserve(static_cast<std::size_t>(t.n_items));
  const graph::Offset b = t.history.indptr[user], e = t.history.indptr[user + 1];
  graph::Offset k = b;
  for (Index i = 0; i < t.n_items; ++i) {
    while (k < e && t.history.indices[k] < i) ++k;
    if (k < e && t.history.indices[k] == i) continue;  // the user had it
    if (t.item_events[static_cast<std::size_t>(i)] > 0) out.push_back(i);
  }
  return out;
}

std::vector<std::uint8_t> candidate_flags(const Training& t) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(t.n_items));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.item_events[i] > 0;
  return out;
}

std::span<const Index> seen_items(const Training& t, Index user) {
  const graph::Offset b = t.history.indptr[user], e = t.history.indptr[user + 1];
  return {t.history.indices.data() + b, static_cast<std::size_t>(e - b)};
}

std::vector<EvaluatedPair> evaluated_pairs(const EvaluationData& d, const Training& t) {
  const std::size_t p = t.period;
  const std::size_t first = d.period_first[p], last = d.period_first[p + 1];
  // The users of P, ascending, with their events' positions.
  std::vector<std::vector<std::size_t>> of_user(static_cast<std::size_t>(d.n_users));
  for (std::size_t k = first; k < last; ++k) of_user[static_cast<std::size_t>(d.events.user[k])].push_back(k);

  const auto& h = t.history;
  std::vector<EvaluatedPair> out;
  for (Index u = 0; u < d.n_users; ++u) {
    const auto& ks = of_user[static_cast<std::size_t>(u)];
    if (ks.empty() || h.row_length(u) == 0) continue;  // no event in P or none before
    EvaluatedPair e;
    e.user = u;
    e.period = p;
    e.interest.assign(static_cast<std::size_t>(d.n_labels), 0.0);
    for (std::size_t k : ks) add_item_labels(d.item_labels, d.events.item[k], 1.0, e.interest);
    e.has_interest = normalize(e.interest);

    // Labels the user had before P: those of every item in the user's history.
    std::vector<std::uint8_t> had_label(static_cast<std::size_t>(d.n_labels), 0);
    for (graph::Offset k = h.indptr[u]; k < h.indptr[u + 1]; ++k) {
      const Index item = h.indices[k];
      for (graph::Offset j = d.item_labels.indptr[item]; j < d.item_labels.indptr[item + 1]; ++j)
        had_label[static_cast<std::size_t>(d.item_labels.indices[j])] = 1;
    }
    for (Index l = 0; l < d.n_labels; ++l)
      if (e.interest[static_cast<std::size_t>(l)] > 0 && !had_label[static_cast<std::size_t>(l)])
        e.new_labels.push_back(l);

    for (std::size_t k : ks) {
      const Index item = d.events.item[k];
      if (t.item_events[static_cast<std::size_t>(item)] == 0) continue;  // not a candidate
      const auto row_b = h.indices.begin() + h.indptr[u], row_e = h.indices.begin() + h.indptr[u + 1];
      if (std::binary_search(row_b, row_e, item)) continue;  // the user had it
      e.items.push_back(item);
    }
    std::sort(e.items.begin(), e.items.end());
    e.items.erase(std::unique(e.items.begin(), e.items.end()), e.items.end());
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace driftrec::evaluation
