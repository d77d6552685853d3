// driftrec train / predict: the sequence model over every period of a store, saved under
// /results/<name>, and a user's predicted interests for the period after the last
// (pipeline/train.hpp).
#include <fmt/core.h>

#include <cmath>

#include "cli/commands.hpp"
#include "pipeline/train.hpp"
#include "temporal/mixture.hpp"

namespace driftrec::cli {

void add_train(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the sequence model (GRU, LSTM or attention cell) that predicts next-period interests and items");
  cmd->footer(
      "Features per user and period: the propagated interest distribution (temporal label propagation), the temporal "
      "ALS factor, log(1 + events) and the gap since the last active period. The model reads them period by period "
      "and predicts the next period's interests (softmax, cross-entropy) and user factor. The last period is held out "
      "for early stopping and for the hybrid's blend weight.\n"
      "On top of the cell an interest mixture is trained: a learned, per-user gate over the propagated interests, the "
      "user's own label EWMAs, the population's last period and the cell's softmax; it falls back to its best expert "
      "when that is better on the last period. --interests best stores whichever of the cell's head and the mixture "
      "has the lower cross-entropy on the last period. The result keeps the state `driftrec update` steps it forward "
      "from, one cell step per appended period with the weights as trained (the attention cell: the keys and values of "
      "every period fed; the mixture: its label EWMAs, labelled periods and the last population, gate and head as "
      "trained); every cell and --interests choice is stepped (or retrained with update --retrain).\n"
      "Saved under /results/<name>: the parameters and each user's prediction for the period after the last.\n\n"
      "Example:\n  driftrec train ml.h5 --cell gru --epochs 30\n  driftrec train ml.h5 --cell attention --name attention\n  driftrec predict ml.h5 --user 414\n"
      "  driftrec recommend ml.h5 --user 414 --model sequence");
  auto q = std::make_shared<pipeline::TrainRequest>();
  auto cell = std::make_shared<std::string>("gru");
  auto common = std::make_shared<CommonOptions>();
  auto json = std::make_shared<bool>(false);
  auto& m = q->options.model;
  cmd->add_option("store", q->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--name", q->name, "Result name under /results")->default_val("sequence");
  cmd->add_option("--cell", *cell, "gru | lstm | attention (causal self-attention over the periods)")->default_val("gru");
  cmd->add_option("--hidden", m.hidden, "Hidden units")->default_val(m.hidden);
  cmd->add_option("--epochs", m.epochs, "Epochs at most")->default_val(m.epochs);
  cmd->add_option("--learning-rate", m.learning_rate, "Adam step size")->default_val(m.learning_rate);
  cmd->add_option("--bptt", m.bptt, "Truncated back-propagation window, in periods")->default_val(m.bptt);
  cmd->add_option("--batch-users", m.batch_users, "Users per mini-batch")->default_val(m.batch_users);
  cmd->add_option("--factor-weight", m.factor_weight, "Weight of the factor head's squared error")->default_val(m.factor_weight);
  cmd->add_option("--patience", m.patience, "Epochs without validation improvement before stopping")->default_val(m.patience);
  cmd->add_option("--factors", q->options.als.als.factors, "Temporal ALS factors (features)")->default_val(q->options.als.als.factors);
  cmd->add_option("--window", q->options.window, "Periods fed one by one (earlier ones are summed into one)")
      ->default_val(q->options.window);
  cmd->add_option("--interests", q->interests,
                  "best | sequence | mixture: the interests stored and served (best: the sequence head or the interest "
                  "mixture, whichever has the lower cross-entropy on the last period)")
      ->default_val("best");
  cmd->add_option("--items", q->items,
                  "best | hybrid | ranker: what `recommend --model` ranks items by (best: the hybrid of the predicted "
                  "factor and interests, or the learned item ranker of `driftrec evaluate`, whichever has the higher "
                  "recall@20 on the last period, each fitted on the periods before it; the ranker's own setting is "
                  "chosen there too, and it is refitted on every period when recommend asks)")
      ->default_val("best");
  cmd->add_option("--seed", m.seed, "Seed of the initial parameters and the shuffles")->default_val(0);
  cmd->add_flag("--json", *json, "Print a JSON summary");
  add_threads_option(*cmd, *common);
  add_device_option(*cmd, q->device);
  add_quiet_option(*cmd, *common);
  cmd->callback([q, cell, common, json] {
    common->apply();
    q->options.model.cell = temporal::parse_cell(*cell, "--cell");
    q->options.als.als.seed = q->options.model.seed;
    q->threads = common->threads;
    q->progress = make_progress(*common);
    const pipeline::TrainSummary s = pipeline::train_store(*q);
    end_progress();
    if (*json) {
      fmt::print("{}\n", s.to_json().dump(2));
      return;
    }
    fmt::print("{}: /results/{}: {} over {} periods, {} epochs (best {}, validation loss {:.4f}); hybrid interest weight {} "
               "(recall@20 {:.4f} on the last period, {} users) in {:.1f} s\n",
               s.store, s.result, s.cell_name(), s.periods, s.epochs_run, s.best_epoch, s.best_validation_loss,
               s.interest_weight.weight, s.interest_weight.recall, s.interest_weight.pairs, s.seconds);
    fmt::print("interests served: {} (cross-entropy on the last period: sequence {:.4f}, mixture {:.4f}{})\n", s.interests,
               s.validation_cross_entropy_sequence, s.validation_cross_entropy_mixture,
               s.mixture_only_expert >= 0 ? fmt::format(", fell back to {}", temporal::expert_name(s.mixture_only_expert))
                                          : std::string());
    if (s.interests == "mixture")
      fmt::print("labels ranked by: probability, never-had labels x{} (on the last period: recall@3 {:.4f} against "
                 "ewma {:.4f}, new-label recall@3 {:.4f} against population {:.4f})\n",
                 s.label_ranking.boost, s.label_ranking.recall3, s.label_ranking.ewma_recall3,
                 s.label_ranking.new_label_recall3, s.label_ranking.population_new_label_recall3);
    if (std::isnan(s.validation_recall_ranker))
      fmt::print("items ranked by: {}\n", s.items);
    else
      fmt::print("items ranked by: {} (recall@20 on the last period: hybrid {:.4f}, ranker {:.4f} with its {} setting)\n",
                 s.items, s.interest_weight.recall, s.validation_recall_ranker, s.ranker_setting);
  });

  auto* pred = app.add_subcommand("predict", "A user's predicted interests for the next period (from `driftrec train`)");
  pred->footer("Labels the user never had an item of are flagged as new. They are ranked by probability; with the "
               "interest mixture's prediction (the default), the labels a user never had are first multiplied by the "
               "boost `train` chose on the last period (its output's 'labels ranked by' line), since the mixture's "
               "probabilities alone favour labels a user already has.\nExample: driftrec predict ml.h5 --user 414 --top 5");
  struct PredictArgs {
    pipeline::PredictRequest request;
    bool json = false;
  };
  auto p = std::make_shared<PredictArgs>();
  pred->add_option("store", p->request.store, "Store with a train result")->required();
  pred->add_option("--user", p->request.user, "User id as in the log")->required();
  pred->add_option("--model", p->request.model, "Result name (driftrec train --name)")->default_val("sequence");
  pred->add_option("--top", p->request.top, "Labels to show")->default_val(5);
  pred->add_flag("--json", p->json, "Print JSON");
  pred->callback([p] {
    const pipeline::Prediction r = pipeline::predict(p->request);
    if (p->json) {
      fmt::print("{}\n", r.to_json().dump(2));
      return;
    }
    fmt::print("user {}: predicted interests for the period after the last ({}):\n", r.user, r.model);
    for (const pipeline::PredictedLabel& l : r.labels)
      fmt::print("  {:<24} {:.3f}{}\n", l.label, static_cast<double>(l.probability), l.is_new ? "  (new to this user)" : "");
  });
}

}  // namespace driftrec::cli
