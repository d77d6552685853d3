// driftrec train / predict: the sequence model (temporal/, evaluation/sequence_models.hpp)
// over every period of a store, saved under /results/<name> (cli/sequence_result.hpp),
// and each user's predicted interests for the period after the last.
#include <algorithm>
#include <chrono>
#include <set>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "cli/sequence_result.hpp"
#include "evaluation/split.hpp"

namespace driftrec::cli {
namespace ev = evaluation;

TrainSummary run_train(const TrainArgs& a) {
  a.options.validate();
  io::check_result_name(a.name);
  const io::Store store = io::Store::open(a.store);
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels; ingest with --labels", a.store));
  if (store.n_slices() < 4)
    throw InputError(fmt::format("{}: the store has {} periods; training needs at least 4 (reslice finer)",
                                        a.store, store.n_slices()));
  const auto t0 = std::chrono::steady_clock::now();
  const ev::EvaluationData data = ev::load_evaluation_data(store);
  const std::size_t n = data.slices.size();
  auto progress = make_progress();
  const ev::Training history = ev::make_training(data, n);
  const temporal::TrainedSequence s = temporal::train_sequence(history, a.options, [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    if (progress) progress(stage, done, total);
  });
  end_progress();
  const temporal::WeightChoice w = temporal::choose_interest_weight(history, s);

  io::StoreWriter writer(a.store, io::StoreWriter::Amend{});
  io::h5::Handle g = io::create_result(writer, a.name);
  write_sequence_result(g, s, w.weight);
  io::h5::write_attr(g, "kind", std::string("sequence_model"));
  io::h5::write_attr(g, "slicing", store.slicing());
  io::h5::write_attr(g, "periods", static_cast<std::int64_t>(n));
  io::h5::write_attr(g, "window", static_cast<std::int64_t>(a.options.window));
  g.reset();
  writer.commit();

  TrainSummary out;
  out.json = {{"store", a.store},
              {"result", a.name},
              {"cell", a.options.model.cell == temporal::CellKind::gru ? "gru" : "lstm"},
              {"periods", n},
              {"epochs_run", s.training.history.size()},
              {"best_epoch", s.training.best_epoch},
              {"stopped_early", s.training.stopped_early},
              {"best_validation_loss", s.training.history.empty() ? 0.0
                                           : s.training.history[static_cast<std::size_t>(s.training.best_epoch - 1)].validation_loss},
              {"interest_weight", w.weight},
              {"interest_weight_recall@20", w.recall},
              {"interest_weight_pairs", w.pairs},
              {"propagation_not_converged", s.not_converged},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}};
  return out;
}

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the sequence model (GRU or LSTM) that predicts next-period interests and items");
  cmd->footer(
      "Features per user and period: the propagated interest distribution (temporal label propagation), the temporal "
      "ALS factor, log(1 + events) and the gap since the last active period. The model reads them period by period "
      "and predicts the next period's interests (softmax, cross-entropy) and user factor. The last period is held out "
      "for early stopping and for the hybrid's blend weight.\n"
      "Saved under /results/<name>: the parameters and each user's prediction for the period after the last.\n\n"
      "Example:\n  driftrec train ml.h5 --cell gru --epochs 30\n  driftrec predict ml.h5 --user 414\n"
      "  driftrec recommend ml.h5 --user 414 --model sequence");
  auto a = std::make_shared<TrainArgs>();
  auto cell = std::make_shared<std::string>("gru");
  auto common = std::make_shared<CommonOptions>();
  auto json = std::make_shared<bool>(false);
  auto& m = a->options.model;
  cmd->add_option("store", a->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--name", a->name, "Result name under /results")->default_val("sequence");
  cmd->add_option("--cell", *cell, "gru | lstm")->default_val("gru");
  cmd->add_option("--hidden", m.hidden, "Hidden units")->default_val(m.hidden);
  cmd->add_option("--epochs", m.epochs, "Epochs at most")->default_val(m.epochs);
  cmd->add_option("--learning-rate", m.learning_rate, "Adam step size")->default_val(m.learning_rate);
  cmd->add_option("--bptt", m.bptt, "Truncated back-propagation window, in periods")->default_val(m.bptt);
  cmd->add_option("--batch-users", m.batch_users, "Users per mini-batch")->default_val(m.batch_users);
  cmd->add_option("--factor-weight", m.factor_weight, "Weight of the factor head's squared error")->default_val(m.factor_weight);
  cmd->add_option("--patience", m.patience, "Epochs without validation improvement before stopping")->default_val(m.patience);
  cmd->add_option("--factors", a->options.als.als.factors, "Temporal ALS factors (features)")->default_val(a->options.als.als.factors);
  cmd->add_option("--window", a->options.window, "Periods fed one by one (earlier ones are summed into one)")
      ->default_val(a->options.window);
  cmd->add_option("--seed", m.seed, "Seed of the initial parameters and the shuffles")->default_val(0);
  cmd->add_flag("--json", *json, "Print a JSON summary");
  add_threads_option(*cmd, *common);
  cmd->callback([a, cell, common, json] {
    common->apply();
    if (*cell != "gru" && *cell != "lstm") throw InputError(fmt::format("--cell: expected gru or lstm, found '{}'", *cell));
    a->options.model.cell = *cell == "gru" ? temporal::CellKind::gru : temporal::CellKind::lstm;
    a->options.model.threads = common->threads;
    a->options.als.als.seed = a->options.model.seed;
    const TrainSummary s = run_train(*a);
    if (*json) {
      fmt::print("{}\n", s.json.dump(2));
      return;
    }
    fmt::print("{}: /results/{}: {} over {} periods, {} epochs (best {}, validation loss {:.4f}); hybrid interest weight {} "
               "(recall@20 {:.4f} on the last period, {} users) in {:.1f} s\n",
               a->store, a->name, s.json["cell"].get<std::string>(), s.json["periods"].get<std::size_t>(),
               s.json["epochs_run"].get<std::size_t>(), s.json["best_epoch"].get<int>(),
               s.json["best_validation_loss"].get<double>(), s.json["interest_weight"].get<double>(),
               s.json["interest_weight_recall@20"].get<double>(), s.json["interest_weight_pairs"].get<std::size_t>(),
               s.json["seconds"].get<double>());
  });

  auto* pred = app.add_subcommand("predict", "A user's predicted interests for the next period (from `driftrec train`)");
  pred->footer("Labels the user never had an item of are flagged as new.\nExample: driftrec predict ml.h5 --user 414 --top 5");
  struct PredictArgs {
    std::string store, user, model = "sequence";
    int top = 5;
    bool json = false;
  };
  auto p = std::make_shared<PredictArgs>();
  pred->add_option("store", p->store, "Store with a train result")->required();
  pred->add_option("--user", p->user, "User id as in the log")->required();
  pred->add_option("--model", p->model, "Result name (driftrec train --name)")->default_val("sequence");
  pred->add_option("--top", p->top, "Labels to show")->default_val(5);
  pred->add_flag("--json", p->json, "Print JSON");
  pred->callback([p] {
    if (p->top < 1) throw InputError("--top: expected 1 or more");
    const io::Store store = io::Store::open(p->store);
    const LoadedSequence s = load_sequence_result(store, p->model);
    const graph::Index u = find_id(store.users(), p->user, "user", p->store);
    // Labels of the user's items so far.
    std::set<graph::Index> had;
    const graph::CsrMatrix labels = store.item_labels();
    const graph::EventColumns e = store.events();
    for (std::size_t k = 0; k < e.size(); ++k)
      if (e.user[k] == u)
        for (graph::Offset q = labels.indptr[e.item[k]]; q < labels.indptr[e.item[k] + 1]; ++q) had.insert(labels.indices[q]);
    std::vector<graph::Index> order(static_cast<std::size_t>(store.n_labels()));
    for (graph::Index l = 0; l < store.n_labels(); ++l) order[static_cast<std::size_t>(l)] = l;
    std::stable_sort(order.begin(), order.end(), [&](graph::Index x, graph::Index y) {
      return s.next_interests(u, x) > s.next_interests(u, y);
    });
    order.resize(std::min<std::size_t>(order.size(), static_cast<std::size_t>(p->top)));
    const std::vector<std::string> names = store.labels();
    nlohmann::json list = nlohmann::json::array();
    for (graph::Index l : order)
      list.push_back({{"label", names[static_cast<std::size_t>(l)]}, {"probability", s.next_interests(u, l)}, {"new", !had.contains(l)}});
    if (p->json) {
      fmt::print("{}\n", nlohmann::json{{"user", p->user}, {"model", p->model}, {"labels", list}}.dump(2));
      return;
    }
    fmt::print("user {}: predicted interests for the period after the last ({}):\n", p->user, p->model);
    for (const auto& x : list)
      fmt::print("  {:<24} {:.3f}{}\n", x["label"].get<std::string>(), x["probability"].get<double>(),
                 x["new"].get<bool>() ? "  (new to this user)" : "");
  });
}

}  // namespace driftrec::cli
