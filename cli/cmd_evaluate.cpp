// driftrec evaluate: the temporal evaluation protocol (evaluation/evaluate.hpp) on a
// store, every baseline and model in one run; a table on stdout, the JSON report with
// --json FILE.
#include <chrono>
#include <fstream>
#include <memory>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "evaluation/evaluate.hpp"
#include "evaluation/registry.hpp"
#include "evaluation/report.hpp"
#include "evaluation/truth.hpp"
#include "io/store_info.hpp"
#include "io/text.hpp"

namespace driftrec::cli {
namespace ev = evaluation;

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
      "first test period. Interest task: cross-entropy, KL, recall@3, ndcg@3, new-label recall@3 against the "
      "label distribution of the user's items in the period. Item task: recall@K, ndcg@K, hr@K over a "
      "full ranking of the items seen in training. 95% bootstrap intervals over (user, period) pairs.\n\n"
      "Example:\n"
      "  driftrec evaluate ml.h5 --test-periods 3 --k 10,20 --json report.json\n"
      "  driftrec evaluate synth.h5 --test-periods 2 --truth synth/truth.csv   (generated data)");
  struct Args {
    std::string store, ks = "10,20", json, truth;
    std::int64_t test_periods = 3;
    std::uint64_t seed = 0;
    CommonOptions common;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("store", a->store, "Store written by `driftrec ingest`")->required();
  cmd->add_option("--test-periods", a->test_periods, "Number of test periods (the last N)")->default_val(3);
  cmd->add_option("--k", a->ks, "Cut-offs of the item metrics, comma-separated")->default_val("10,20");
  cmd->add_option("--json", a->json, "Also write the JSON report to this file");
  cmd->add_option("--seed", a->seed, "Seed of the bootstrap resamples and of the ALS initialisation")->default_val(0);
  cmd->add_option("--truth", a->truth,
                  "truth.csv of `driftrec generate`: also score each interest model against the planted interests");
  add_threads_option(*cmd, a->common);
  cmd->callback([a] {
    a->common.apply();
    const std::vector<int> ks = parse_ks(a->ks);
    io::Store store = io::Store::open(a->store);
    const ev::EvaluationData data = ev::load_evaluation_data(store);
    const ev::Split split = ev::make_split(data.periods.size(), a->test_periods);

    ev::PlantedTruth truth;
    ev::EvaluateOptions o;
    o.test_periods = a->test_periods;
    o.ks = ks;
    o.seed = a->seed;
    o.threads = a->common.threads;
    if (!a->truth.empty()) {
      truth = ev::read_planted_truth(a->truth, data, split.test);
      o.truth = &truth;
    }
    if (io::StageProgress draw = make_progress())
      o.progress = [draw](const char* stage, std::uint64_t done, std::uint64_t total) { draw(stage, done, total); };

    ev::LibraryModelOptions lo;
    lo.seed = a->seed;
    lo.threads = a->common.threads;
    const auto t0 = std::chrono::steady_clock::now();
    const ev::EvaluationReport report = ev::evaluate(data, ev::default_models(lo), o);
    end_progress();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    ev::ReportContext c;
    c.seed = a->seed;
    c.resamples = o.resamples;
    c.truth = o.truth;
    c.validation_period = io::format_time(data.periods.begin[split.validation]) + "/" +
                          io::format_time(data.periods.end[split.validation]);
    fmt::print("{}", ev::report_table(report, c));
    fmt::print("evaluated in {:.1f} s\n", seconds);
    if (!a->json.empty()) {
      nlohmann::json j = ev::report_json(report, c);
      j["wall_seconds"] = seconds;
      std::ofstream f(a->json);
      if (!f) throw InputError(fmt::format("--json {}: cannot open the file for writing", a->json));
      f << j.dump(2) << "\n";
      f.close();
      if (!f) throw std::runtime_error(fmt::format("--json {}: write failed", a->json));
    }
  });
}

}  // namespace driftrec::cli
