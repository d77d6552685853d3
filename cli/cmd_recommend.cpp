// driftrec recommend / similar-items: top-K items from a factorize or train result
// (pipeline/recommend.hpp).
#include <algorithm>

#include <fmt/core.h>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "io/store.hpp"
#include "pipeline/recommend.hpp"

namespace driftrec::cli {

namespace {

// The text table; it has a title column, as wide as the longest title shown, when the
// store has titles.
void print_items(const std::vector<pipeline::RankedItem>& items, bool show_titles, const char* score_name) {
  std::size_t width = 5;
  for (const auto& s : items) width = std::max(width, fmt::formatted_size("{}", s.title));
  const std::string title_head = show_titles ? fmt::format("  {:<{}}", "title", width) : "";
  fmt::print("{:>4}  {:<16}{}  {:>9}  {}\n", "rank", "item", title_head, score_name, "labels");
  for (std::size_t r = 0; r < items.size(); ++r) {
    const std::string title = show_titles ? fmt::format("  {:<{}}", items[r].title, width) : "";
    fmt::print("{:>4}  {:<16}{}  {:>9.4f}  {}\n", r + 1, items[r].item, title, static_cast<double>(items[r].score),
               items[r].labels);
  }
}

// --period as given (none: the latest with factors). Negative indices are refused, not
// counted from the end, and the message names the store's range.
std::optional<std::size_t> period_of(const CLI::Option* option, std::int64_t period, const std::string& store) {
  if (option->count() == 0) return std::nullopt;
  if (period < 0) {
    const std::size_t n = io::Store::open(store).n_slices();
    throw InputError(fmt::format("--period {}: expected a period index from 0 (the first) to {} (the last of {}); "
                                 "negative indices do not count from the end",
                                 period, n > 0 ? n - 1 : 0, store));
  }
  return static_cast<std::size_t>(period);
}

}  // namespace

void add_recommend(CLI::App& app) {
  auto* cmd = app.add_subcommand("recommend", "Top-K items for a user from a factorize result, a train result or the "
                                              "learned ranker");
  cmd->footer("Scores are x_u . y_i of the latest period that has both factors (or --period). Items the user "
              "had before that period ends are excluded unless --include-seen. A user with no events in that "
              "period is scored with the user factors of their last active period (said above the table; "
              "user_period in --json).\n"
              "--model ranker: the learned item ranker of `driftrec evaluate` (candidates of temporal ALS, ALS, "
              "RP3beta, item-KNN, recent popularity and the label match; a listwise linear model), fitted on every "
              "period of the store for the period after the last. Its setting is chosen on validation: each l2 "
              "of its learned weights and each of its sources alone is fitted on the periods before the store's "
              "last and scored by recall@20 on the last period's users' new items; the best is refitted on every "
              "period (so it is never below its best source there). Said above the table; `ranker` in --json. "
              "The fit takes seconds to minutes on a large store.\n"
              "Example: driftrec recommend ml.h5 --user 414 --k 10\n"
              "         driftrec recommend ml.h5 --user 414 --model ranker");
  struct Args {
    pipeline::RecommendRequest request;
    std::int64_t period = -1;
    bool json = false;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  cmd->add_option("store", q.store, "Store with a factorize result")->required();
  cmd->add_option("--user", q.user, "User id as in the log")->required();
  cmd->add_option("--k", q.k, "How many items")->default_val(10);
  cmd->add_option("--result", q.result, "Result name (driftrec factorize --name)")->default_val("als");
  auto* period = cmd->add_option("--period", a->period,
                                 "Period index from 0 (the first); not negative (default: the latest with factors)");
  cmd->add_option("--model", q.model,
                  "A sequence model (driftrec train --name): rank the NEXT period's items, instead of --result, by "
                  "the item model train chose on validation (train --items; default best: the predicted factor "
                  "blended with the predicted interests, or the learned item ranker, whichever had the higher "
                  "recall@20 on the last period); `ranker`: by the learned item ranker, its setting chosen on "
                  "validation (see below)");
  cmd->add_option("--filter-items", q.filter_items, "File of item ids (one per line) never to recommend")->check(CLI::ExistingFile);
  cmd->add_flag("--include-seen", q.include_seen, "Also rank items the user already had");
  cmd->add_flag("--json", a->json, "Print JSON");
  add_threads_option(*cmd, a->common);
  cmd->callback([a, period] {
    a->common.apply();
    a->request.threads = a->common.threads;
    a->request.period = period_of(period, a->period, a->request.store);
    const pipeline::Recommendations r = pipeline::recommend(a->request);
    if (a->json) {
      fmt::print("{}\n", r.to_json().dump(2));
      return;
    }
    if (r.ranker)
      fmt::print("ranked by the item ranker, its {} setting{} (recall@20 {:.4f} on the last period{})\n",
                 r.ranker->setting, r.ranker->setting == "learned" ? fmt::format(", l2 {}", r.ranker->l2) : "",
                 r.ranker->validation_recall,
                 r.ranker->validation_pairs > 0 ? fmt::format(", {} users", r.ranker->validation_pairs)
                                                : std::string(", chosen by train"));
    else if (r.ranked_by == "hybrid")
      fmt::print("ranked by the hybrid of the predicted factor and interests (the item model train chose)\n");
    if (r.user_period != r.period)
      fmt::print("user {} has no events in period {}; scored with the user factors of period {} ({}), their last "
                 "active one\n",
                 r.user, r.period, r.user_period, r.user_period_begin_utc);
    print_items(r.items, r.has_titles, "score");
  });

  auto* sim = app.add_subcommand("similar-items", "Items closest to an item in a factorize result (cosine of item factors)");
  sim->footer("Example: driftrec similar-items ml.h5 --item 1 --k 10");
  struct SimArgs {
    pipeline::SimilarItemsRequest request;
    std::int64_t period = -1;
    bool json = false;
  };
  auto s = std::make_shared<SimArgs>();
  auto& sq = s->request;
  sim->add_option("store", sq.store, "Store with a factorize result")->required();
  sim->add_option("--item", sq.item, "Item id as in the log")->required();
  sim->add_option("--k", sq.k, "How many items")->default_val(10);
  sim->add_option("--result", sq.result, "Result name (driftrec factorize --name)")->default_val("als");
  auto* sim_period = sim->add_option("--period", s->period,
                                     "Period index from 0 (the first); not negative (default: the latest with factors)");
  sim->add_flag("--json", s->json, "Print JSON");
  sim->callback([s, sim_period] {
    s->request.period = period_of(sim_period, s->period, s->request.store);
    const pipeline::SimilarItems r = pipeline::similar_items(s->request);
    if (s->json) {
      fmt::print("{}\n", r.to_json().dump(2));
      return;
    }
    fmt::print("items like {}{} ({}), period {}:\n", r.item, r.item_title.empty() ? "" : " \"" + r.item_title + "\"",
               r.item_labels, r.period);
    print_items(r.items, r.has_titles, "cosine");
  });
}

}  // namespace driftrec::cli
