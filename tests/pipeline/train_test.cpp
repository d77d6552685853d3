// pipeline/train: train_store saves the model `driftrec train` saves, and predict and
// recommend by model return what `driftrec predict` and `driftrec recommend --model` print;
// bad requests throw InputError naming the field.
#include "pipeline/train.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "io/sequence_result.hpp"
#include "pipeline/recommend.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;
using test::run_cli;

namespace {
constexpr const char* kLog = "--users 150 --items 120 --labels 6 --periods 6 --events-per-period 6 --seed 21";
}

TEST_CASE("train_store saves the model driftrec train saves; predict returns what driftrec predict prints",
          "[pipeline][train]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("train '{}' --name cli --epochs 4 --hidden 8 --cell lstm --seed 3 --threads 2 --json", store));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  pipeline::TrainRequest q;
  q.store = store;
  q.name = "lib";
  q.options.model.epochs = 4;
  q.options.model.hidden = 8;
  q.options.model.cell = temporal::CellKind::lstm;
  q.options.model.seed = 3;
  q.options.als.als.seed = 3;  // `driftrec train --seed` seeds both
  q.threads = 2;
  std::set<std::string> stages;
  q.progress = [&](const char* stage, std::uint64_t done, std::uint64_t total) {
    stages.insert(stage);
    CHECK(done <= total);
  };
  const pipeline::TrainSummary s = pipeline::train_store(q);
  CHECK(test::without(s.to_json(), {"seconds", "result"}) == test::without(json::parse(r.out), {"seconds", "result"}));
  CHECK(stages == std::set<std::string>{"features: propagation", "features: temporal ALS", "training"});
  CHECK(s.cell_name() == std::string("lstm"));

  const io::Store st = io::Store::open(store);
  const io::SequenceResult a = io::read_sequence_result(st, "cli"), b = io::read_sequence_result(st, "lib");
  CHECK(b.next_interests == a.next_interests);
  CHECK(b.next_factors == a.next_factors);
  CHECK(b.item_factors == a.item_factors);
  CHECK(b.train_loss == a.train_loss);
  CHECK(b.validation_loss == a.validation_loss);
  CHECK(b.interest_weight == a.interest_weight);
  CHECK(b.window == q.options.window);
  CHECK(b.periods == 6);
  CHECK(b.model.shape().hidden == 8);

  for (const std::string& user : {st.users()[0], st.users()[5]}) {
    pipeline::PredictRequest p;
    p.store = store;
    p.user = user;
    p.model = "lib";
    p.top = 4;
    auto cli = run_cli(fmt::format("predict '{}' --user {} --model cli --top 4 --json", store, user));
    REQUIRE(cli.exit_code == 0);
    const pipeline::Prediction got = pipeline::predict(p);
    CHECK(got.labels.size() == 4);
    CHECK(test::without(got.to_json(), {"model"}) == test::without(json::parse(cli.out), {"model"}));

    pipeline::RecommendRequest rq;
    rq.store = store;
    rq.user = user;
    rq.model = "lib";
    rq.k = 5;
    auto rec = run_cli(fmt::format("recommend '{}' --user {} --model cli --k 5 --json", store, user));
    REQUIRE(rec.exit_code == 0);
    CHECK(test::without(pipeline::recommend(rq).to_json(), {"result"}) == test::without(json::parse(rec.out), {"result"}));
  }
}

TEST_CASE("a bad train or predict request throws InputError naming the field", "[pipeline][train]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string before = test::read_file(store);
  using Q = pipeline::TrainRequest;
  Q base;
  base.store = store;
  const auto error_of = test::error_after(base, pipeline::train_store);
  CHECK_THAT(error_of([](Q& q) { q.options.window = 0; }), Catch::Contains("window"));
  CHECK_THAT(error_of([](Q& q) { q.options.model.hidden = 0; }), Catch::Contains("hidden"));
  CHECK_THAT(error_of([](Q& q) { q.options.model.learning_rate = -1; }), Catch::Contains("learning_rate"));
  CHECK_THAT(error_of([](Q& q) { q.threads = -2; }), Catch::Contains("threads"));
  CHECK_THAT(error_of([](Q& q) { q.name = "a/b"; }), Catch::Contains("name"));
  CHECK(test::read_file(store) == before);

  pipeline::PredictRequest p;
  p.store = store;
  p.user = io::Store::open(store).users()[0];
  CHECK_THAT(test::input_error_of([&] { pipeline::predict(p); }), Catch::Contains("no result named 'sequence'"));
  p.top = 0;
  CHECK_THAT(test::input_error_of([&] { pipeline::predict(p); }), Catch::Contains("top"));
}
