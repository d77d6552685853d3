// Messages that say what is wrong (issue 16, items 15 and 16): negative indices, an unknown
// subcommand, a compressed, binary or UTF-16 file given as a log, a multi-character
// delimiter, a store without labels, and a failed write to standard output.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "tests/test_util.hpp"

using driftrec::test::run_cli;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {
constexpr const char* kLog = "--users 40 --items 30 --labels 3 --periods 5 --events-per-period 3 --seed 4";
const std::string kCsv = "user,item,time\nu1,i1,1600000000\nu2,i1,1600086400\n";

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }
}  // namespace

TEST_CASE("recommend and similar-items refuse a negative --period naming the option and the range", "[cli][errors]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  REQUIRE(run_cli(fmt::format("factorize '{}' --factors 4", store)).exit_code == 0);
  for (const std::string& cmd : {"recommend '" + store + "' --user u1 --period -5",
                                "similar-items '" + store + "' --item i1 --period -1"}) {
    CAPTURE(cmd);
    auto r = run_cli(cmd);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("--period -") && Catch::Contains("from 0 (the first) to 4") &&
                          Catch::Contains("do not count from the end"));
    CHECK(count_lines(r.err) == 1);
  }
  CHECK(run_cli(fmt::format("recommend '{}' --user u1 --period 4", store)).exit_code == 0);
}

TEST_CASE("info refuses a negative --slice-rows", "[cli][errors]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("info '{}' --slice-rows -1", store));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--slice-rows -1") && Catch::Contains("0 or more"));
  CHECK(run_cli(fmt::format("info '{}' --slice-rows 0", store)).exit_code == 0);
}

TEST_CASE("an unknown subcommand is named and the valid ones listed", "[cli][errors]") {
  auto r = run_cli("bogus-cmd");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown subcommand 'bogus-cmd'") && Catch::Contains("ingest") &&
                        Catch::Contains("similar-items") && Catch::Contains("evaluate"));
  CHECK_THAT(r.err, !Catch::Contains("A subcommand is required"));
  auto after_flag = run_cli("--version bogus-cmd");
  CHECK(after_flag.exit_code == 2);
}

TEST_CASE("ingest names a gzip, UTF-16 or HDF5 file given as the log", "[cli][errors]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  write_file(dir / "log.csv", kCsv);
  REQUIRE(std::system(fmt::format("gzip -c '{0}/log.csv' > '{0}/gz.csv'", dir.path().string()).c_str()) == 0);
  std::string utf16 = "\xff\xfe";
  for (char c : kCsv) utf16 += std::string{c, '\0'};
  write_file(dir / "utf16.csv", utf16);
  const std::pair<std::string, std::string> cases[] = {
      {(dir / "gz.csv").string(), "gzip-compressed"}, {(dir / "utf16.csv").string(), "UTF-16"}, {store, "HDF5 file"}};
  for (const auto& [file, kind] : cases) {
    CAPTURE(file);
    auto r = run_cli(fmt::format("ingest '{}' -o '{}'", file, (dir / "x.h5").string()));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(file + ": is ") && Catch::Contains(kind));
    CHECK_THAT(r.err, !Catch::Contains("cannot tell which columns"));
    // As the labels file too.
    auto l = run_cli(fmt::format("ingest '{}' --labels '{}' -o '{}'", (dir / "log.csv").string(), file,
                                 (dir / "y.h5").string()));
    CHECK(l.exit_code == 2);
    CHECK_THAT(l.err, Catch::Contains(kind));
  }
}

TEST_CASE("ingest refuses a multi-character --delimiter naming the option", "[cli][errors]") {
  TempDir dir;
  write_file(dir / "log.csv", kCsv);
  auto r = run_cli(fmt::format("ingest '{}' --delimiter xyz -o '{}'", (dir / "log.csv").string(), (dir / "s.h5").string()));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--delimiter 'xyz'") && Catch::Contains("one character"));
  CHECK(run_cli(fmt::format("ingest '{}' --delimiter , -o '{}'", (dir / "log.csv").string(), (dir / "s.h5").string()))
            .exit_code == 0);
}

TEST_CASE("evaluate on a store without item labels says to ingest with --labels", "[cli][errors]") {
  TempDir dir;
  REQUIRE(run_cli(fmt::format("generate --out '{}' {}", (dir / "gen").string(), kLog)).exit_code == 0);
  const std::string store = (dir / "bare.h5").string();
  REQUIRE(run_cli(fmt::format("ingest '{}' --slice 2592000s -o '{}'", (dir / "gen" / "events.csv").string(), store))
              .exit_code == 0);
  auto r = run_cli(fmt::format("evaluate '{}' --test-periods 1", store));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no item labels") && Catch::Contains("--labels"));
  CHECK_THAT(r.err, !Catch::Contains("`interests`"));
}

TEST_CASE("a failed write to standard output exits 1 with one line naming the error", "[cli][errors]") {
  TempDir dir;
  const std::string store = driftrec::test::generated_store(dir, kLog);
  const std::string err = (dir / "err").string();
  // Daily slices make info --json longer than stdout's buffer, so it fails while printing;
  // the short forms fail when the buffer is flushed at exit.
  const std::string daily = (dir / "daily.h5").string();
  REQUIRE(std::system(fmt::format("cp '{}' '{}'", store, daily).c_str()) == 0);
  REQUIRE(run_cli(fmt::format("reslice '{}' --slice day", daily)).exit_code == 0);
  REQUIRE(run_cli(fmt::format("info '{}' --json", daily)).out.size() > 16384);  // above glibc's stdout buffer (st_blksize, 4 KiB here)
  for (const std::string& args : {"info '" + store + "' --json", "info '" + store + "'", "info '" + daily + "' --json",
                                  "reslice '" + store + "' --slice week --json"}) {
    CAPTURE(args);
    const int status = std::system(fmt::format("{} {} >/dev/full 2>'{}'", DRIFTREC_CLI_PATH, args, err).c_str());
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 1);
    const std::string message = driftrec::test::read_file(err);
    CHECK(message == "driftrec: error: write error on standard output: No space left on device\n");
  }
}
