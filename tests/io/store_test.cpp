// Tests for io/store: what ingest writes reads back exactly (ids, labels, events, slices
// under several slicings, count vs sum), reslice equals a direct ingest, damaged or foreign
// files are refused with driftrec::InputError (never a crash), and StoreWriter's atomic-write
// contract (no overwrite without asking, no temporary left behind).
#include "io/hdf5.hpp"
#include "io/store.hpp"
#include "io/store_info.hpp"

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <sstream>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "io/ingest.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::read_file;
using driftrec::test::dir_entries;
using driftrec::test::check_same_csr;
using driftrec::test::check_same_store;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;

namespace {

// Unsorted on purpose; ids in order of first appearance: users u2 u1 u3, items b a c.
const std::string kEvents =
    "user,item,rating,timestamp\n"
    "u2,b,2.5,1585699199\n"  // 2020-03-31T23:59:59Z (Tuesday)
    "u1,a,5,1579082400\n"    // 2020-01-15T10:00:00Z (Wednesday)
    "u2,a,3,1579089600\n"    // 2020-01-15T12:00:00Z
    "u1,a,2,1579165200\n"    // 2020-01-16T09:00:00Z
    "u1,b,4,1579478400\n"    // 2020-01-20T00:00:00Z (Monday)
    "u3,c,1,1580515200\n";   // 2020-02-01T00:00:00Z (Saturday)
const std::string kLabels = "item,label\na,drama\na,comedy\nb,drama\nzzz,horror\n";

struct Ev {
  graph::Index user, item;
  graph::Time time;
  float value;
};
// The events above sorted by (time, user, item), as indices.
const std::vector<Ev> kSorted = {{1, 1, 1579082400, 5.0f}, {0, 1, 1579089600, 3.0f},
                                 {1, 1, 1579165200, 2.0f}, {1, 0, 1579478400, 4.0f},
                                 {2, 2, 1580515200, 1.0f}, {0, 0, 1585699199, 2.5f}};

struct Expected {
  std::string spec;
  std::vector<graph::Time> begin, end;
};

const std::vector<Expected> kSlicings = {
    {"month", {1577836800, 1580515200, 1583020800}, {1580515200, 1583020800, 1585699200}},
    {"week",
     {1578873600, 1579478400, 1580083200, 1585526400},
     {1579478400, 1580083200, 1580688000, 1586131200}},
    {"day",
     {1579046400, 1579132800, 1579478400, 1580515200, 1585612800},
     {1579132800, 1579219200, 1579564800, 1580601600, 1585699200}},
    {"86400s",
     {1579046400, 1579132800, 1579478400, 1580515200, 1585612800},
     {1579132800, 1579219200, 1579564800, 1580601600, 1585699200}},
    {"quantiles:2", {1579082400, 1579478400}, {1579478400, 1585699200}},
};

IngestOptions options(const TempDir& dir, const std::string& slicing,
                      const std::string& out = "store.h5") {
  if (!fs::exists(dir / "events.csv")) write_file(dir / "events.csv", kEvents);
  if (!fs::exists(dir / "labels.csv")) write_file(dir / "labels.csv", kLabels);
  IngestOptions o;
  o.event_files = {(dir / "events.csv").string()};
  o.labels_file = (dir / "labels.csv").string();
  o.slicing = graph::Slicing::parse(slicing);
  o.output = (dir / out).string();
  return o;
}

std::string make_store(const TempDir& dir, const std::string& slicing = "month",
                       const std::string& out = "store.h5") {
  auto o = options(dir, slicing, out);
  ingest(o);
  return o.output;
}

// The slice of events in [begin, end) by a plain map: the reference for slice_matrix.
graph::CsrMatrix reference_slice(graph::Time begin, graph::Time end, graph::Aggregate agg) {
  std::map<std::pair<graph::Index, graph::Index>, float> cells;
  for (const Ev& e : kSorted)
    if (e.time >= begin && e.time < end)
      cells[{e.user, e.item}] += agg == graph::Aggregate::count ? 1.0f : e.value;
  graph::CsrMatrix m;
  m.n_rows = 3;
  m.n_cols = 3;
  m.indptr.assign(4, 0);
  for (const auto& [key, v] : cells) {
    ++m.indptr[static_cast<std::size_t>(key.first) + 1];
    m.indices.push_back(key.second);
    m.data.push_back(v);
  }
  for (std::size_t r = 0; r < 3; ++r) m.indptr[r + 1] += m.indptr[r];
  return m;
}

// Opens the store and reads everything through the validated readers.
void open_and_read_all(const std::string& path) {
  Store s = Store::open(path);
  (void)s.users();
  (void)s.items();
  (void)s.labels();
  (void)s.item_labels();
  (void)s.events();
  for (std::size_t k = 0; k < s.n_slices(); ++k) (void)s.slice(k);
}

enum class ChildRead { ok_or_input_error, other_exception, crashed, hung };

std::ostream& operator<<(std::ostream& os, ChildRead r) {
  const char* names[] = {"ok or driftrec::InputError", "another exception", "crashed", "hung"};
  return os << names[static_cast<int>(r)];
}

// Opens and reads the whole store in a child process, so that a crash or hang inside
// HDF5 is reported as a failure instead of ending the test run.
ChildRead read_in_child(const std::string& path) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
    alarm(5);
    int code = 0;
    try {
      open_and_read_all(path);
    } catch (const driftrec::InputError&) {
      code = 0;
    } catch (...) {
      code = 4;
    }
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGALRM ? ChildRead::hung : ChildRead::crashed;
  return WEXITSTATUS(status) == 0 ? ChildRead::ok_or_input_error : ChildRead::other_exception;
}

std::string open_error(const std::string& path) {
  try {
    Store::open(path);
  } catch (const driftrec::InputError& e) {
    return e.what();
  }
  FAIL("expected Store::open to throw driftrec::InputError for " << path);
  return {};
}

}  // namespace

TEST_CASE("a store written by ingest reads back its ids and labels and sorted events",
          "[store]") {
  TempDir dir;
  auto o = options(dir, "month");
  IngestReport r = ingest(o);
  CHECK(r.users == 3);
  CHECK(r.items == 3);
  CHECK(r.labels == 2);
  CHECK(r.labelled_items == 2);
  CHECK(r.events == 6);
  CHECK(r.slices == 3);
  CHECK(r.aggregate == "sum");
  CHECK(r.label_rows_unknown_items == 1);

  Store s = Store::open(o.output);
  CHECK(s.path() == o.output);
  CHECK(s.slicing() == "month");
  CHECK(s.aggregate() == graph::Aggregate::sum);
  CHECK(s.created_by() == kCreatedBy);
  CHECK(s.n_users() == 3);
  CHECK(s.n_items() == 3);
  CHECK(s.n_labels() == 2);
  CHECK(s.n_events() == 6);
  CHECK(s.users() == std::vector<std::string>{"u2", "u1", "u3"});
  CHECK(s.items() == std::vector<std::string>{"b", "a", "c"});
  CHECK(s.labels() == std::vector<std::string>{"drama", "comedy"});
  CHECK(s.results().empty());

  auto il = s.item_labels();
  CHECK(il.n_rows == 3);
  CHECK(il.n_cols == 2);
  CHECK(il.indptr == std::vector<graph::Offset>{0, 1, 3, 3});
  CHECK(il.indices == std::vector<graph::Index>{0, 0, 1});
  CHECK(il.data == std::vector<float>{1, 1, 1});

  auto e = s.events();
  REQUIRE(e.size() == kSorted.size());
  for (std::size_t k = 0; k < kSorted.size(); ++k) {
    INFO("event " << k);
    CHECK(e.user[k] == kSorted[k].user);
    CHECK(e.item[k] == kSorted[k].item);
    CHECK(e.time[k] == kSorted[k].time);
    CHECK(e.value[k] == kSorted[k].value);
  }
}

TEST_CASE("month slices hold the summed values of each user and item", "[store]") {
  TempDir dir;
  Store s = Store::open(make_store(dir, "month"));
  REQUIRE(s.n_slices() == 3);
  auto jan = s.slice(0);
  CHECK(jan.indptr == std::vector<graph::Offset>{0, 1, 3, 3});
  CHECK(jan.indices == std::vector<graph::Index>{1, 0, 1});
  CHECK(jan.data == std::vector<float>{3.0f, 4.0f, 7.0f});  // u1 x a: 5 + 2
  auto feb = s.slice(1);
  CHECK(feb.indptr == std::vector<graph::Offset>{0, 0, 0, 1});
  CHECK(feb.indices == std::vector<graph::Index>{2});
  auto mar = s.slice(2);
  CHECK(mar.indptr == std::vector<graph::Offset>{0, 1, 1, 1});
  CHECK(mar.data == std::vector<float>{2.5f});
  CHECK_THROWS_AS(s.slice(3), driftrec::InputError);
}

TEST_CASE("slices under month/week/day/86400s/quantiles:2 match a reference",
          "[store]") {
  for (const Expected& x : kSlicings) {
    for (const char* agg : {"sum", "count"}) {
      INFO("slicing " << x.spec << ", aggregate " << agg);
      TempDir dir;
      auto o = options(dir, x.spec);
      o.aggregate = agg;
      ingest(o);
      Store s = Store::open(o.output);
      CHECK(s.slicing() == x.spec);
      CHECK(s.aggregate() == graph::parse_aggregate(agg));
      CHECK(s.periods().begin == x.begin);
      CHECK(s.periods().end == x.end);
      REQUIRE(s.n_slices() == x.begin.size());
      double total = 0;
      for (std::size_t k = 0; k < s.n_slices(); ++k) {
        INFO("slice " << k);
        auto m = s.slice(k);
        check_same_csr(m, reference_slice(x.begin[k], x.end[k], graph::parse_aggregate(agg)));
        for (float v : m.data) total += v;
      }
      // Every event lands in exactly one slice.
      CHECK(total == (std::string(agg) == "count" ? 6.0 : 17.5));
    }
  }
}

TEST_CASE("reslice gives the same store as ingesting with the new slicing directly",
          "[store]") {
  for (const Expected& x : kSlicings) {
    INFO("month -> " << x.spec);
    TempDir dir;
    std::string resliced = make_store(dir, "month", "a.h5");
    std::string direct = make_store(dir, x.spec, "b.h5");
    ResliceReport r = reslice(resliced, graph::Slicing::parse(x.spec));
    CHECK(r.slicing == x.spec);
    CHECK(r.slices == static_cast<std::int64_t>(x.begin.size()));
    CHECK(r.dropped_results.empty());
    CHECK(Store::open(resliced).slicing() == x.spec);
    check_same_store(resliced, direct);
    CHECK(dir_entries(dir.path()) == std::set<std::string>{"events.csv", "labels.csv", "a.h5", "b.h5"});
  }
}

TEST_CASE("reslice keeps the aggregation unless told and can switch it to count", "[store]") {
  TempDir dir;
  std::string path = make_store(dir, "month");
  reslice(path, graph::Slicing::parse("week"));
  CHECK(Store::open(path).aggregate() == graph::Aggregate::sum);
  reslice(path, graph::Slicing::parse("month"), "count");
  Store s = Store::open(path);
  CHECK(s.aggregate() == graph::Aggregate::count);
  check_same_csr(s.slice(0), reference_slice(1577836800, 1580515200, graph::Aggregate::count));
}

TEST_CASE("Store::open refuses truncated stores with driftrec::InputError", "[store]") {
  TempDir dir;
  std::string path = make_store(dir);
  const std::string bytes = read_file(path);
  REQUIRE(bytes.size() > 200);
  for (std::size_t keep : {bytes.size() / 2, bytes.size() - 1, std::size_t{100}, std::size_t{0}}) {
    INFO("truncated to " << keep << " of " << bytes.size() << " bytes");
    write_file(dir / "cut.h5", bytes.substr(0, keep));
    CHECK_THAT(open_error((dir / "cut.h5").string()), Catch::Contains("cut.h5"));
  }
}

TEST_CASE("Store::open refuses a missing file and a text file and a folder", "[store]") {
  TempDir dir;
  CHECK_THAT(open_error((dir / "none.h5").string()), Catch::Contains("none.h5"));
  write_file(dir / "text.h5", "userId,movieId,rating,timestamp\n1,2,3,4\n");
  CHECK_THAT(open_error((dir / "text.h5").string()),
             Catch::Contains("text.h5") && Catch::Contains("not an HDF5 file"));
  fs::create_directory(dir / "folder.h5");
  CHECK_THAT(open_error((dir / "folder.h5").string()), Catch::Contains("folder.h5"));
}

TEST_CASE("Store::open refuses an HDF5 file that is not a driftrec store", "[store]") {
  TempDir dir;
  const std::string path = (dir / "other.h5").string();
  {
    h5::Handle f = h5::create_file(path);
    h5::Handle g = h5::create_group(f, "/users");
    h5::write_strings(g, "id", {"a", "b"});
  }
  CHECK_THAT(open_error(path), Catch::Contains("other.h5") && Catch::Contains("not a driftrec store"));
  {
    h5::Handle f = h5::create_file(path);
    h5::write_attr(f, "format", std::string("something-else"));
  }
  CHECK_THAT(open_error(path), Catch::Contains("not a driftrec store"));
  {
    h5::Handle f = h5::create_file(path);
    h5::write_attr(f, "format", std::string("driftrec"));
    h5::write_attr(f, "version", std::int64_t{1});
  }
  CHECK_THAT(open_error(path), Catch::Contains("other.h5"));  // no datasets at all
}

TEST_CASE("Store::open refuses a store of version 2", "[store]") {
  TempDir dir;
  std::string path = make_store(dir);
  {
    h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    REQUIRE(f.get() >= 0);
    h5::write_attr(f, "version", std::int64_t{2});
  }
  CHECK_THAT(open_error(path), Catch::Contains("version 2") && Catch::Contains("version 1"));
}

TEST_CASE("Store::open refuses a store whose event columns differ in length", "[store]") {
  TempDir dir;
  std::string path = make_store(dir);
  {
    h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    REQUIRE(f.get() >= 0);
    REQUIRE(H5Ldelete(f, "/events/item", H5P_DEFAULT) >= 0);
    std::vector<std::int32_t> shorter{0, 1};
    h5::Handle g(H5Gopen2(f, "/events", H5P_DEFAULT), H5Gclose);
    h5::write_array<std::int32_t>(g, "item", shorter);
  }
  CHECK_THAT(open_error(path), Catch::Contains("/events/item"));
}

TEST_CASE("Store reads of randomly byte-flipped stores either succeed or throw driftrec::InputError",
          "[store]") {
  TempDir dir;
  std::string path = make_store(dir);
  const std::string bytes = read_file(path);
  std::mt19937_64 rng(driftrec::test::test_seed());
  for (int round = 0; round < 24; ++round) {
    std::string damaged = bytes;
    std::string where;
    std::uniform_int_distribution<std::size_t> pos(0, bytes.size() - 1);
    std::uniform_int_distribution<int> mask(1, 255);
    for (int k = 0; k < 3; ++k) {
      std::size_t p = pos(rng);
      damaged[p] = static_cast<char>(damaged[p] ^ mask(rng));
      where += std::to_string(p) + " ";
    }
    const std::string copy = (dir / "flipped.h5").string();
    write_file(copy, damaged);
    INFO("round " << round << ", bytes flipped at " << where);
    CHECK(read_in_child(copy) == ChildRead::ok_or_input_error);
  }
}

TEST_CASE("a store keeps no strings in HDF5's unchecksummed global heap", "[store]") {
  // Variable-length strings live in HDF5's global heap ("GCOL"), which has no checksum:
  // giving one heap object an absurd length crashed HDF5 1.10 (SIGSEGV in H5HG_read)
  // instead of failing the read. The store therefore writes fixed-length strings only,
  // in the 1.10 file format whose headers and chunk indexes are checksummed.
  TempDir dir;
  std::string path = make_store(dir);
  std::string bytes = read_file(path);
  CHECK(bytes.find("GCOL") == std::string::npos);
  // Object headers carry the v2 signature "OHDR" (checksummed), not version-1 headers.
  CHECK(bytes.find("OHDR") != std::string::npos);
}

TEST_CASE("ingesting the same input twice, seconds apart, writes the same bytes", "[store]") {
  // HDF5 records each object's creation and modification times unless told not to; the
  // store does not, so a store is a function of its input (and fuzzing seeds are fixed).
  TempDir dir;
  ingest(options(dir, "month", "first.h5"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // times are in whole seconds
  ingest(options(dir, "month", "second.h5"));
  const std::string first = read_file(dir / "first.h5"), second = read_file(dir / "second.h5");
  CHECK(first.size() == second.size());
  CHECK(first == second);
}

TEST_CASE("StoreWriter refuses to replace an existing file unless told to", "[store]") {
  TempDir dir;
  write_file(dir / "store.h5", "precious");
  CHECK_THROWS_AS(StoreWriter((dir / "store.h5").string(), false), driftrec::InputError);
  CHECK_THROWS_WITH(StoreWriter((dir / "store.h5").string(), false),
                    Catch::Contains("store.h5") && Catch::Contains("already exists"));
  CHECK(read_file(dir / "store.h5") == "precious");
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"store.h5"});
  {
    StoreWriter w((dir / "store.h5").string(), true);
    CHECK(fs::path(w.temp_path()).parent_path() == dir.path());
    CHECK(fs::path(w.temp_path()).filename().string() ==
          ".store.h5.tmp-" + std::to_string(::getpid()));
    CHECK(read_file(dir / "store.h5") == "precious");  // untouched until commit
    h5::write_attr(w.file(), "format", std::string("driftrec"));
    w.commit();
  }
  CHECK(read_file(dir / "store.h5") != "precious");
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"store.h5"});
}

TEST_CASE("StoreWriter refuses a missing folder and a folder as target", "[store]") {
  TempDir dir;
  CHECK_THROWS_AS(StoreWriter((dir / "no" / "store.h5").string(), true), driftrec::InputError);
  fs::create_directory(dir / "sub");
  CHECK_THROWS_AS(StoreWriter((dir / "sub").string(), true), driftrec::InputError);
}

TEST_CASE("StoreWriter leaves no temporary file when destroyed without commit", "[store]") {
  TempDir dir;
  SECTION("no previous file") {
    try {
      StoreWriter w((dir / "store.h5").string(), false);
      REQUIRE(fs::exists(w.temp_path()));
      h5::Handle g = h5::create_group(w.file(), "/users");
      h5::write_strings(g, "id", {"u1"});
      throw std::runtime_error("disk full, say");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "disk full, say");
    }
    CHECK(dir_entries(dir.path()).empty());
  }
  SECTION("an existing store stays as it was") {
    std::string path = make_store(dir);
    const std::string before = read_file(path);
    try {
      StoreWriter w(path, true);
      graph::Slicing bad;
      StoreContent c;  // inconsistent on purpose: an event naming a user that does not exist
      c.users = {"u"};
      c.items = {"i"};
      c.item_labels.n_rows = 1;
      c.item_labels.indptr = {0, 0};
      c.events.user = {5};
      c.events.item = {0};
      c.events.time = {0};
      c.events.value = {1};
      write_store(w, c, bad, graph::Aggregate::sum);
      FAIL("write_store accepted an event with a user out of range");
    } catch (const std::exception&) {
    }
    CHECK(read_file(path) == before);
    CHECK(dir_entries(dir.path()) == std::set<std::string>{"events.csv", "labels.csv", "store.h5"});
    CHECK_NOTHROW(open_and_read_all(path));
  }
}

TEST_CASE("info's slice table shows the first and last slices for any row budget", "[store]") {
  driftrec::io::StoreInfo info;
  for (int k = 0; k < 10; ++k) info.slices.push_back({k * 100, k * 100 + 100, 1, 1, 1, 1});
  auto rows = [&](std::size_t budget) {
    std::string text = info.to_text(budget);
    std::vector<std::string> shown;
    std::istringstream in(text);
    std::string line;
    bool table = false;
    while (std::getline(in, line)) {
      if (line.rfind("slice", 0) == 0) { table = true; continue; }
      if (table && line.find("more slices") == std::string::npos && !line.empty())
        shown.push_back(line.substr(0, 5));
    }
    return shown;
  };
  CHECK(rows(0).empty());
  CHECK(rows(1) == std::vector<std::string>{"    0"});
  CHECK(rows(3) == std::vector<std::string>{"    0", "    1", "    9"});
  CHECK(rows(24).size() == 10);
  CHECK_THAT(info.to_text(4), Catch::Contains("6 more slices"));
}

TEST_CASE("StoreWriter refuses an empty path and a folder it cannot create files in", "[store]") {
  CHECK_THROWS_WITH(StoreWriter("", true), Catch::Contains("expected a file path"));
  CHECK_THROWS_WITH(StoreWriter("out/", true), Catch::Contains("expected a file path"));
  CHECK_THROWS_AS(StoreWriter("/proc/driftrec-test.h5", true), driftrec::InputError);
}

TEST_CASE("StoreWriter compresses on its own thread count: the same arrays for 1 and 2 threads",
          "[store][threads]") {
  // Over two chunks (2^18 elements) per array, so the chunks are compressed in parallel.
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> value(0.0f, 1.0f);
  std::vector<graph::Triplet> t;  // 700 distinct entries in each row
  for (int k = 0; k < 700000; ++k)
    t.push_back({static_cast<graph::Index>(k / 700), static_cast<graph::Index>(k % 700), value(rng)});
  const graph::CsrMatrix m = graph::csr_from_triplets(1000, 1000, t);
  REQUIRE(m.nnz() > 2 * (1 << 18));
  TempDir dir;
  const int before = omp_get_max_threads();
  for (int threads : {1, 2}) {
    StoreWriter w((dir / fmt::format("t{}.h5", threads)).string(), false, threads);
    CHECK(w.threads() == threads);
    write_csr_group(w.file(), "/m", m, w.threads());
    w.commit();
    CHECK(omp_get_max_threads() == before);  // the library set no OpenMP default
  }
  for (int threads : {1, 2}) {
    h5::Handle f = h5::open_file((dir / fmt::format("t{}.h5", threads)).string());
    const h5::ReadContext cx{(dir / fmt::format("t{}.h5", threads)).string(), std::uint64_t{1} << 32};
    check_same_csr(read_csr_group(f, "/m", 1000, 1000, cx), m);
  }
}

TEST_CASE("StoreWriter refuses a negative thread count naming threads", "[store][threads]") {
  TempDir dir;
  CHECK_THROWS_WITH(StoreWriter((dir / "s.h5").string(), false, -1), Catch::Contains("threads"));
  CHECK(dir_entries(dir.path()).empty());
}
