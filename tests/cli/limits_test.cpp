// Values and sizes the CLI refuses with exit 2 and one line (issue 16, items 9 to 12): times
// in two formats, negative values, results damaged by NaN, and jobs larger than memory.
#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "io/factors_result.hpp"
#include "tests/test_util.hpp"

using driftrec::test::run_cli;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {
constexpr const char* kLog = "--users 40 --items 30 --labels 3 --periods 5 --events-per-period 3 --seed 4";
std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST_CASE("ingest refuses times in two formats with exit 2 naming both lines and the --time-format values",
          "[cli][time_detection]") {
  TempDir dir;
  write_file(dir / "log.csv", "user,item,time\nu1,i1,1546300800000\nu2,i2,1546300900\nu1,i2,1546301000\n");
  auto r = run_cli(fmt::format("ingest '{0}/log.csv' -o '{0}/s.h5'", dir.path().string()));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("log.csv:2 has '1546300800000'") && Catch::Contains("log.csv:3 has '1546300900'") &&
                        Catch::Contains("--time-format millis or --time-format seconds"));
  CHECK(count_lines(r.err) == 1);
  r = run_cli(fmt::format("ingest '{0}/log.csv' -o '{0}/s.h5' --time-format seconds --on-error skip", dir.path().string()));
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("skipped 1 line"));
}

TEST_CASE("ingest refuses a negative value with exit 2 unless --negative drop or clip, whose counts it reports",
          "[cli][values]") {
  TempDir dir;
  write_file(dir / "log.csv", "user,item,time,rating\nu1,i1,1546300800,4\nu2,i2,1546300900,-1\n");
  const std::string base = fmt::format("ingest '{0}/log.csv' -o '{0}/s.h5' --force", dir.path().string());
  auto r = run_cli(base);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("log.csv:3: field 'rating'") && Catch::Contains("--negative drop"));
  r = run_cli(base + " --negative clip --json");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\"clipped\": 1"));
  r = run_cli(base + " --negative drop");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("1 events with a negative value dropped"));
  CHECK(run_cli(base + " --negative zero").exit_code == 2);
}

TEST_CASE("recommend and similar-items refuse NaN in stored factors with exit 2 naming store, result and row",
          "[cli][results_validation]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("factorize '{}' --factors 4", store));
  REQUIRE(r.exit_code == 0);
  {  // damage one item factor of the last period, as an edit of the file would
    const driftrec::io::Store s = driftrec::io::Store::open(store);
    driftrec::io::StoredFactors f = driftrec::io::read_factors(s, "als");
    f.model.item(3, 1) = std::numeric_limits<float>::quiet_NaN();
    driftrec::io::StoreWriter w(store, driftrec::io::StoreWriter::Amend{});
    driftrec::io::FactorsResultWriter out(w, "als");
    out.write_user(f.period, f.model.user);
    out.write_item(f.period, f.model.item);
    driftrec::matrix_factorization::TemporalAlsOptions o;
    o.als.factors = 4;
    out.finish(o, s.slicing(), s.n_slices());
    w.commit();
  }
  for (const std::string& cmd : {"recommend '" + store + "' --user u1", "similar-items '" + store + "' --item i1"}) {
    CAPTURE(cmd);
    r = run_cli(cmd);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(store) && Catch::Contains("result 'als'") &&
                          Catch::Contains("/results/als/item_factors/") && Catch::Contains("row 3, column 1"));
    CHECK(count_lines(r.err) == 1);
  }
}

TEST_CASE("factorize --factors 100000 is refused before allocating, naming the option and the estimate",
          "[cli][memory]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("factorize '{}' --factors 100000 --threads 1", store));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--factors 100000: factorize needs about") && Catch::Contains("GiB of memory") &&
                        Catch::Contains("is available"));
  CHECK(count_lines(r.err) == 1);
  CHECK(run_cli(fmt::format("factorize '{}' --factors 4 --threads 1", store)).exit_code == 0);
}

TEST_CASE("generate --events 1e11 for 10 users is refused before writing, naming --events and the estimate",
          "[cli][memory]") {
  TempDir dir;
  auto r = run_cli(fmt::format("generate --out '{}' --users 10 --events 1e11", (dir / "g").string()));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--events 100000000000") && Catch::Contains("generate needs about") &&
                        Catch::Contains("TiB of memory"));
  CHECK(count_lines(r.err) == 1);
  CHECK(!std::filesystem::exists(dir / "g" / "events.csv"));
  r = run_cli(fmt::format("generate --out '{}' --users 10 --events 1e3", (dir / "g").string()));
  CHECK(r.exit_code == 0);
}
