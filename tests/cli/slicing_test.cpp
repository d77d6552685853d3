// `--slice quantiles:N` through ingest and reslice: N larger than the log still gives every
// distinct event time its own period (issue 16, item 8).
#include <catch2/catch.hpp>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.hpp"

using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;

namespace {
// 10 events, one a day from 2020-09-14, by 3 users on 4 items.
std::string ten_days_log() {
  std::string s = "user,item,time\n";
  for (int d = 0; d < 10; ++d) s += fmt::format("u{},i{},{}\n", d % 3, d % 4, 1600041600 + d * 86400);
  return s;
}

std::size_t slices_of(const std::string& store) {
  auto r = run_cli(fmt::format("info '{}' --json", store));
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out).at("slices").size();
}
}  // namespace

TEST_CASE("ingest and reslice with quantiles:N beyond the event count give one slice per event time",
          "[cli][slicing]") {
  TempDir dir;
  driftrec::test::write_file(dir / "log.csv", ten_days_log());
  const std::string store = (dir / "s.h5").string();
  auto ingest = run_cli(fmt::format("ingest '{}' --slice quantiles:20 -o '{}'", (dir / "log.csv").string(), store));
  INFO(ingest.err);
  REQUIRE(ingest.exit_code == 0);
  CHECK(slices_of(store) == 10);
  for (int groups : {5, 10, 11, 100}) {
    CAPTURE(groups);
    auto r = run_cli(fmt::format("reslice '{}' --slice quantiles:{} --json", store, groups));
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out).at("slices") == std::min(groups, 10));
    CHECK(slices_of(store) == static_cast<std::size_t>(std::min(groups, 10)));
  }
}
