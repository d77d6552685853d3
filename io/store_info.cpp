#include "io/store_info.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace driftrec::io {
using graph::Index;

DegreeStats degree_stats(std::vector<std::int64_t> v) {
  DegreeStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  double sum = 0;
  for (auto x : v) sum += static_cast<double>(x);
  s.mean = sum / static_cast<double>(v.size());
  const std::size_t n = v.size();
  s.median = n % 2 ? static_cast<double>(v[n / 2]) : 0.5 * static_cast<double>(v[n / 2 - 1] + v[n / 2]);
  s.p90 = static_cast<double>(v[std::min(n - 1, static_cast<std::size_t>(0.9 * static_cast<double>(n)))]);
  return s;
}

std::string format_time(graph::Time t) {
  std::int64_t days = t / 86400 - (t % 86400 < 0);
  std::int64_t rem = t - days * 86400;
  std::int64_t y;
  unsigned m, d;
  graph::civil_from_days(days, y, m, d);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", y, m, d, rem / 3600, rem / 60 % 60, rem % 60);
}

StoreInfo store_info(const Store& store) {
  StoreInfo info;
  info.path = store.path();
  info.slicing = store.slicing();
  info.aggregate = graph::to_string(store.aggregate());
  info.created_by = store.created_by();
  info.users = store.n_users();
  info.items = store.n_items();
  info.labels = store.n_labels();
  info.events = store.n_events();
  info.results = store.results();

  graph::CsrMatrix labels = store.item_labels();
  for (Index i = 0; i < labels.n_rows; ++i) info.labelled_items += labels.row_length(i) > 0;
  info.titles = store.has_titles();
  if (info.titles)
    for (const std::string& t : store.item_titles()) info.titled_items += !t.empty();

  graph::EventColumns e = store.events();
  if (e.size() > 0) {
    info.first_time = e.time.front();
    info.last_time = e.time.back();
  }
  // Per slice: events, distinct users and items (stamped arrays: one pass, no clearing).
  const graph::Periods& p = store.periods();
  const auto first = graph::period_offsets(p, e.time);
  std::vector<std::int64_t> user_stamp(static_cast<std::size_t>(info.users), -1);
  std::vector<std::int64_t> item_stamp(static_cast<std::size_t>(info.items), -1);
  for (std::size_t k = 0; k < p.size(); ++k) {
    SliceInfo s{p.begin[k], p.end[k], static_cast<std::int64_t>(first[k + 1] - first[k]), 0, 0, 0};
    for (std::size_t j = first[k]; j < first[k + 1]; ++j) {
      auto& us = user_stamp[static_cast<std::size_t>(e.user[j])];
      auto& is = item_stamp[static_cast<std::size_t>(e.item[j])];
      if (us != static_cast<std::int64_t>(k)) { us = static_cast<std::int64_t>(k); ++s.users; }
      if (is != static_cast<std::int64_t>(k)) { is = static_cast<std::int64_t>(k); ++s.items; }
    }
    s.nnz = store.slice_nnz(k);
    info.slices.push_back(s);
  }

  // Distinct partners over the whole log.
  std::vector<graph::Triplet> t(e.size());
  for (std::size_t j = 0; j < e.size(); ++j) t[j] = {e.user[j], e.item[j], 1.0f};
  graph::CsrMatrix all = graph::csr_from_triplets(store.n_users(), store.n_items(), t);
  std::vector<graph::Triplet>().swap(t);
  info.distinct_pairs = all.nnz();
  std::vector<std::int64_t> deg(static_cast<std::size_t>(info.users)), ev(static_cast<std::size_t>(info.users), 0);
  std::vector<std::int64_t> ideg(static_cast<std::size_t>(info.items), 0);
  for (Index u = 0; u < all.n_rows; ++u) deg[static_cast<std::size_t>(u)] = all.row_length(u);
  for (Index i : all.indices) ++ideg[static_cast<std::size_t>(i)];
  for (Index u : e.user) ++ev[static_cast<std::size_t>(u)];
  info.user_items = degree_stats(std::move(deg));
  info.item_users = degree_stats(std::move(ideg));
  info.user_events = degree_stats(std::move(ev));
  info.components = graph::connected_components(store.n_users(), store.n_items(), e.user, e.item);
  return info;
}

namespace {
nlohmann::json degree_json(const DegreeStats& d) {
  return {{"min", d.min}, {"median", d.median}, {"mean", d.mean}, {"p90", d.p90}, {"max", d.max}};
}
}  // namespace

nlohmann::json StoreInfo::to_json() const {
  nlohmann::json sl = nlohmann::json::array();
  for (const auto& s : slices)
    sl.push_back({{"begin", s.begin}, {"end", s.end}, {"begin_utc", format_time(s.begin)},
                  {"events", s.events}, {"users", s.users}, {"items", s.items}, {"nnz", s.nnz}});
  return {{"store", path},
          {"created_by", created_by},
          {"slicing", slicing},
          {"aggregate", aggregate},
          {"users", users},
          {"items", items},
          {"labels", labels},
          {"events", events},
          {"distinct_user_item_pairs", distinct_pairs},
          {"time_span", {{"first", first_time}, {"last", last_time}, {"first_utc", format_time(first_time)}, {"last_utc", format_time(last_time)}}},
          {"labelled_items", labelled_items},
          {"labelled_item_fraction", items ? static_cast<double>(labelled_items) / static_cast<double>(items) : 0.0},
          {"titles", titles},
          {"titled_items", titled_items},
          {"degrees", {{"items_per_user", degree_json(user_items)}, {"users_per_item", degree_json(item_users)}, {"events_per_user", degree_json(user_events)}}},
          {"components", {{"count", components.components}, {"largest_users", components.largest_users}, {"largest_items", components.largest_items}, {"isolated_vertices", components.isolated_vertices}}},
          {"slices", sl},
          {"results", results}};
}

std::string StoreInfo::to_text(std::size_t max_rows) const {
  std::string s;
  auto line = [&](const std::string& text) { s += text; s += '\n'; };
  auto deg = [](const DegreeStats& d) {
    return fmt::format("min {} | median {:.1f} | mean {:.1f} | p90 {:.0f} | max {}", d.min, d.median, d.mean, d.p90, d.max);
  };
  line(fmt::format("store      {}  ({}, {})", path, created_by, "format driftrec v1"));
  line(fmt::format("users      {:>12}", users));
  line(fmt::format("items      {:>12}  ({} with labels, {:.1f}%)", items, labelled_items, items ? 100.0 * static_cast<double>(labelled_items) / static_cast<double>(items) : 0.0));
  line(fmt::format("labels     {:>12}", labels));
  line(titles ? fmt::format("titles     {:>12}  items with a title", titled_items) : std::string("titles             none"));
  line(fmt::format("events     {:>12}  ({} distinct user-item pairs)", events, distinct_pairs));
  line(fmt::format("time span  {} .. {}", format_time(first_time), format_time(last_time)));
  line(fmt::format("slicing    {} ({} non-empty slices, values aggregated by {})", slicing, slices.size(), aggregate));
  line(fmt::format("items per user   {}", deg(user_items)));
  line(fmt::format("users per item   {}", deg(item_users)));
  line(fmt::format("events per user  {}", deg(user_events)));
  line(fmt::format("components {} (largest: {} users, {} items; {} isolated vertices)", components.components,
       components.largest_users, components.largest_items, components.isolated_vertices));
  if (!results.empty()) {
    std::string r;
    for (const auto& n : results) r += (r.empty() ? "" : ", ") + n;
    line(fmt::format("results    {}", r));
  }
  line("");
  line(fmt::format("{:>5}  {:<20}  {:>10}  {:>8}  {:>8}", "slice", "begin (UTC)", "events", "users", "items"));
  // The first head and the last (max_rows - head) slices, with a count of those between.
  const std::size_t n = slices.size();
  const std::size_t shown = std::min(n, max_rows), head = shown / 2 + shown % 2;
  auto row = [&](std::size_t k) {
    const auto& x = slices[k];
    line(fmt::format("{:>5}  {:<20}  {:>10}  {:>8}  {:>8}", k, format_time(x.begin), x.events, x.users, x.items));
  };
  for (std::size_t k = 0; k < head; ++k) row(k);
  if (shown < n) line(fmt::format("  ... {} more slices (all of them with --json) ...", n - shown));
  for (std::size_t k = n - (shown - head); k < n; ++k) row(k);
  return s;
}

}  // namespace driftrec::io
