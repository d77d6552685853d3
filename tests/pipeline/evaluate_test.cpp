// pipeline/evaluate: evaluate_store returns the table `driftrec evaluate` prints and the
// report it writes with --json; bad requests throw InputError naming the field.
#include "pipeline/evaluate.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <sstream>

#include <fmt/format.h>

#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;

namespace {

// The text without its lines of wall times, which differ between two runs.
std::string without_times(const std::string& text) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (!line.starts_with("seconds per model") && !line.starts_with("evaluated in")) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("evaluate_store returns the table and report driftrec evaluate prints and writes", "[pipeline][evaluate]") {
  test::TempDir dir;
  const std::string store =
      test::generated_store(dir, "--users 70 --items 60 --labels 4 --periods 5 --events-per-period 4 --seed 6");
  const std::string out = (dir / "report.json").string();
  auto r = test::run_cli(
      fmt::format("evaluate '{}' --test-periods 1 --k 5 --seed 2 --json '{}' --threads 2", store, out));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  pipeline::EvaluateRequest q;
  q.store = store;
  q.test_periods = 1;
  q.ks = {5};
  q.seed = 2;
  q.threads = 2;
  const pipeline::EvaluateSummary s = pipeline::evaluate_store(q);
  CHECK(without_times(r.out) == without_times(s.table));
  CHECK_THAT(s.table, Catch::Contains("seconds per model"));
  const json cli = json::parse(test::read_file(out));
  CHECK(test::without(s.to_json(), {"wall_seconds", "seconds", "cpu_seconds"}) == test::without(cli, {"wall_seconds", "seconds", "cpu_seconds"}));
  CHECK(s.to_json()["results"].size() > 10);
}

TEST_CASE("a bad evaluate request throws InputError naming the field", "[pipeline][evaluate]") {
  test::TempDir dir;
  const std::string store =
      test::generated_store(dir, "--users 40 --items 30 --labels 3 --periods 5 --events-per-period 3 --seed 1");
  pipeline::EvaluateRequest q;
  q.store = store;
  q.ks = {0};
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("ks"));
  q.ks = {};
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("ks"));
  q.ks = {10};
  q.test_periods = 3;  // 5 periods: three to train the sequence model on and one to validate on leave 1
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("test-periods 3"));
  q.test_periods = 1;
  q.truth = (dir / "absent.csv").string();
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("absent.csv"));
  q.truth.clear();
  q.train_users = -1;
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("train_users"));
  q.train_users = 0;
  for (const double budget : {-1.0, std::numeric_limits<double>::quiet_NaN()}) {
    CAPTURE(budget);
    q.tune_budget = budget;  // the CLI refuses these before the call; the Python module passes them on
    CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }), Catch::Contains("tune_budget"));
  }
  q.tune_budget = 0;
  q.models = {"recent_popularity", "sequence_grue"};
  CHECK_THAT(test::input_error_of([&] { pipeline::evaluate_store(q); }),
             Catch::Contains("models: no row named 'sequence_grue'"));
}

TEST_CASE("evaluate on a store without item labels says so and how to add them", "[pipeline][evaluate]") {
  test::TempDir dir;
  const auto gen = dir / "gen";
  REQUIRE(test::run_cli(fmt::format("generate --out '{}' --users 40 --items 30 --labels 3 --periods 6 --seed 1",
                                    gen.string()))
              .exit_code == 0);
  const std::string store = (dir / "bare.h5").string();
  REQUIRE(test::run_cli(fmt::format("ingest '{}' --slice 2592000s -o '{}'", (gen / "events.csv").string(), store))
              .exit_code == 0);
  pipeline::EvaluateRequest q;
  q.store = store;
  q.test_periods = 1;
  const std::string message = test::input_error_of([&] { pipeline::evaluate_store(q); });
  CHECK_THAT(message, Catch::Contains("bare.h5") && Catch::Contains("no item labels") && Catch::Contains("--labels"));
  CHECK_THAT(message, !Catch::Contains("`interests`"));
}
