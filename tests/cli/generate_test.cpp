// driftrec generate through the CLI: an --out that already holds its files is refused
// unless --force (issue 16, item 4).
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include <fmt/format.h>

#include "tests/test_util.hpp"

using driftrec::test::dir_entries;
using driftrec::test::read_file;
using driftrec::test::run_cli;
using driftrec::test::TempDir;

namespace {
constexpr const char* kSmall = "--users 30 --items 20 --labels 3 --periods 2";
}

TEST_CASE("generate refuses an out folder holding its files without --force and writes nothing",
          "[cli][generate]") {
  TempDir dir;
  const auto out = dir / "synth";
  REQUIRE(run_cli(fmt::format("generate --out '{}' {} --seed 5", out.string(), kSmall)).exit_code == 0);
  const std::set<std::string> written = dir_entries(out);
  REQUIRE(written == std::set<std::string>{"events.csv", "labels.csv", "truth.csv", "meta.json"});
  const std::string events = read_file(out / "events.csv"), truth = read_file(out / "truth.csv");

  // Another seed would give other files: refused, and the first run's files stay.
  auto again = run_cli(fmt::format("generate --out '{}' {} --seed 6", out.string(), kSmall));
  CHECK(again.exit_code == 2);
  CHECK_THAT(again.err, Catch::Contains("already exists") && Catch::Contains("--force") &&
                            Catch::Contains((out / "").string()));
  CHECK(again.out.empty());
  CHECK(dir_entries(out) == written);
  CHECK(read_file(out / "events.csv") == events);
  CHECK(read_file(out / "truth.csv") == truth);

  // One of the files alone is enough to refuse.
  TempDir only;
  driftrec::test::write_file(only / "truth.csv", "mine\n");
  auto one = run_cli(fmt::format("generate --out '{}' {}", only.path().string(), kSmall));
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Catch::Contains((only / "truth.csv").string()));
  CHECK(dir_entries(only.path()) == std::set<std::string>{"truth.csv"});
  CHECK(read_file(only / "truth.csv") == "mine\n");
}

TEST_CASE("generate --force replaces the files of an earlier run", "[cli][generate]") {
  TempDir dir;
  const auto out = dir / "synth";
  REQUIRE(run_cli(fmt::format("generate --out '{}' {} --seed 5", out.string(), kSmall)).exit_code == 0);
  const std::string first = read_file(out / "events.csv");
  auto forced = run_cli(fmt::format("generate --out '{}' {} --seed 6 --force", out.string(), kSmall));
  INFO(forced.err);
  REQUIRE(forced.exit_code == 0);
  CHECK(read_file(out / "events.csv") != first);
  // The same as a fresh run with that seed.
  REQUIRE(run_cli(fmt::format("generate --out '{}' {} --seed 6", (dir / "fresh").string(), kSmall)).exit_code == 0);
  CHECK(read_file(out / "events.csv") == read_file(dir / "fresh" / "events.csv"));
}
