// Tests of the driftrec command line, run as a separate process: exit codes (0 success,
// 2 bad usage or input with one clear stderr line), skip reports, refusing to overwrite,
// info/reslice on the bundled MovieLens data, and the atomic-write promise under SIGKILL.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "io/ingest.hpp"
#include "io/store.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::read_file;
using driftrec::test::run_cli;
using driftrec::test::dir_entries;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;
using json = nlohmann::json;

extern char** environ;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

fs::path ml_dir() { return test::source_dir() / "data" / "movielens-latest-small"; }

const std::string kGood = "userId,movieId,rating,timestamp\n1,10,4.0,964982703\n2,10,3.5,964982800\n";

// Independent facts about the bundled data, read with plain string handling.
struct MlFacts {
  std::int64_t events = 0;
  std::set<std::string> users, items;
  std::set<std::int64_t> months, weeks;
  std::int64_t labelled_items = 0;
  std::set<std::string> labels;
};

const MlFacts& ml_facts() {
  static const MlFacts facts = [] {
    MlFacts f;
    std::ifstream in(ml_dir() / "ratings.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::vector<std::string> v;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) v.push_back(x);
      REQUIRE(v.size() == 4);
      ++f.events;
      f.users.insert(v[0]);
      f.items.insert(v[1]);
      const std::time_t t = std::stoll(v[3]);
      std::tm tm{};
      gmtime_r(&t, &tm);
      f.months.insert(tm.tm_year * 12 + tm.tm_mon);
      // Weeks start on Monday; 1970-01-01 was a Thursday.
      const std::int64_t days = static_cast<std::int64_t>(t) / 86400;  // all times are after 1970
      f.weeks.insert((days + 3) / 7);
    }
    std::ifstream movies(ml_dir() / "movies.csv");
    std::getline(movies, line);
    while (std::getline(movies, line)) {
      if (line.empty()) continue;
      const std::string id = line.substr(0, line.find(','));
      const std::string genres = line.substr(line.rfind(',') + 1);
      if (genres == "(no genres listed)" || !f.items.count(id)) continue;
      ++f.labelled_items;
      std::stringstream ss(genres);
      for (std::string g; std::getline(ss, g, '|');) f.labels.insert(g);
    }
    return f;
  }();
  return facts;
}

json info_json(const fs::path& store) {
  auto r = run_cli("info " + q(store) + " --json");
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

std::int64_t slice_event_sum(const json& info) {
  std::int64_t n = 0;
  for (const auto& s : info.at("slices")) n += s.at("events").get<std::int64_t>();
  return n;
}

}  // namespace

TEST_CASE("cli: ingest of a bad file exits 2 with one stderr line naming file and line and field",
          "[cli]") {
  TempDir in, out;
  write_file(in / "bad.csv", kGood + "3,11,abc,964982900\n");
  auto r = run_cli("ingest " + q(in / "bad.csv") + " -o " + q(out / "store.h5"));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::StartsWith("driftrec: error: ") && Catch::Contains("bad.csv:4") &&
                        Catch::Contains("'rating'") && Catch::Contains("'abc'"));
  CHECK(r.out.empty());
  CHECK(dir_entries(out.path()).empty());  // no store, no temporary
}

TEST_CASE("cli: ingest exits 2 with one line for a non-UTF-8 id and for a bad time", "[cli]") {
  TempDir in, out;
  write_file(in / "u.csv", kGood + "\xC3(,11,4,964982900\n");
  auto r = run_cli("ingest " + q(in / "u.csv") + " -o " + q(out / "s.h5"));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("u.csv:4") && Catch::Contains("'userId'") && Catch::Contains("UTF-8"));
  write_file(in / "t.csv", kGood + "3,11,4,soon\n");
  r = run_cli("ingest " + q(in / "t.csv") + " -o " + q(out / "s.h5"));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("t.csv:4") && Catch::Contains("'timestamp'") && Catch::Contains("'soon'"));
  CHECK(dir_entries(out.path()).empty());
}

TEST_CASE("cli: ingest --on-error skip exits 0 and prints the skip summary on stderr", "[cli]") {
  TempDir in, out;
  write_file(in / "bad.csv", kGood + "3,11,abc,964982900\n4,12,5\n5,13,nan,964983000\n");
  auto r = run_cli("ingest " + q(in / "bad.csv") + " -o " + q(out / "store.h5") + " --on-error skip");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("driftrec: warning: events: skipped 3 lines") &&
                        Catch::Contains("2 x bad value in column 'rating' (first at " + (in / "bad.csv").string() + ":4)") &&
                        Catch::Contains("1 x missing fields (first at " + (in / "bad.csv").string() + ":5)"));
  CHECK_THAT(r.out, Catch::Contains("ingested 2 events"));
  CHECK(io::Store::open((out / "store.h5").string()).n_events() == 2);
}

TEST_CASE("cli: ingest --json prints a report that parses", "[cli]") {
  TempDir in, out;
  write_file(in / "ok.csv", kGood);
  auto r = run_cli("ingest " + q(in / "ok.csv") + " -o " + q(out / "s.h5") + " --json --slice day");
  REQUIRE(r.exit_code == 0);
  auto j = json::parse(r.out);
  CHECK(j.at("events") == 2);
  CHECK(j.at("users") == 2);
  CHECK(j.at("items") == 1);
  CHECK(j.at("slicing") == "day");
}

TEST_CASE("cli: ingest onto an existing store without --force exits 2 and leaves it intact",
          "[cli]") {
  TempDir in, out;
  write_file(in / "a.csv", kGood);
  write_file(in / "b.csv", kGood + "3,11,1,964983000\n");
  const fs::path store = out / "store.h5";
  REQUIRE(run_cli("ingest " + q(in / "a.csv") + " -o " + q(store)).exit_code == 0);
  const std::string before = read_file(store);
  auto r = run_cli("ingest " + q(in / "b.csv") + " -o " + q(store));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("store.h5") && Catch::Contains("already exists") && Catch::Contains("--force"));
  CHECK(read_file(store) == before);
  CHECK(dir_entries(out.path()) == std::set<std::string>{"store.h5"});
  r = run_cli("ingest " + q(in / "b.csv") + " -o " + q(store) + " --force");
  CHECK(r.exit_code == 0);
  CHECK(io::Store::open(store.string()).n_events() == 3);
}

TEST_CASE("cli: info --json on the bundled MovieLens data gives the expected counts", "[cli]") {
  TempDir out;
  const fs::path store = out / "ml.h5";
  auto r = run_cli("ingest " + q(ml_dir() / "ratings.csv") + " --labels " + q(ml_dir() / "movies.csv") +
                   " -o " + q(store));
  REQUIRE(r.exit_code == 0);
  const json j = info_json(store);
  const MlFacts& f = ml_facts();
  CHECK(j.at("users") == 610);
  CHECK(j.at("items") == 9724);
  CHECK(j.at("events") == 100836);
  CHECK(j.at("labels") == 19);  // 20 genre strings, less "(no genres listed)"
  // The same facts, read independently from the CSV files.
  CHECK(f.users.size() == 610);
  CHECK(f.items.size() == 9724);
  CHECK(f.events == 100836);
  CHECK(f.labels.size() == 19);
  CHECK(j.at("labelled_items") == f.labelled_items);
  CHECK(j.at("slicing") == "month");
  CHECK(j.at("aggregate") == "sum");
  CHECK(j.at("slices").size() == f.months.size());
  CHECK(slice_event_sum(j) == 100836);
  CHECK(j.at("time_span").at("first_utc") == "1996-03-29T18:36:55Z");
}

TEST_CASE("cli: reslice rewrites the slices and info shows the new slicing", "[cli]") {
  TempDir out;
  const fs::path store = out / "ml.h5";
  REQUIRE(run_cli("ingest " + q(ml_dir() / "ratings.csv") + " -o " + q(store)).exit_code == 0);
  const MlFacts& f = ml_facts();

  auto r = run_cli("reslice " + q(store) + " --slice week");
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(std::to_string(f.weeks.size()) + " non-empty 'week' slices"));
  json j = info_json(store);
  CHECK(j.at("slicing") == "week");
  CHECK(j.at("slices").size() == f.weeks.size());
  CHECK(slice_event_sum(j) == 100836);
  CHECK(j.at("events") == 100836);
  CHECK(dir_entries(out.path()) == std::set<std::string>{"ml.h5"});
}

TEST_CASE("cli: reslice to quantiles with count aggregation shows in info --json", "[cli]") {
  TempDir out;
  const fs::path store = out / "ml.h5";
  REQUIRE(run_cli("ingest " + q(ml_dir() / "ratings.csv") + " -o " + q(store)).exit_code == 0);
  auto r = run_cli("reslice " + q(store) + " --slice quantiles:4 --aggregate count --json");
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out).at("slices") == 4);
  const json j = info_json(store);
  CHECK(j.at("slicing") == "quantiles:4");
  CHECK(j.at("aggregate") == "count");
  CHECK(j.at("slices").size() == 4);
  CHECK(dir_entries(out.path()) == std::set<std::string>{"ml.h5"});
}

TEST_CASE("cli: bad usage exits 2 and --help exits 0", "[cli]") {
  TempDir dir;
  write_file(dir / "ok.csv", kGood);
  write_file(dir / "text.h5", "not a store\n");
  CHECK(run_cli("frobnicate").exit_code == 2);
  CHECK(run_cli("").exit_code == 2);
  CHECK(run_cli("ingest").exit_code == 2);
  CHECK(run_cli("ingest " + q(dir / "ok.csv")).exit_code == 2);  // no -o
  CHECK(run_cli("ingest " + q(dir / "missing.csv") + " -o " + q(dir / "s.h5")).exit_code == 2);
  CHECK(run_cli("ingest " + q(dir / "ok.csv") + " -o " + q(dir / "s.h5") + " --slice fortnight").exit_code == 2);
  CHECK(run_cli("ingest " + q(dir / "ok.csv") + " -o " + q(dir / "s.h5") + " --on-error ignore").exit_code == 2);
  CHECK(run_cli("ingest " + q(dir / "ok.csv") + " -o " + q(dir / "s.h5") + " --time-format epoch").exit_code == 2);
  CHECK(run_cli("ingest " + q(dir / "ok.csv") + " -o " + q(dir / "nodir" / "s.h5")).exit_code == 2);
  CHECK(run_cli("info").exit_code == 2);
  CHECK(run_cli("reslice " + q(dir / "text.h5")).exit_code == 2);  // no --slice
  CHECK_FALSE(fs::exists(dir / "s.h5"));

  auto r = run_cli("info " + q(dir / "text.h5"));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);
  CHECK_THAT(r.err, Catch::Contains("text.h5") && Catch::Contains("not an HDF5 file"));
  r = run_cli("info " + q(dir / "missing.h5"));
  CHECK(r.exit_code == 2);
  CHECK(count_lines(r.err) == 1);

  r = run_cli("--help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("ingest") && Catch::Contains("reslice") && Catch::Contains("info"));
  r = run_cli("ingest --help");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("--on-error") && Catch::Contains("--force"));
  CHECK(run_cli("--version").exit_code == 0);
}

namespace {

// Writes `lines` events of a synthetic log (about 33 bytes a line).
void write_big_log(const fs::path& p, std::int64_t lines) {
  std::ofstream f(p, std::ios::binary);
  std::string buf;
  buf.reserve(1 << 22);
  buf += "user,item,rating,time\n";
  char num[24];
  for (std::int64_t k = 0; k < lines; ++k) {
    buf += 'u';
    buf.append(num, std::to_chars(num, num + sizeof num, (k * 7919) % 20000).ptr);
    buf += ",i";
    buf.append(num, std::to_chars(num, num + sizeof num, (k * 104729) % 60000).ptr);
    buf += ",3.5,";
    buf.append(num, std::to_chars(num, num + sizeof num, 1500000000 + k).ptr);
    buf += '\n';
    if (buf.size() > (1u << 22) - 100) {
      f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
  REQUIRE(f.good());
}

pid_t spawn_cli(const std::vector<std::string>& args) {
  std::vector<std::string> all{DRIFTREC_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return pid;
}

// Starts `driftrec ingest big -o target --force`, waits until it is writing, and SIGKILLs it
// about 0.3 s later, while it is surely still running: if it ends sooner, the target is put
// back as it was (`before`, or absent) and the input doubled. Returns the killed process id.
pid_t ingest_and_kill(const fs::path& input_dir, const fs::path& target, const std::string* before) {
  std::int64_t lines = 3'000'000;  // about 100 MB
  for (int attempt = 0; attempt < 3; ++attempt, lines *= 2) {
    write_big_log(input_dir / "big.csv", lines);
    const pid_t pid = spawn_cli({"ingest", (input_dir / "big.csv").string(), "-o", target.string(),
                                 "--force", "--slice", "day"});
    const fs::path temp =
        target.parent_path() / ("." + target.filename().string() + ".tmp-" + std::to_string(pid));
    // The writer creates its temporary file before reading: then ingest is under way.
    const auto t0 = std::chrono::steady_clock::now();
    while (!fs::exists(temp) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      CHECK(fs::exists(temp));
      REQUIRE(kill(pid, SIGKILL) == 0);
      REQUIRE(waitpid(pid, &status, 0) == pid);
      REQUIRE(WIFSIGNALED(status));
      REQUIRE(WTERMSIG(status) == SIGKILL);
      return pid;
    }
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    UNSCOPED_INFO("ingest of " << lines << " lines ended before the kill; doubling the input");
    if (before)
      write_file(target, *before);
    else
      fs::remove(target);
  }
  FAIL("ingest always finished within 0.3 s");
  return -1;
}

}  // namespace

TEST_CASE("cli: a SIGKILLed ingest leaves the previous store byte-identical", "[cli][kill]") {
  TempDir in, out;
  const fs::path store = out / "store.h5";
  write_file(in / "small.csv", kGood);
  io::IngestOptions o;
  o.event_files = {(in / "small.csv").string()};
  o.slicing = graph::Slicing::parse("month");
  o.output = store.string();
  io::ingest(o);
  const std::string before = read_file(store);
  REQUIRE(before.size() > 0);

  const pid_t pid = ingest_and_kill(in.path(), store, &before);

  CHECK(read_file(store) == before);
  io::Store s = io::Store::open(store.string());
  CHECK(s.n_events() == 2);
  CHECK(s.events().time == std::vector<graph::Time>{964982703, 964982800});
  for (const auto& name : dir_entries(out.path())) {
    INFO(name);
    // SIGKILL cannot be caught: the temporary and lock files stay until the next writer.
    CHECK((name == "store.h5" || name == ".store.h5.tmp-" + std::to_string(pid) || name == ".store.h5.lock"));
  }
}

TEST_CASE("cli: a SIGKILLed ingest with no previous store leaves no store", "[cli][kill]") {
  TempDir in, out;
  const fs::path store = out / "store.h5";
  const pid_t pid = ingest_and_kill(in.path(), store, nullptr);
  CHECK_FALSE(fs::exists(store));
  for (const auto& name : dir_entries(out.path())) {
    INFO(name);
    CHECK((name == ".store.h5.tmp-" + std::to_string(pid) || name == ".store.h5.lock"));
  }
}

TEST_CASE("ingest on a full disk exits 1 with one line naming the store and leaves neither a store nor a temporary file", "[cli]") {
  // ulimit -f makes writes past a few hundred KB fail as on a full disk (SIGXFSZ ignored).
  TempDir dir;
  const fs::path data = driftrec::test::source_dir() / "data" / "movielens-latest-small";
  const std::string cmd = fmt::format(
      "/bin/sh -c \"trap '' XFSZ; ulimit -f 400; exec '{}' ingest '{}' --labels '{}' -o '{}'\" "
      ">/dev/null 2>'{}'",
      DRIFTREC_CLI_PATH, (data / "ratings.csv").string(), (data / "movies.csv").string(),
      (dir / "store.h5").string(), (dir / "err").string());
  int status = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  // One line naming the store, without HDF5's record of the failed call.
  CHECK(read_file(dir / "err") == fmt::format("driftrec: error: {}: no space left on device (the file size limit "
                                              "was reached); the store is unchanged\n",
                                              (dir / "store.h5").string()));
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"err"});
}
