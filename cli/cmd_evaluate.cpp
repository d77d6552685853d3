// driftrec evaluate: the temporal evaluation protocol on a store, every baseline and model
// in one run (pipeline/evaluate.hpp); a table on stdout, the JSON report with --json FILE.
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "io/text.hpp"
#include "pipeline/evaluate.hpp"

namespace driftrec::cli {

namespace {

std::vector<int> parse_ks(const std::string& spec) {
  std::vector<int> ks;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const std::size_t comma = spec.find(',', start);
    const std::string_view field =
        io::trim(std::string_view(spec).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    std::int64_t k = 0;
    if (!io::parse_int64(field, k) || k < 1 || k > 100000)
      throw InputError(fmt::format(
          "--k '{}': expected a comma-separated list of cut-offs between 1 and 100000, e.g. 10,20", spec));
    ks.push_back(static_cast<int>(k));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ks;
}

}  // namespace

void add_evaluate(CLI::App& app) {
  auto* cmd = app.add_subcommand("evaluate", "Temporal evaluation of every baseline and model, with confidence intervals");
  cmd->footer(
      "Global temporal split: the last N non-empty periods are test periods; for each, every model is "
      "fitted only on events strictly before it. Hyper-parameters are chosen on the period before the "
      "first test period; the sequence model trains on at least 3 periods before that one, so a store of P "
      "periods allows --test-periods 1 to P - 4. Interest task: cross-entropy, KL, recall@3, ndcg@3, new-label recall@3 against the "
      "label distribution of the user's items in the period. Item task: recall@K, ndcg@K, hr@K over a "
      "full ranking of the items seen in training. 95% bootstrap intervals over (user, period) pairs.\n\n"
      "Example:\n"
      "  driftrec evaluate ml.h5 --test-periods 3 --k 10,20 --json report.json\n"
      "  driftrec evaluate synth.h5 --test-periods 2 --truth synth/truth.csv   (generated data)");
  struct Args {
    pipeline::EvaluateRequest request;
    std::string ks = "10,20", json;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  auto& q = a->request;
  cmd->add_option("store", q.store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--test-periods", q.test_periods, "Number of test periods (the last N)")->default_val(3);
  cmd->add_option("--k", a->ks, "Cut-offs of the item metrics, comma-separated")->default_val("10,20");
  cmd->add_option("--json", a->json, "Also write the JSON report to this file");
  cmd->add_option("--seed", q.seed, "Seed of the bootstrap resamples and of the ALS initialisation")->default_val(0);
  cmd->add_option("--truth", q.truth,
                  "truth.csv of `driftrec generate`: also score each interest model against the planted interests");
  cmd->add_option("--tune-budget", q.tune_budget,
                  "Seconds to spend first choosing the sequence models' hidden size, window and learning rate on "
                  "the validation period (0: their defaults)")
      ->default_val(0)
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--models", q.models,
                  "Evaluate only these rows, comma-separated (e.g. recent_popularity,ranker; default: every row); "
                  "the periods are split as for every row")
      ->delimiter(',');
  add_threads_option(*cmd, a->common);
  add_device_option(*cmd, a->request.device);
  add_quiet_option(*cmd, a->common);
  cmd->callback([a] {
    a->common.apply();
    a->request.ks = parse_ks(a->ks);
    a->request.threads = a->common.threads;
    a->request.progress = make_progress(a->common);
    const pipeline::EvaluateSummary s = pipeline::evaluate_store(a->request);
    end_progress();
    fmt::print("{}", s.table);
    fmt::print("evaluated in {:.1f} s\n", s.seconds);
    if (!a->json.empty()) {
      std::ofstream f(a->json);
      if (!f) throw InputError(fmt::format("--json {}: cannot open the file for writing", a->json));
      f << s.to_json().dump(2) << "\n";
      f.close();
      if (!f) throw std::runtime_error(fmt::format("--json {}: write failed", a->json));
    }
  });
}

}  // namespace driftrec::cli
