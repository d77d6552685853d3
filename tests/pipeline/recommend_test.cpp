// pipeline/recommend: recommend and similar_items return what `driftrec recommend` and
// `driftrec similar-items` print with --json; bad requests throw InputError naming the field;
// --model ranker ranks as the evaluator's ranker fitted on every period.
#include "pipeline/recommend.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "evaluation/metrics.hpp"
#include "evaluation/ranker_model.hpp"
#include "evaluation/split.hpp"
#include "io/store.hpp"
#include "pipeline/factorize.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;
using test::run_cli;

namespace {

constexpr const char* kLog = "--users 120 --items 90 --labels 5 --periods 5 --events-per-period 5 --seed 14";

json cli_json(const std::string& args) {
  auto r = run_cli(args);
  INFO(args << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

// The generated store with the factors of factorize_store (result "als"); its path.
std::string factorized_store(const test::TempDir& dir, int factors, const std::string& keep_items) {
  const std::string store = test::generated_store(dir, kLog);
  pipeline::FactorizeRequest f;
  f.store = store;
  f.options.als.factors = factors;
  f.options.als.iterations = 2;
  f.keep_items = keep_items;
  pipeline::factorize_store(f);
  return store;
}

}  // namespace

TEST_CASE("recommend and similar_items return what the CLI prints", "[pipeline][recommend]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir, 5, "all");
  const io::Store st = io::Store::open(store);
  const std::string user = st.users()[3], item = st.items()[7];
  test::write_file(dir / "filter.txt", st.items()[0] + "\n" + st.items()[1] + "\n");

  pipeline::RecommendRequest q;
  q.store = store;
  q.user = user;
  q.k = 6;
  CHECK(pipeline::recommend(q).to_json() == cli_json(fmt::format("recommend '{}' --user {} --k 6 --json", store, user)));
  q.period = 2;
  q.include_seen = true;
  q.filter_items = (dir / "filter.txt").string();
  const pipeline::Recommendations r = pipeline::recommend(q);
  CHECK(r.period == 2);
  CHECK(r.excluded == 2);
  CHECK(r.items.size() == 6);
  CHECK(r.to_json() == cli_json(fmt::format("recommend '{}' --user {} --k 6 --period 2 --include-seen --filter-items '{}' "
                                            "--json",
                                            store, user, (dir / "filter.txt").string())));

  pipeline::SimilarItemsRequest sq;
  sq.store = store;
  sq.item = item;
  sq.k = 4;
  const pipeline::SimilarItems si = pipeline::similar_items(sq);
  CHECK(si.items.size() == 4);
  for (const auto& x : si.items) CHECK(x.item != item);
  CHECK(si.to_json() == cli_json(fmt::format("similar-items '{}' --item {} --k 4 --json", store, item)));
}

TEST_CASE("a bad recommend request throws InputError naming the field", "[pipeline][recommend]") {
  test::TempDir dir;
  const std::string store = factorized_store(dir, 3, "last:1");
  const std::string user = io::Store::open(store).users()[0];
  using Q = pipeline::RecommendRequest;
  Q base;
  base.store = store;
  base.user = user;
  const auto error_of = test::error_after(base, pipeline::recommend);
  CHECK_THAT(error_of([](Q& q) { q.k = 0; }), Catch::Contains("k:"));
  CHECK_THAT(error_of([](Q& q) { q.model = "sequence"; q.period = 1; }), Catch::Contains("period"));
  CHECK_THAT(error_of([](Q& q) { q.user = "nobody"; }), Catch::Contains("user with id 'nobody'"));
  CHECK_THAT(error_of([](Q& q) { q.result = "absent"; }), Catch::Contains("absent"));
  CHECK_THAT(error_of([](Q& q) { q.period = 1; }), Catch::Contains("period 1"));  // item factors of the last only
  pipeline::SimilarItemsRequest sq;
  sq.store = store;
  sq.item = "nothing";
  CHECK_THAT(test::input_error_of([&] { pipeline::similar_items(sq); }), Catch::Contains("item with id 'nothing'"));
  sq.k = -1;
  CHECK_THAT(test::input_error_of([&] { pipeline::similar_items(sq); }), Catch::Contains("k:"));
}

TEST_CASE("recommend --model ranker ranks the user's new items by the evaluator's ranker, chosen on the last period",
          "[pipeline][recommend][ranker]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const io::Store st = io::Store::open(store);
  const std::string user = st.users()[5];
  pipeline::RecommendRequest q;
  q.store = store;
  q.user = user;
  q.k = 8;
  q.model = "ranker";
  q.threads = 2;
  const pipeline::Recommendations r = pipeline::recommend(q);
  CHECK(r.to_json() == cli_json(fmt::format("recommend '{}' --user {} --k 8 --model ranker --threads 2 --json", store, user)));
  REQUIRE(r.ranker.has_value());
  CHECK(r.result == "ranker");
  CHECK(r.period == st.n_slices() - 1);
  CHECK(r.ranker->validation_period == st.n_slices() - 1);

  // The same, step by step: the setting with the best recall@20 on the last period, refitted
  // on every period; the user's top items among those seen and new to them.
  const evaluation::EvaluationData d = evaluation::load_evaluation_data(st);
  evaluation::LibraryModelOptions lo;
  lo.threads = 2;
  const evaluation::ModelSpec spec = evaluation::ranker_model(lo);
  const evaluation::RankerChoice c = evaluation::choose_ranker_setting(d, spec, d.slices.size() - 1, 20, 2);
  CHECK(r.ranker->setting == evaluation::ranker_setting_name(c.params));
  CHECK(r.ranker->validation_recall == Approx(c.recall).margin(1e-12));
  const evaluation::Training t = evaluation::make_training(d, d.slices.size());
  const graph::Index u = 5;
  std::vector<float> scores(static_cast<std::size_t>(t.n_items), 0.0f);
  spec.fit(t, c.params)->items(u, scores);
  const std::vector<graph::Index> eligible = evaluation::eligible_items(t, u);
  const std::vector<graph::Index> top = evaluation::top_k_of(scores, eligible, 8);
  REQUIRE(r.items.size() == top.size());
  const std::vector<std::string> ids = st.items();
  for (std::size_t j = 0; j < top.size(); ++j) CHECK(r.items[j].item == ids[static_cast<std::size_t>(top[j])]);
  CHECK(r.excluded == static_cast<std::size_t>(t.history.indptr[u + 1] - t.history.indptr[u]));

  q.include_seen = true;
  CHECK_THAT(test::input_error_of([&] { pipeline::recommend(q); }), Catch::Contains("include_seen"));
}
