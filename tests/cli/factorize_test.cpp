// driftrec factorize / recommend / similar-items through the CLI, on a small generated log.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include <fmt/format.h>

#include "io/results.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;

// The generated log these tests run on.
constexpr const char* kLog = "--users 300 --items 200 --labels 8 --periods 6 --events-per-period 6 --seed 5";

TEST_CASE("factorize saves user factors of every period and item factors of the last", "[cli][factorize]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("factorize '{}' --factors 8 --iterations 3 --eta 1 --gamma 0.5 --json --threads 2", store));
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["periods"] == 6);
  io::Store s = io::Store::open(store);
  CHECK(s.results() == std::vector<std::string>{"als"});
  io::h5::Handle g = io::open_result(s, "als");
  CHECK(io::h5::read_attr_string(g, "kind", s.context()) == "temporal_als");
  CHECK(io::h5::read_attr_int(g, "factors", s.context()) == 8);
  for (int p = 0; p < 6; ++p) {
    io::Matrix u = io::read_matrix(g, fmt::format("user_factors/{:04d}", p), s.context());
    CHECK(u.rows == static_cast<std::uint64_t>(s.n_users()));
    CHECK(u.cols == 8);
    CHECK(io::h5::exists(g, fmt::format("item_factors/{:04d}", p)) == (p == 5));
  }
  // The store's own content is untouched.
  CHECK(s.n_events() > 0);
  CHECK(s.n_slices() == 6);
}

TEST_CASE("factorize is deterministic for a seed and thread count", "[cli][factorize]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto read_last = [&](const std::string& name) {
    io::Store s = io::Store::open(store);
    return io::read_matrix(io::open_result(s, name), "item_factors/0005", s.context()).data;
  };
  REQUIRE(run_cli(fmt::format("factorize '{}' --name a --factors 4 --iterations 2 --seed 3 --threads 2", store)).exit_code == 0);
  REQUIRE(run_cli(fmt::format("factorize '{}' --name b --factors 4 --iterations 2 --seed 3 --threads 2", store)).exit_code == 0);
  CHECK(read_last("a") == read_last("b"));
}

TEST_CASE("recommend leaves out the user's items and similar-items leaves out the item", "[cli][factorize]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  REQUIRE(run_cli(fmt::format("factorize '{}' --factors 8 --iterations 3", store)).exit_code == 0);
  io::Store s = io::Store::open(store);
  const auto users = s.users();
  const auto items = s.items();
  const auto e = s.events();
  const graph::Index u = e.user[0];
  std::set<std::string> had;
  for (std::size_t k = 0; k < e.size(); ++k)
    if (e.user[k] == u) had.insert(items[static_cast<std::size_t>(e.item[k])]);

  auto r = run_cli(fmt::format("recommend '{}' --user '{}' --k 15 --json", store, users[static_cast<std::size_t>(u)]));
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  REQUIRE(j["items"].size() == 15);
  double previous = 1e30;
  for (const auto& it : j["items"]) {
    CHECK(had.count(it["item"].get<std::string>()) == 0);
    CHECK(it["score"].get<double>() <= previous);
    previous = it["score"].get<double>();
  }
  auto with_seen = json::parse(run_cli(fmt::format("recommend '{}' --user '{}' --k 200 --include-seen --json", store,
                                                   users[static_cast<std::size_t>(u)])).out);
  CHECK(with_seen["items"].size() == 200);

  auto sim = run_cli(fmt::format("similar-items '{}' --item '{}' --k 5 --json", store, items[0]));
  REQUIRE(sim.exit_code == 0);
  const json similar = json::parse(sim.out);  // not a temporary: the loop borrows from it
  REQUIRE(similar["items"].size() == 5);
  for (const auto& it : similar["items"]) CHECK(it["item"] != items[0]);
}

TEST_CASE("recommend and factorize refuse bad arguments with exit 2", "[cli][factorize]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  CHECK(run_cli(fmt::format("recommend '{}' --user u1", store)).exit_code == 2);  // no result yet
  CHECK(run_cli(fmt::format("factorize '{}' --factors 0", store)).exit_code == 2);
  CHECK(run_cli(fmt::format("factorize '{}' --keep-users last:0", store)).exit_code == 2);
  CHECK(run_cli(fmt::format("factorize '{}' --name 'a/b'", store)).exit_code == 2);
  CHECK(run_cli(fmt::format("factorize '{}' --solver lu", store)).exit_code == 2);
  REQUIRE(run_cli(fmt::format("factorize '{}' --factors 4 --iterations 1", store)).exit_code == 0);
  auto r = run_cli(fmt::format("recommend '{}' --user nobody", store));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no user with id 'nobody'"));
  CHECK(run_cli(fmt::format("recommend '{}' --user u1 --period 0", store)).exit_code == 2);  // item factors only for the last
}
