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
  CHECK(stages == std::set<std::string>{"features: propagation", "features: temporal ALS", "training", "interest mixture",
                                        "item ranker"});
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
  // --interests best: the stored interests are the model with the lower cross-entropy on
  // the last period, and the mixture is stored with them.
  CHECK(b.interests == s.interests);
  CHECK(a.interests == b.interests);
  REQUIRE(b.mixture.has_value());
  CHECK(b.mixture->only_expert == s.mixture_only_expert);
  CHECK(b.validation_cross_entropy_mixture == Approx(s.validation_cross_entropy_mixture).epsilon(1e-6));
  CHECK(b.validation_cross_entropy_sequence == Approx(s.validation_cross_entropy_sequence).epsilon(1e-6));
  CHECK(b.new_label_boost == (s.interests == "mixture" ? s.label_ranking.boost : 1.0));
  if (s.interests == "mixture")
    CHECK(s.validation_cross_entropy_mixture < s.validation_cross_entropy_sequence);
  else
    CHECK(s.validation_cross_entropy_mixture >= s.validation_cross_entropy_sequence);

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
    // Ranked by probability, a never-had label's times the stored boost.
    for (std::size_t i = 1; i < got.labels.size(); ++i) {
      auto rank = [&](const pipeline::PredictedLabel& l) {
        return static_cast<double>(l.probability) * (l.is_new ? b.new_label_boost : 1.0);
      };
      CHECK(rank(got.labels[i - 1]) >= rank(got.labels[i]));
    }
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

TEST_CASE("train with the attention cell, and --interests sequence / mixture force what is stored", "[pipeline][train]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto seq = run_cli(fmt::format("train '{}' --name seq --epochs 3 --hidden 6 --cell attention --interests sequence --json", store));
  INFO(seq.err);
  REQUIRE(seq.exit_code == 0);
  const json js = json::parse(seq.out);
  CHECK(js["cell"] == "attention");
  CHECK(js["interests"] == "sequence");
  CHECK(js["validation_cross_entropy_mixture"].is_null());
  auto mix = run_cli(fmt::format("train '{}' --name mix --epochs 3 --hidden 6 --cell attention --interests mixture --json", store));
  REQUIRE(mix.exit_code == 0);
  CHECK(json::parse(mix.out)["interests"] == "mixture");
  const io::Store st = io::Store::open(store);
  const io::SequenceResult a = io::read_sequence_result(st, "seq"), b = io::read_sequence_result(st, "mix");
  CHECK(a.model.parameters.cell == temporal::CellKind::attention);
  CHECK(!a.mixture.has_value());
  CHECK(a.interests == "sequence");
  REQUIRE(b.mixture.has_value());
  CHECK(b.interests == "mixture");
  CHECK(b.next_interests != a.next_interests);  // same cell and seed: only the interests differ
  CHECK(b.next_factors == a.next_factors);
  for (Eigen::Index u = 0; u < b.next_interests.rows(); ++u)
    CHECK(b.next_interests.row(u).cast<double>().sum() == Approx(1.0).epsilon(1e-5));
  auto bad = run_cli(fmt::format("train '{}' --interests other", store));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("interests") != std::string::npos);
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

TEST_CASE("train --items best stores the item model with the higher recall@20 on the last period; recommend --model "
          "ranks by it",
          "[pipeline][train][ranker]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string common = "--epochs 2 --hidden 6 --threads 2 --interests sequence --json";
  auto best = run_cli(fmt::format("train '{}' --name best {}", store, common));
  INFO(best.err);
  REQUIRE(best.exit_code == 0);
  const json jb = json::parse(best.out);
  REQUIRE(jb["validation_recall_ranker@20"].is_number());
  const double hybrid = jb["interest_weight_recall@20"].get<double>(), ranker = jb["validation_recall_ranker@20"].get<double>();
  CHECK(jb["items"] == (ranker > hybrid ? "ranker" : "hybrid"));

  auto forced = run_cli(fmt::format("train '{}' --name rk --items ranker {}", store, common));
  REQUIRE(forced.exit_code == 0);
  CHECK(json::parse(forced.out)["items"] == "ranker");
  auto plain = run_cli(fmt::format("train '{}' --name hy --items hybrid {}", store, common));
  REQUIRE(plain.exit_code == 0);
  CHECK(json::parse(plain.out)["items"] == "hybrid");
  CHECK(json::parse(plain.out)["validation_recall_ranker@20"].is_null());

  const io::Store st = io::Store::open(store);
  const io::SequenceResult rk = io::read_sequence_result(st, "rk"), hy = io::read_sequence_result(st, "hy");
  CHECK(rk.items == "ranker");
  CHECK(rk.validation_recall_ranker == Approx(ranker).epsilon(1e-6));  // stored as text, read as float
  CHECK(hy.items == "hybrid");

  pipeline::RecommendRequest q;
  q.store = store;
  q.user = st.users()[2];
  q.k = 7;
  q.threads = 2;
  q.model = "rk";
  const pipeline::Recommendations by_result = pipeline::recommend(q);
  q.model = "ranker";
  const pipeline::Recommendations by_ranker = pipeline::recommend(q);
  REQUIRE(by_result.ranker.has_value());
  CHECK(by_result.result == "rk");
  CHECK(by_result.ranker->setting == by_ranker.ranker->setting);  // the same choice, on the same last period
  REQUIRE(by_result.items.size() == by_ranker.items.size());
  for (std::size_t j = 0; j < by_result.items.size(); ++j) CHECK(by_result.items[j].item == by_ranker.items[j].item);
  q.model = "hy";
  CHECK(!pipeline::recommend(q).ranker.has_value());

  auto bad = run_cli(fmt::format("train '{}' --items other", store));
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("items") != std::string::npos);
}
