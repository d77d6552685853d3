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
  auto* cmd = app.add_subcommand("recommend", "Top-K items for a user from a factorize result");
  cmd->footer("Scores are x_u . y_i of the latest period that has both factors (or --period). Items the user "
              "had before that period ends are excluded unless --include-seen. A user with no events in that "
              "period is scored with the user factors of their last active period (said above the table; "
              "user_period in --json).\n"
              "Example: driftrec recommend ml.h5 --user 414 --k 10");
  struct Args {
    pipeline::RecommendRequest request;
    std::int64_t period = -1;
    bool json = false;
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
                  "A sequence model (driftrec train --name): rank the NEXT period's items by the predicted factor "
                  "blended with the predicted interests (the blend chosen on validation) instead of --result");
  cmd->add_option("--filter-items", q.filter_items, "File of item ids (one per line) never to recommend")->check(CLI::ExistingFile);
  cmd->add_flag("--include-seen", q.include_seen, "Also rank items the user already had");
  cmd->add_flag("--json", a->json, "Print JSON");
  cmd->callback([a, period] {
    a->request.period = period_of(period, a->period, a->request.store);
    const pipeline::Recommendations r = pipeline::recommend(a->request);
    if (a->json) {
      fmt::print("{}\n", r.to_json().dump(2));
      return;
    }
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
