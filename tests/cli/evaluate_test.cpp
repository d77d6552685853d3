// driftrec evaluate through the CLI, on a small generated log with its planted truth.
#include <catch2/catch.hpp>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;

// 200 users over 6 periods of 30 days, ingested with the generator's slicing.
constexpr const char* kLog = "--users 200 --items 150 --labels 6 --periods 6 --events-per-period 4 --seed 3";

TEST_CASE("evaluate prints the table and writes the JSON report", "[cli_evaluate]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  const std::string out = (dir / "report.json").string();
  auto r = run_cli(fmt::format("evaluate '{}' --test-periods 2 --k 5,10 --json '{}' --seed 4 --truth '{}' --threads 2",
                               store, out, (dir / "gen" / "truth.csv").string()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("cross_entropy") && Catch::Contains("recall@10") &&
                        Catch::Contains("interest_truth") && Catch::Contains("temporal_als"));

  const json j = json::parse(driftrec::test::read_file(out));
  CHECK(j["store"] == store);
  CHECK(j["slicing"] == "2592000s");
  REQUIRE(j["test_periods"].size() == 2);
  CHECK(j["test_periods"][0].is_string());
  CHECK(j["users_evaluated"].is_number_integer());
  CHECK(j["users_evaluated"].get<int>() > 100);
  std::set<std::string> models, item_metrics, interest_metrics, truth_metrics;
  for (const auto& row : j["results"]) {
    std::set<std::string> keys;
    for (const auto& [k, v] : row.items()) keys.insert(k);
    CHECK(keys == std::set<std::string>{"model", "task", "metric", "value", "ci95", "users"});
    CHECK(row["value"].is_number());
    CHECK(row["ci95"].size() == 2);
    CHECK(row["users"].is_number_integer());
    models.insert(row["model"].get<std::string>());
    const std::string task = row["task"].get<std::string>();
    if (task == "interest") interest_metrics.insert(row["metric"].get<std::string>());
    else if (task == "item") item_metrics.insert(row["metric"].get<std::string>());
    else if (task == "interest_truth") truth_metrics.insert(row["metric"].get<std::string>());
    else FAIL("unexpected task " << task);
  }
  CHECK(models == std::set<std::string>{"popularity", "recent_popularity", "last_period", "ewma", "item_knn", "rp3beta", "als",
                                        "label_propagation", "temporal_als", "sequence_gru", "sequence_lstm", "sequence_attention",
                                        "hybrid", "mixture", "ranker"});
  CHECK(item_metrics == std::set<std::string>{"recall@5", "ndcg@5", "hr@5", "recall@10", "ndcg@10", "hr@10"});
  // The generator plants new labels (--jump), so new-label recall has pairs.
  CHECK(interest_metrics == std::set<std::string>{"cross_entropy", "kl", "recall@3", "ndcg@3", "new_label_recall@3"});
  CHECK(truth_metrics == std::set<std::string>{"cross_entropy", "kl"});
  CHECK(j["hyperparameters"]["temporal_als"].contains("eta"));
  CHECK(j["bootstrap"]["resamples"] == 1000);

  // The same seed, the same report (wall time aside).
  const std::string out2 = (dir / "report2.json").string();
  auto r2 = run_cli(fmt::format("evaluate '{}' --test-periods 2 --k 5,10 --json '{}' --seed 4 --truth '{}' --threads 2",
                                store, out2, (dir / "gen" / "truth.csv").string()));
  REQUIRE(r2.exit_code == 0);
  CHECK(json::parse(driftrec::test::read_file(out2))["results"] == j["results"]);
}

TEST_CASE("evaluate rejects bad options with exit 2 and a clear message", "[cli_evaluate]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  auto too_many = run_cli(fmt::format("evaluate '{}' --test-periods 6", store));
  CHECK(too_many.exit_code == 2);
  CHECK_THAT(too_many.err, Catch::Contains("--test-periods 6") && Catch::Contains("6 non-empty periods"));
  auto no_validation = run_cli(fmt::format("evaluate '{}' --test-periods 5", store));
  CHECK(no_validation.exit_code == 2);
  CHECK_THAT(no_validation.err, Catch::Contains("use 1 to 2"));
  auto zero = run_cli(fmt::format("evaluate '{}' --test-periods 0", store));
  CHECK(zero.exit_code == 2);
  auto bad_k = run_cli(fmt::format("evaluate '{}' --test-periods 1 --k 10,zero", store));
  CHECK(bad_k.exit_code == 2);
  CHECK_THAT(bad_k.err, Catch::Contains("--k"));
  auto no_truth = run_cli(fmt::format("evaluate '{}' --test-periods 1 --truth '{}'", store, (dir / "missing.csv").string()));
  CHECK(no_truth.exit_code == 2);
  auto no_store = run_cli(fmt::format("evaluate '{}' --test-periods 1", (dir / "missing.h5").string()));
  CHECK(no_store.exit_code == 2);
}

TEST_CASE("evaluate accepts the number of test periods its refusal suggests", "[cli_evaluate]") {
  TempDir dir;
  // 5 periods: three to train the sequence model on and one to validate on leave one test period.
  const std::string store = driftrec::test::generated_store(
      dir, "--users 80 --items 60 --labels 4 --periods 5 --events-per-period 4 --seed 8");
  auto refused = run_cli(fmt::format("evaluate '{}' --test-periods 4", store));
  REQUIRE(refused.exit_code == 2);
  const auto at = refused.err.find("use 1 to ");
  REQUIRE(at != std::string::npos);
  const int suggested = std::stoi(refused.err.substr(at + 9));
  CHECK(suggested == 1);
  auto accepted = run_cli(fmt::format("evaluate '{}' --test-periods {} --k 5 --threads 2", store, suggested));
  INFO(accepted.err);
  CHECK(accepted.exit_code == 0);
}

TEST_CASE("evaluate says plainly when a store is too short for any test period", "[cli_evaluate]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(
      dir, "--users 60 --items 40 --labels 4 --periods 4 --events-per-period 4 --seed 8");
  for (int t : {1, 3}) {
    auto r = run_cli(fmt::format("evaluate '{}' --test-periods {}", store, t));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("4 non-empty periods") && Catch::Contains("too short for any test period"));
    CHECK_THAT(r.err, !Catch::Contains("use at most 0"));
  }
}

TEST_CASE("evaluate --models scores only the rows named, on the periods of the full run", "[cli_evaluate]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  const std::string out = (dir / "report.json").string();
  auto r = run_cli(fmt::format("evaluate '{}' --test-periods 2 --models recent_popularity,ranker --json '{}' --threads 2",
                               store, out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(driftrec::test::read_file(out));
  std::set<std::string> models;
  for (const auto& row : j["results"]) models.insert(row["model"].get<std::string>());
  CHECK(models == std::set<std::string>{"recent_popularity", "ranker"});
  CHECK(j["test_periods"].size() == 2);
  for (const auto& t : j["validation"]["ranker"]) CHECK(t["metric"] == "recall@20");  // the largest K

  auto bad = run_cli(fmt::format("evaluate '{}' --test-periods 2 --models recent_popularity,nope", store));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("nope") && Catch::Contains("ranker"));
}
