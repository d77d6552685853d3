// Allocation-failure injection in the spirit of LAGraph's "brutal" tests: an ingest of a
// MovieLens subset (every 1000th rating of data/movielens-latest-small and the movies
// rated) onto an existing store, and a label propagation on a store, are each run once
// counting their C++ allocations (n), then once for every k = 1..n with the k-th
// allocation and all later ones failing (alloc_countdown.hpp). Every run is a forked child
// (the parent never runs driftrec code, so each run starts from the same clean state and
// a crash is reported, not suffered). Each run must end in a driftrec::Error with a
// one-line message or in std::bad_alloc (which the CLI prints as one line, exit 1), or,
// when the failed allocation was a nothrow one with a fallback, succeed with the same
// result as without failures; the target store must be byte-for-byte as before a failed
// run, and no temporary file may remain beside it; under AddressSanitizer, nothing a
// failed run allocated may leak. One thread everywhere, so that the allocation sequence
// repeats from run to run.
// HDF5's own malloc calls are not failed (only operator new is replaced); the failures
// that reach HDF5 are the ones of our code around it.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define DRIFTREC_BRUTAL_ASAN 1
#include <sanitizer/lsan_interface.h>
#endif
#include "io/ingest.hpp"
#include "io/label_result.hpp"
#include "pipeline/propagate.hpp"
#include "tests/fault/alloc_countdown.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
namespace fs = std::filesystem;

namespace {

enum class Kind { ok, error, bad_alloc, other_exception, crashed };

struct Outcome {
  Kind kind = Kind::crashed;
  bool triggered = false;
  std::int64_t count = 0;
  char message[1024] = {};
};

// Runs op in a forked child with the countdown armed at k (0: count only).
Outcome run_child(std::int64_t k, const std::function<void()>& op) {
  int fd[2];
  REQUIRE(::pipe(fd) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fd[0]);
    Outcome o;
    if (k > 0)
      test::alloc::arm(k);
    else
      test::alloc::start_counting();
    try {
      op();
      test::alloc::disarm();
      o.kind = Kind::ok;
    } catch (const Error& e) {
      test::alloc::disarm();
      o.kind = Kind::error;
      std::strncpy(o.message, e.what(), sizeof o.message - 1);
    } catch (const std::bad_alloc&) {
      test::alloc::disarm();
      o.kind = Kind::bad_alloc;
    } catch (const std::exception& e) {
      test::alloc::disarm();
      o.kind = Kind::other_exception;
      std::strncpy(o.message, e.what(), sizeof o.message - 1);
    }
    o.triggered = test::alloc::triggered();
    o.count = test::alloc::count();
#ifdef DRIFTREC_BRUTAL_ASAN
    // _exit skips LeakSanitizer's exit check; what a failed run left allocated is found here.
    if (__lsan_do_recoverable_leak_check()) ::_exit(4);
#endif
    const ssize_t w = ::write(fd[1], &o, sizeof o);
    ::_exit(w == static_cast<ssize_t>(sizeof o) ? 0 : 3);  // no exit handlers: HDF5's would run twice
  }
  ::close(fd[1]);
  Outcome o;
  std::size_t got = 0;
  while (got < sizeof o) {
    const ssize_t r = ::read(fd[0], reinterpret_cast<char*>(&o) + got, sizeof o - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  ::close(fd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof o || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    o = Outcome{};
    o.kind = Kind::crashed;
    std::snprintf(o.message, sizeof o.message, "child %s %d (exit 3: no outcome written, 4: a leak)",
                  WIFSIGNALED(status) ? "killed by signal" : "exited with", WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
  return o;
}

std::string bytes_of(const fs::path& p) { return test::read_file(p); }

// The subset: the header and every 1000th rating; the movies rated, with their titles.
void write_subset(const fs::path& dir) {
  const fs::path src = test::source_dir() / "data" / "movielens-latest-small";
  std::ifstream ratings(src / "ratings.csv");
  std::string line, events;
  std::set<std::string> movies;
  for (long n = 0; std::getline(ratings, line); ++n)
    if (n == 0 || n % 1000 == 0) {
      events += line + "\n";
      if (n) movies.insert(line.substr(line.find(',') + 1, line.find(',', line.find(',') + 1) - line.find(',') - 1));
    }
  std::ifstream all_movies(src / "movies.csv");
  std::string labels;
  for (long n = 0; std::getline(all_movies, line); ++n)
    if (n == 0 || movies.count(line.substr(0, line.find(',')))) labels += line + "\n";
  test::write_file(dir / "ratings.csv", events);
  test::write_file(dir / "movies.csv", labels);
}

// Writes the subset into `dir` and returns the path of the store, in a folder of its own
// (so that a temporary file left beside it is seen).
fs::path prepare(const test::TempDir& dir) {
  write_subset(dir.path());
  const fs::path store = dir / "out" / "store.h5";
  fs::create_directories(store.parent_path());
  return store;
}

io::IngestOptions ingest_options(const fs::path& dir, const fs::path& output, const char* slicing) {
  io::IngestOptions o;
  o.event_files = {(dir / "ratings.csv").string()};
  o.labels_file = (dir / "movies.csv").string();
  o.slicing = graph::Slicing::parse(slicing);
  o.output = output.string();
  o.overwrite = true;
  o.threads = 1;
  return o;
}

pipeline::PropagateRequest propagate_request(const fs::path& store) {
  pipeline::PropagateRequest r;
  r.store = store.string();
  r.name = "lp";
  r.method = "label";
  r.threads = 1;
  r.label.propagation.threads = 1;
  return r;
}

struct Tally {
  std::int64_t runs = 0, errors = 0, bad_allocs = 0, recovered = 0;
  std::map<std::string, int> messages;  // distinct driftrec::Error messages
};

// The k of the injected runs: every one from 1 to n. Under AddressSanitizer (about ten
// times slower per run) every stride-th one, the stride chosen for about 300 runs per
// test; DRIFTREC_BRUTAL_STRIDE sets it (1: exhaustive).
std::int64_t stride(std::int64_t n) {
  if (const char* s = std::getenv("DRIFTREC_BRUTAL_STRIDE")) return std::max<std::int64_t>(1, std::atoll(s));
#ifdef DRIFTREC_BRUTAL_ASAN
  return std::max<std::int64_t>(1, n / 300);
#else
  (void)n;
  return 1;
#endif
}

// Runs op for every k in 1..n against `store` (whose bytes must survive each failure);
// `check_success` verifies a run that succeeded although an allocation failed.
Tally inject_all(std::int64_t n, const fs::path& store, const std::function<void()>& op,
                 const std::function<void()>& check_success) {
  const std::string original = bytes_of(store);
  const std::set<std::string> entries = test::dir_entries(store.parent_path());
  Tally t;
  const std::int64_t step = stride(n);
  for (std::int64_t k = 1; k <= n; k += step) {
    const Outcome o = run_child(k, op);
    ++t.runs;
    const int kind = static_cast<int>(o.kind);  // ok, error, bad_alloc, other_exception, crashed
    CAPTURE(n, k, kind, o.message);
    REQUIRE(o.kind != Kind::crashed);
    REQUIRE(o.kind != Kind::other_exception);
    if (o.kind == Kind::ok) {
      // Only a nothrow allocation with a fallback (a sort's temporary buffer, say) may fail
      // without failing the run, and then the result must be the one without failures.
      check_success();
      ++t.recovered;
      test::write_file(store, original);
    } else {
      REQUIRE(o.triggered);
      if (o.kind == Kind::error) {
        ++t.errors;
        REQUIRE(std::strlen(o.message) > 0);
        REQUIRE(std::strchr(o.message, '\n') == nullptr);
        ++t.messages[o.message];
      } else {
        ++t.bad_allocs;
      }
      const bool unchanged = bytes_of(store) == original;
      REQUIRE(unchanged);
    }
    REQUIRE(test::dir_entries(store.parent_path()) == entries);
  }
  return t;
}

// Prints what the runs ended in, and checks that every k was run.
void report(const char* what, std::int64_t n, const Tally& t) {
  CHECK(t.runs == (n + stride(n) - 1) / stride(n));
  std::ostringstream s;
  s << what << ": " << n << " allocations, " << t.runs << " injected runs (every " << stride(n) << "): " << t.bad_allocs
    << " std::bad_alloc, " << t.errors << " driftrec::Error, " << t.recovered << " recovered";
  for (const auto& [m, c] : t.messages) s << "\n  " << c << " x " << m;
  WARN(s.str());
}

}  // namespace

TEST_CASE("every failed allocation of an ingest ends in a clear error and leaves the store as it was",
          "[brutal][ingest]") {
  test::TempDir dir;
  const fs::path store = prepare(dir);
  const auto ingest = [&] { io::ingest(ingest_options(dir.path(), store, "year")); };
  const Outcome counted = run_child(0, ingest);
  CAPTURE(counted.message);
  REQUIRE(counted.kind == Kind::ok);
  REQUIRE(counted.count > 0);
  const io::Store baseline = io::Store::open(store.string());
  const auto users = baseline.n_users(), items = baseline.n_items();
  const auto events = baseline.n_events();
  const auto slices = baseline.n_slices();
  const auto check = [&] {
    const io::Store s = io::Store::open(store.string());
    CHECK(s.n_users() == users);
    CHECK(s.n_items() == items);
    CHECK(s.n_events() == events);
    CHECK(s.n_slices() == slices);
  };
  const Tally t = inject_all(counted.count, store, ingest, check);
  report("ingest", counted.count, t);
}

TEST_CASE("every failed allocation of a propagate ends in a clear error and leaves the store as it was",
          "[brutal][propagate]") {
  test::TempDir dir;
  const fs::path store = prepare(dir);
  // Four periods: the allocations of a propagate grow with the periods, and each is
  // failed in turn.
  REQUIRE(run_child(-1, [&] { io::ingest(ingest_options(dir.path(), store, "quantiles:4")); }).kind == Kind::ok);
  const std::string before = bytes_of(store);
  const auto propagate = [&] { pipeline::propagate_store(propagate_request(store)); };
  const Outcome counted = run_child(0, propagate);
  CAPTURE(counted.message);
  REQUIRE(counted.kind == Kind::ok);
  io::LabelPeriod last;
  std::size_t periods = 0;
  {
    const io::Store s = io::Store::open(store.string());
    periods = s.n_slices();
    last = io::read_label_period(s, "lp", periods - 1);
  }
  test::write_file(store, before);
  const auto check = [&] {
    const io::Store s = io::Store::open(store.string());
    const io::LabelPeriod got = io::read_label_period(s, "lp", periods - 1);
    CHECK(got.interests == last.interests);
    CHECK(got.item_labels == last.item_labels);
  };
  const Tally t = inject_all(counted.count, store, propagate, check);
  report("propagate", counted.count, t);
}
