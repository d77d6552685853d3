// driftrec recommend / similar-items: top-K items from a factorize result.
#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/factors.hpp"
#include "cli/sequence_result.hpp"
#include "io/store_info.hpp"

namespace driftrec::cli {
namespace mf = matrix_factorization;

namespace {

// Label names of every item, for showing what a recommendation is.
std::vector<std::string> item_label_text(const io::Store& store) {
  const graph::CsrMatrix m = store.item_labels();
  const std::vector<std::string> names = store.labels();
  std::vector<std::string> out(static_cast<std::size_t>(m.n_rows));
  for (graph::Index i = 0; i < m.n_rows; ++i)
    for (graph::Offset k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
      out[static_cast<std::size_t>(i)] += (out[static_cast<std::size_t>(i)].empty() ? "" : "|") + names[static_cast<std::size_t>(m.indices[k])];
  return out;
}

void print_items(const std::vector<mf::ScoredItem>& items, const std::vector<std::string>& item_ids,
                 const std::vector<std::string>& labels, const char* score_name, bool json, nlohmann::json head) {
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : items)
      list.push_back({{"item", item_ids[static_cast<std::size_t>(s.item)]}, {score_name, s.score}, {"labels", labels[static_cast<std::size_t>(s.item)]}});
    head["items"] = list;
    fmt::print("{}\n", head.dump(2));
    return;
  }
  fmt::print("{:>4}  {:<16}  {:>9}  {}\n", "rank", "item", score_name, "labels");
  for (std::size_t r = 0; r < items.size(); ++r)
    fmt::print("{:>4}  {:<16}  {:>9.4f}  {}\n", r + 1, item_ids[static_cast<std::size_t>(items[r].item)], items[r].score,
               labels[static_cast<std::size_t>(items[r].item)]);
}

}  // namespace

void add_recommend(CLI::App& app) {
  auto* cmd = app.add_subcommand("recommend", "Top-K items for a user from a factorize result");
  cmd->footer("Scores are x_u . y_i of the latest period that has both factors (or --period). Items the user "
              "had before that period ends are excluded unless --include-seen.\n"
              "Example: driftrec recommend ml.h5 --user 414 --k 10");
  struct Args {
    std::string store, user, result = "als", filter, model;
    int k = 10;
    std::int64_t period = -1;
    bool include_seen = false, json = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("store", a->store, "Store with a factorize result")->required();
  cmd->add_option("--user", a->user, "User id as in the log")->required();
  cmd->add_option("--k", a->k, "How many items")->default_val(10);
  cmd->add_option("--result", a->result, "Result name (driftrec factorize --name)")->default_val("als");
  cmd->add_option("--period", a->period, "Period index (default: the latest with factors)");
  cmd->add_option("--model", a->model,
                  "A sequence model (driftrec train --name): rank the NEXT period's items by the predicted factor "
                  "blended with the predicted interests (the blend chosen on validation) instead of --result");
  cmd->add_option("--filter-items", a->filter, "File of item ids (one per line) never to recommend")->check(CLI::ExistingFile);
  cmd->add_flag("--include-seen", a->include_seen, "Also rank items the user already had");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->callback([a] {
    if (a->k < 1) throw InputError("--k: expected 1 or more");
    io::Store store = io::Store::open(a->store);
    std::optional<LoadedSequence> sequence;
    LoadedModel lm;
    if (!a->model.empty()) {
      if (a->period >= 0) throw InputError("--period: a sequence model (--model) predicts the period after the last");
      sequence = load_sequence_result(store, a->model);
      lm.period = store.n_slices() - 1;
    } else {
      lm = load_factors(store, a->result, a->period >= 0 ? std::optional<std::size_t>(a->period) : std::nullopt);
    }
    const std::vector<std::string> users = store.users(), items = store.items();
    const graph::Index u = find_id(users, a->user, "user", a->store);

    // The excluded items: the user's items up to the end of the period, and the filter list.
    std::set<graph::Index> excluded;
    if (!a->include_seen) {
      const graph::EventColumns e = store.events();
      const graph::Time end = store.periods().end[lm.period];
      for (std::size_t k = 0; k < e.size() && e.time[k] < end; ++k)
        if (e.user[k] == u) excluded.insert(e.item[k]);
    }
    if (!a->filter.empty()) {
      io::LineReader r(a->filter);
      io::IdMap ids = io::IdMap::from_names(items);
      std::string_view line;
      while (r.next(line))
        if (graph::Index i = ids.find(io::trim(line)); i >= 0) excluded.insert(i);
    }
    graph::CsrMatrix seen;  // only row u is filled
    seen.n_rows = store.n_users();
    seen.n_cols = store.n_items();
    seen.indptr.assign(static_cast<std::size_t>(seen.n_rows) + 1, 0);
    seen.indices.assign(excluded.begin(), excluded.end());
    seen.data.assign(seen.indices.size(), 1.0f);
    for (graph::Index r = u + 1; r <= seen.n_rows; ++r) seen.indptr[static_cast<std::size_t>(r)] = static_cast<graph::Offset>(seen.indices.size());
    std::vector<mf::ScoredItem> top;
    if (sequence) {
      std::vector<float> scores(static_cast<std::size_t>(store.n_items()));
      temporal::hybrid_scores(sequence->item_factors, propagation::item_seed_labels(store.item_labels()),
                                sequence->next_factors.row(u).transpose(), sequence->next_interests.row(u).transpose(),
                                sequence->interest_weight, scores);
      for (graph::Index i = 0; i < store.n_items(); ++i)
        if (!excluded.contains(i)) top.push_back({i, scores[static_cast<std::size_t>(i)]});
      const auto keep = std::min(top.size(), static_cast<std::size_t>(a->k));
      std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(keep), top.end(),
                        [](const mf::ScoredItem& x, const mf::ScoredItem& y) {
                          return x.score > y.score || (x.score == y.score && x.item < y.item);
                        });
      top.resize(keep);
    } else {
      top = mf::recommend(lm.model, seen, u, a->k, /*exclude_seen=*/true);
    }
    print_items(top, items, item_label_text(store), "score", a->json,
                {{"user", a->user}, {"result", sequence ? a->model : a->result}, {"period", lm.period},
                 {"period_begin_utc", io::format_time(store.periods().begin[lm.period])}, {"excluded", excluded.size()}});
  });

  auto* sim = app.add_subcommand("similar-items", "Items closest to an item in a factorize result (cosine of item factors)");
  sim->footer("Example: driftrec similar-items ml.h5 --item 1 --k 10");
  struct SimArgs {
    std::string store, item, result = "als";
    int k = 10;
    std::int64_t period = -1;
    bool json = false;
  };
  auto s = std::make_shared<SimArgs>();
  sim->add_option("store", s->store, "Store with a factorize result")->required();
  sim->add_option("--item", s->item, "Item id as in the log")->required();
  sim->add_option("--k", s->k, "How many items")->default_val(10);
  sim->add_option("--result", s->result, "Result name (driftrec factorize --name)")->default_val("als");
  sim->add_option("--period", s->period, "Period index (default: the latest with factors)");
  sim->add_flag("--json", s->json, "Print JSON");
  sim->callback([s] {
    if (s->k < 1) throw InputError("--k: expected 1 or more");
    io::Store store = io::Store::open(s->store);
    LoadedModel lm = load_factors(store, s->result, s->period >= 0 ? std::optional<std::size_t>(s->period) : std::nullopt);
    const std::vector<std::string> items = store.items();
    const graph::Index i = find_id(items, s->item, "item", s->store);
    auto top = mf::similar_items(lm.model, i, s->k);
    const auto labels = item_label_text(store);
    if (!s->json) fmt::print("items like {} ({}), period {}:\n", s->item, labels[static_cast<std::size_t>(i)], lm.period);
    print_items(top, items, labels, "cosine", s->json, {{"item", s->item}, {"result", s->result}, {"period", lm.period}});
  });
}

}  // namespace driftrec::cli
