// driftrec evaluate: the temporal evaluation protocol on a store, every baseline and model
// in one run (pipeline/evaluate.hpp); a table on stdout, the JSON report with --json FILE.
#include <memory>

#include "cli/commands.hpp"
#include "pipeline/evaluate.hpp"

namespace driftrec::cli {

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
  add_evaluate_options(*cmd, {q, a->ks, a->json});
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
    print_evaluation(s, a->json);
  });
}

}  // namespace driftrec::cli
