// pipeline/factorize: factorize_store saves the factors `driftrec factorize` saves and
// returns what its --json prints; bad requests throw InputError naming the field.
#include "pipeline/factorize.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include <fmt/format.h>

#include "io/factors_result.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;
using test::run_cli;

namespace {
constexpr const char* kLog = "--users 160 --items 110 --labels 5 --periods 5 --events-per-period 5 --seed 12";
}

TEST_CASE("factorize_store saves the factors driftrec factorize saves", "[pipeline][factorize]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("factorize '{}' --name cli --factors 6 --iterations 2 --eta 1 --gamma 0.5 --seed 4 "
                               "--keep-users last:2 --keep-items all --verbose --threads 2 --json",
                               store));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  pipeline::FactorizeRequest q;
  q.store = store;
  q.name = "lib";
  q.options.als.factors = 6;
  q.options.als.iterations = 2;
  q.options.als.seed = 4;
  q.options.eta = 1;
  q.options.gamma = 0.5f;
  q.options.compute_loss = true;
  q.keep_users = "last:2";
  q.keep_items = "all";
  q.threads = 2;
  int sweeps = 0;
  q.on_iteration = [&](std::size_t, const matrix_factorization::IterationReport& it) {
    ++sweeps;
    CHECK(std::isfinite(it.loss));
  };
  const pipeline::FactorizeSummary s = pipeline::factorize_store(q);
  CHECK(sweeps == 5 * 2);
  CHECK(test::without(s.to_json(), {"seconds", "result"}) == test::without(json::parse(r.out), {"seconds", "result"}));
  CHECK(s.user_periods_kept == 2);
  CHECK(s.item_periods_kept == 5);

  const io::Store st = io::Store::open(store);
  for (std::size_t p = 3; p < 5; ++p) {
    const io::StoredFactors a = io::read_factors(st, "cli", p), b = io::read_factors(st, "lib", p);
    CHECK(b.period == p);
    CHECK(b.model.user == a.model.user);
    CHECK(b.model.item == a.model.item);
  }
  CHECK(io::read_factors(st, "lib").period == 4);  // the latest with both
  CHECK_THAT(test::input_error_of([&] { io::read_factors(st, "lib", 1); }), Catch::Contains("period 1"));
}

TEST_CASE("a bad factorize request throws InputError naming the field", "[pipeline][factorize]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string before = test::read_file(store);
  using Q = pipeline::FactorizeRequest;
  Q base;
  base.store = store;
  const auto error_of = test::error_after(base, pipeline::factorize_store);
  CHECK_THAT(error_of([](Q& q) { q.keep_users = "last:0"; }), Catch::Contains("keep_users"));
  CHECK_THAT(error_of([](Q& q) { q.keep_items = "first:1"; }), Catch::Contains("keep_items"));
  CHECK_THAT(error_of([](Q& q) { q.options.als.factors = 0; }), Catch::Contains("factors"));
  CHECK_THAT(error_of([](Q& q) { q.options.gamma = 1.5f; }), Catch::Contains("gamma"));
  CHECK_THAT(error_of([](Q& q) { q.name = ""; }), Catch::Contains("name"));
  CHECK(test::read_file(store) == before);
}
