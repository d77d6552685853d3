// How the CLI's writing jobs treat the store and the paths around it (issue 16 items 1, 2,
// 3, 5, 6, 13): concurrent writers keep every result, special files and symbolic links at
// the output path, an output that is its own input, the store's mode, read-only stores,
// SIGTERM/SIGINT in the middle of a write, and a full disk. Each runs real driftrec
// processes (fork + exec), racing where the behaviour is about racing.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "io/store.hpp"
#include "io/write_guard.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::dir_entries;
using driftrec::test::read_file;
using driftrec::test::run_cli;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;

namespace {

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// A small generated store whose label propagation takes a noticeable time (to race on).
std::string small_store(const TempDir& dir) {
  return test::generated_store(dir, "--users 3000 --items 1500 --periods 12 --seed 7");
}

struct Child {
  pid_t pid = -1;
  fs::path err;
};

// Runs `driftrec args...` with stdout to /dev/null and stderr to `err`; in the child,
// SIGINT/SIGTERM take their default action (the test runner may ignore them) and, if
// `file_limit` > 0, RLIMIT_FSIZE is set to it with SIGXFSZ ignored, so that writing past it
// fails with EFBIG as writes to a full disk fail with ENOSPC.
Child start(const std::vector<std::string>& args, const fs::path& err, rlim_t file_limit = 0) {
  std::vector<std::string> all{DRIFTREC_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string err_path = err.string();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    if (file_limit > 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      struct rlimit r{file_limit, file_limit};
      ::setrlimit(RLIMIT_FSIZE, &r);
    }
    const int out = ::open("/dev/null", O_WRONLY);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, 1);
    ::dup2(e, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return {pid, err};
}

int wait_exit(const Child& c) {
  int status = 0;
  REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

std::set<std::string> results_of(const std::string& store) {
  const auto r = io::Store::open(store).results();
  return {r.begin(), r.end()};
}

// Entries of the store's folder other than the store, the generator's folder and the
// stderr captures: temporary and lock files.
std::set<std::string> leftovers(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& name : dir_entries(dir))
    if (name != "s.h5" && name != "gen" && !name.ends_with(".err")) out.insert(name);
  return out;
}

fs::path temp_of(const fs::path& store, pid_t pid) {
  return store.parent_path() / fmt::format(".{}.tmp-{}", store.filename().string(), pid);
}

}  // namespace

TEST_CASE("two propagate runs started together on one store keep both results", "[cli][store-writes]") {
  TempDir dir;
  const std::string store = small_store(dir);
  // The test holds the store's writer lock until both runs have said they wait for it, so
  // they overlap however fast they are (two unguarded runs could finish one after the other).
  std::optional<io::WriteGuard> held;
  held.emplace(store, store, (dir / "never-written.tmp").string());
  const Child a = start({"propagate", store, "--name", "A"}, dir / "a.err");
  const Child b = start({"propagate", store, "--name", "B"}, dir / "b.err");
  const std::string waiting = fmt::format("waiting for process {}", ::getpid());
  for (int i = 0; i < 600 && (read_file(a.err).find(waiting) == std::string::npos ||
                              read_file(b.err).find(waiting) == std::string::npos); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const std::string ea = read_file(a.err), eb = read_file(b.err);
  INFO("a: " << ea << "\nb: " << eb);
  CHECK(ea.find(waiting) != std::string::npos);
  CHECK(eb.find(waiting) != std::string::npos);
  held.reset();  // both go on, one after the other
  CHECK(wait_exit(a) == 0);
  CHECK(wait_exit(b) == 0);
  CHECK(results_of(store) == std::set<std::string>{"A", "B"});
  CHECK(leftovers(dir.path()).empty());
}

TEST_CASE("factorize beside propagate on one store keeps both results", "[cli][store-writes]") {
  TempDir dir;
  const std::string store = small_store(dir);
  const Child a = start({"factorize", store, "--factors", "8", "--iterations", "3"}, dir / "a.err");
  const Child b = start({"propagate", store, "--name", "P"}, dir / "b.err");
  CHECK(wait_exit(a) == 0);
  CHECK(wait_exit(b) == 0);
  INFO(read_file(a.err) << read_file(b.err));
  CHECK(results_of(store) == std::set<std::string>{"P", "als"});
  CHECK(leftovers(dir.path()).empty());
}

TEST_CASE("ingest --force refuses a FIFO at the output path and leaves it a FIFO", "[cli][store-writes]") {
  TempDir dir;
  write_file(dir / "e.csv", "user,item,time\nu1,i1,1500000000\nu2,i1,1500000100\n");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0644) == 0);
  const auto r = run_cli("ingest " + q(dir / "e.csv") + " -o " + q(dir / "fifo") + " --force");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("not a regular file (a FIFO)"));
  struct stat st {};
  REQUIRE(::lstat((dir / "fifo").c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"e.csv", "fifo"});
}

TEST_CASE("writing through a symbolic link replaces the link's target and keeps the link", "[cli][store-writes]") {
  TempDir dir;
  const std::string store = small_store(dir);
  fs::create_directory(dir / "links");
  fs::create_symlink(store, dir / "links" / "s.h5");
  SECTION("propagate") {
    const auto r = run_cli("propagate " + q(dir / "links" / "s.h5") + " --name L");
    REQUIRE(r.exit_code == 0);
    CHECK(results_of(store) == std::set<std::string>{"L"});
  }
  SECTION("ingest --force") {
    write_file(dir / "e.csv", "user,item,time\nu1,i1,1500000000\nu2,i1,1500000100\n");
    const auto r = run_cli("ingest " + q(dir / "e.csv") + " -o " + q(dir / "links" / "s.h5") + " --force");
    REQUIRE(r.exit_code == 0);
    CHECK(io::Store::open(store).n_events() == 2);
  }
  CHECK(fs::is_symlink(dir / "links" / "s.h5"));
  CHECK(fs::read_symlink(dir / "links" / "s.h5") == fs::path(store));
  CHECK(dir_entries(dir / "links") == std::set<std::string>{"s.h5"});
  for (const auto& name : leftovers(dir.path())) {
    INFO(name);
    CHECK((name == "e.csv" || name == "links"));
  }
}

TEST_CASE("ingest refuses an output that is one of its inputs", "[cli][store-writes]") {
  TempDir dir;
  const std::string events = "user,item,time\nu1,i1,1500000000\nu2,i1,1500000100\n";
  const std::string labels = "item,label\ni1,a\n";
  write_file(dir / "e.csv", events);
  write_file(dir / "l.csv", labels);
  fs::create_hard_link(dir / "e.csv", dir / "e-too.csv");
  for (const char* out : {"e.csv", "e-too.csv", "l.csv"}) {
    INFO(out);
    const auto r =
        run_cli("ingest " + q(dir / "e.csv") + " --labels " + q(dir / "l.csv") + " -o " + q(dir / out) + " --force");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("is the input file"));
    CHECK(read_file(dir / "e.csv") == events);
    CHECK(read_file(dir / "l.csv") == labels);
  }
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"e.csv", "e-too.csv", "l.csv"});
}

TEST_CASE("rewriting a store keeps its mode (0600 stays 0600, 0640 stays 0640)", "[cli][store-writes]") {
  TempDir dir;
  const std::string store = small_store(dir);
  for (const fs::perms mode : {fs::perms(0600), fs::perms(0640)}) {
    fs::permissions(store, mode);
    CHECK(run_cli("propagate " + q(store) + " --name A").exit_code == 0);
    CHECK(fs::status(store).permissions() == mode);
    CHECK(run_cli("reslice " + q(store) + " --slice 5184000s").exit_code == 0);
    CHECK(fs::status(store).permissions() == mode);
    CHECK(run_cli("ingest " + q(dir / "gen" / "events.csv") + " --labels " + q(dir / "gen" / "labels.csv") +
                  " --slice 2592000s -o " + q(store) + " --force")
              .exit_code == 0);
    CHECK(fs::status(store).permissions() == mode);
  }
  struct stat st {};
  REQUIRE(::stat(store.c_str(), &st) == 0);
  CHECK(st.st_uid == ::geteuid());
}

TEST_CASE("a read-only (0444) store is not rewritten: exit 2, a plain message, store unchanged",
          "[cli][store-writes]") {
  // As root access() calls everything writable; the mode bits decide, for root and others.
  TempDir dir;
  const std::string store = small_store(dir);
  fs::permissions(store, fs::perms(0444));
  const std::string before = read_file(store);
  for (const std::string& job : {"propagate " + q(store) + " --name A", "factorize " + q(store) + " --factors 4",
                                 "reslice " + q(store) + " --slice 5184000s"}) {
    INFO(job);
    const auto r = run_cli(job);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("read-only (mode 0444"));
    CHECK_THAT(r.err, !Catch::Contains("internal error"));
    CHECK(read_file(store) == before);
    CHECK(fs::status(store).permissions() == fs::perms(0444));
    CHECK(leftovers(dir.path()).empty());
  }
  fs::permissions(store, fs::perms(0644));
}

TEST_CASE("SIGTERM or SIGINT in the middle of a write leaves the store and no temporary file",
          "[cli][store-writes][kill]") {
  TempDir dir;
  const std::string store = small_store(dir);
  const std::string before = read_file(store);
  for (const int sig : {SIGTERM, SIGINT}) {
    INFO("signal " << sig);
    bool killed = false;
    // Factorize with many iterations runs for seconds once its temporary file exists.
    for (int attempt = 0; attempt < 3 && !killed; ++attempt) {
      const Child c = start({"factorize", store, "--factors", "32", "--iterations", "60"}, dir / "k.err");
      const fs::path temp = temp_of(store, c.pid);
      const auto t0 = std::chrono::steady_clock::now();
      while (!fs::exists(temp) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20))
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      int status = 0;
      if (::waitpid(c.pid, &status, WNOHANG) != 0) {  // finished first: put the store back
        fs::remove(store);
        write_file(store, before);
        continue;
      }
      REQUIRE(::kill(c.pid, sig) == 0);
      REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
      REQUIRE(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == sig);
      CHECK_THAT(read_file(c.err), Catch::Contains(fmt::format("interrupted; {} is unchanged", store)));
      killed = true;
    }
    REQUIRE(killed);
    CHECK(read_file(store) == before);
    CHECK(leftovers(dir.path()).empty());
  }
}

TEST_CASE("a full disk during propagate: one line naming the store, exit 1, store unchanged, no temporary file",
          "[cli][store-writes]") {
  TempDir dir;
  const std::string store = small_store(dir);
  const std::string before = read_file(store);
  // Room for a copy of the store but not for the result as well.
  // --quiet: the comparison is of the whole of stderr, and a slow run (a sanitizer build) draws progress.
  const Child c = start({"propagate", store, "--name", "A", "--quiet"}, dir / "p.err", before.size() + 4096);
  CHECK(wait_exit(c) == 1);
  const std::string err = read_file(c.err);
  CHECK(err == fmt::format("driftrec: error: {}: no space left on device (the file size limit was reached); the "
                           "store is unchanged\n",
                           store));
  CHECK(read_file(store) == before);
  CHECK(leftovers(dir.path()).empty());
}

TEST_CASE("generate --force refuses a FIFO or a symbolic link among its output files", "[cli][store-writes]") {
  TempDir dir;
  fs::create_directory(dir / "out");
  write_file(dir / "elsewhere.csv", "keep me\n");
  SECTION("FIFO") { REQUIRE(::mkfifo((dir / "out" / "events.csv").c_str(), 0644) == 0); }
  SECTION("link") { fs::create_symlink(dir / "elsewhere.csv", dir / "out" / "events.csv"); }
  const auto r = run_cli("generate --out " + q(dir / "out") + " --users 20 --items 10 --labels 4 --force");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("events.csv"));
  struct stat st {};
  REQUIRE(::lstat((dir / "out" / "events.csv").c_str(), &st) == 0);
  CHECK_FALSE(S_ISREG(st.st_mode));
  CHECK(read_file(dir / "elsewhere.csv") == "keep me\n");
  CHECK(dir_entries(dir / "out") == std::set<std::string>{"events.csv"});
}

TEST_CASE("reslice started during a propagate waits for it, then drops the result it invalidates",
          "[cli][store-writes]") {
  // Without the lock reslice read the store while propagate ran, and propagate's rename then
  // put back the old slices: the reslice was lost although both reported success.
  TempDir dir;
  const std::string store = small_store(dir);
  const Child p = start({"propagate", store, "--name", "P"}, dir / "p.err");
  const auto t0 = std::chrono::steady_clock::now();
  while (!fs::exists(temp_of(store, p.pid)) && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const auto r = run_cli("reslice " + q(store) + " --slice 5184000s");
  CHECK(wait_exit(p) == 0);
  REQUIRE(r.exit_code == 0);
  io::Store s = io::Store::open(store);
  CHECK(s.slicing() == "5184000s");
  // Whether it waited or propagate had ended: propagate's result was in the store it
  // resliced, and is reported dropped.
  INFO(r.err);
  CHECK_THAT(r.out, Catch::Contains("dropped result 'P'"));
  CHECK(s.results().empty());
  CHECK(leftovers(dir.path()).empty());
}
