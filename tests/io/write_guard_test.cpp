// The path rules and clean-up of io/write_guard.hpp, and two promises of StoreWriter built
// on them: a replaced result costs no space (issue 16 item 7), and temporary files of
// writers that died are removed by the next writer while a live writer's are left alone
// (item 6). The CLI-level races and signals are in tests/cli/store_writes_test.cpp.
#include "io/write_guard.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fmt/format.h>
#include <set>
#include <vector>

#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/ingest.hpp"
#include "io/results.hpp"
#include "io/store.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::dir_entries;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;

namespace {

std::string tiny_store(const TempDir& dir) {
  write_file(dir / "e.csv", "user,item,time\nu1,i1,1500000000\nu2,i1,1500000100\nu2,i2,1500090000\n");
  io::IngestOptions o;
  o.event_files = {(dir / "e.csv").string()};
  o.output = (dir / "s.h5").string();
  o.slicing = graph::Slicing::parse("day");
  io::ingest(o);
  return o.output;
}

// rows x cols values that hardly compress, the first one `value`.
std::vector<float> noise(std::uint64_t rows, std::uint64_t cols, float value) {
  std::vector<float> m(rows * cols);
  std::uint32_t x = 12345;
  for (float& v : m) {
    x = x * 1664525u + 1013904223u;
    v = static_cast<float>(x >> 8) / 16777216.0f;
  }
  if (!m.empty()) m[0] = value;
  return m;
}

// Writes result `name`: noise(rows, cols, value) as matrix "m".
void write_result(const std::string& store, const std::string& name, std::uint64_t rows, std::uint64_t cols,
                  float value) {
  io::StoreWriter w(store, io::StoreWriter::Amend{});
  io::h5::Handle g = io::create_result(w, name);
  const std::vector<float> m = noise(rows, cols, value);
  io::write_matrix(g, "m", m.data(), rows, cols);
  w.commit();
}

// A pid that surely names no process: a child that has exited and been reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return pid;
}

}  // namespace

TEST_CASE("replacing a result again and again leaves the store's size where it was", "[store][write-guard]") {
  TempDir dir;
  const std::string store = tiny_store(dir);
  write_result(store, "keep", 200, 50, 1.0f);
  write_result(store, "r", 4000, 64, 2.0f);
  const auto first = fs::file_size(store);
  for (int round = 0; round < 6; ++round) {
    write_result(store, "r", 4000, 64, static_cast<float>(round));
    // Without compaction each round adds the old result's ~1 MB of unreachable bytes.
    INFO("round " << round << ": " << fs::file_size(store) << " bytes against " << first);
    CHECK(fs::file_size(store) <= first + first / 50);
  }
  io::Store s = io::Store::open(store);
  CHECK(s.results() == std::vector<std::string>{"keep", "r"});
  const io::Matrix kept = io::read_matrix(io::open_result(s, "keep"), "m", s.context());
  CHECK(kept.rows == 200);
  CHECK(kept.data == noise(200, 50, 1.0f));
  CHECK(io::read_matrix(io::open_result(s, "r"), "m", s.context()).data == noise(4000, 64, 5.0f));
}

TEST_CASE("the next writer removes temporary files of dead processes and leaves a live one's",
          "[store][write-guard]") {
  TempDir dir;
  const std::string store = tiny_store(dir);
  const std::string dead = fmt::format(".s.h5.tmp-{}", dead_pid());
  const std::string live = fmt::format(".s.h5.tmp-{}", ::getppid());  // our parent is alive
  const std::string other = fmt::format(".t.h5.tmp-{}", dead_pid());  // another store's
  for (const auto& name : {dead, live, other}) write_file(dir / name, "partial");
  write_result(store, "r", 10, 2, 1.0f);
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"e.csv", "s.h5", live, other});
}

TEST_CASE("a writer that fails leaves neither its temporary file nor the lock file", "[store][write-guard]") {
  TempDir dir;
  const std::string store = tiny_store(dir);
  {
    io::StoreWriter w(store, io::StoreWriter::Amend{});
    CHECK(fs::exists(w.temp_path()));
    CHECK(fs::exists(dir / ".s.h5.lock"));
    CHECK_THROWS_AS(io::create_result(w, "bad name"), InputError);
  }
  CHECK(dir_entries(dir.path()) == std::set<std::string>{"e.csv", "s.h5"});
}

TEST_CASE("resolve_output follows links and refuses folders, FIFOs, devices and dangling links",
          "[store][write-guard]") {
  TempDir dir;
  write_file(dir / "f", "x");
  fs::create_symlink(dir / "f", dir / "link");
  fs::create_symlink(dir / "missing", dir / "dangling");
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  const io::OutputTarget t = io::resolve_output((dir / "link").string());
  CHECK(t.path == fs::canonical(dir / "f").string());
  CHECK(t.shown == (dir / "link").string());
  CHECK(t.exists);
  CHECK_FALSE(io::resolve_output((dir / "new").string()).exists);
  CHECK_THROWS_WITH(io::resolve_output((dir / "fifo").string()), Catch::Contains("not a regular file (a FIFO)"));
  CHECK_THROWS_WITH(io::resolve_output("/dev/null"), Catch::Contains("not a regular file (a device)"));
  CHECK_THROWS_WITH(io::resolve_output((dir / "dangling").string()), Catch::Contains("symbolic link to a missing"));
  CHECK_THROWS_WITH(io::resolve_output(dir.path().string()), Catch::Contains("is a folder"));
}

TEST_CASE("refuse_read_only goes by the mode bits too, so a 0444 store is refused even for root",
          "[store][write-guard]") {
  TempDir dir;
  write_file(dir / "f", "x");
  fs::permissions(dir / "f", fs::perms(0444));
  CHECK_THROWS_WITH(io::refuse_read_only(io::resolve_output((dir / "f").string())),
                    Catch::Contains("read-only (mode 0444"));
  fs::permissions(dir / "f", fs::perms(0600));
  CHECK_NOTHROW(io::refuse_read_only(io::resolve_output((dir / "f").string())));
}

TEST_CASE("a full disk is reported in one line naming the store, from HDF5's record or errno",
          "[store][write-guard]") {
  const std::string record =
      "file write failed: time = Mon Nov 30 00:27:23 2026\n, filename = 'out/.s.h5.tmp-10894', file "
      "descriptor = 3, errno = 28, error message = 'No space left on device', buf = 0x55dac51414e9, total write "
      "size = 76694, bytes this sub-write = 76694, bytes actually written = 18446744073709551615, offset = 0";
  int err = 0;
  std::string file;
  const std::string line = io::h5::condense_error(record, &err, &file);
  CHECK(line == "file write failed: No space left on device");
  CHECK(err == ENOSPC);
  CHECK(file == "out/.s.h5.tmp-10894");
  CHECK(io::no_space_message(file, err) == "out/s.h5: no space left on device; the store is unchanged");
  CHECK(io::no_space_message("s.h5", EDQUOT) == "s.h5: no space left on device (disk quota exceeded); the store is unchanged");
  CHECK(io::no_space_message("s.h5", EACCES).empty());
  CHECK(io::h5::condense_error("plain\nmessage", &err, &file) == "plain message");
  CHECK(err == 0);
  CHECK(io::store_of_temp(".s.h5.tmp-12") == "s.h5");
  CHECK(io::store_of_temp("a/.tmp-12") == "a/.tmp-12");
}
