// pipeline/recommend: recommend and similar_items return what `driftrec recommend` and
// `driftrec similar-items` print with --json; bad requests throw InputError naming the field.
#include "pipeline/recommend.hpp"

#include <catch2/catch.hpp>

#include <fmt/format.h>

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
