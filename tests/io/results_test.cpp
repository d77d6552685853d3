#include "io/results.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "io/ingest.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::read_file;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;

namespace {

std::string small_store(const TempDir& dir) {
  write_file(dir / "events.csv", "user,item,time,value\nu1,i1,1000,1\nu2,i2,2000000,2\nu1,i2,5000000,3\n");
  IngestOptions o;
  o.event_files = {(dir / "events.csv").string()};
  o.slicing = graph::Slicing::parse("month");
  o.output = (dir / "store.h5").string();
  ingest(o);
  return o.output;
}

void add_result(const std::string& store, const std::string& name, float base) {
  StoreWriter w(store, StoreWriter::Amend{});
  h5::Handle g = create_result(w, name);
  std::vector<float> m = {base, base + 1, base + 2, base + 3, base + 4, base + 5};
  write_matrix(g, "factors", m.data(), 3, 2);
  h5::write_attr(g, "alpha", 0.5);
  g.reset();
  w.commit();
}

}  // namespace

TEST_CASE("adding a result keeps everything the store had and reads back", "[results]") {
  TempDir dir;
  const std::string path = small_store(dir);
  const Store before = Store::open(path);
  const auto events_before = before.events();
  const auto slice_before = before.slice(0);
  add_result(path, "als", 1.0f);
  Store after = Store::open(path);
  CHECK(after.results() == std::vector<std::string>{"als"});
  CHECK(after.events().time == events_before.time);
  CHECK(after.events().user == events_before.user);
  CHECK(after.slice(0).indices == slice_before.indices);
  CHECK(after.users() == before.users());
  h5::Handle g = open_result(after, "als");
  Matrix m = read_matrix(g, "factors", after.context());
  CHECK(m.rows == 3);
  CHECK(m.cols == 2);
  CHECK(m.data == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(driftrec::test::dir_entries(dir.path()) == std::set<std::string>{"events.csv", "store.h5"});  // no temporary left
}

TEST_CASE("a result of the same name is replaced and others are kept", "[results]") {
  TempDir dir;
  const std::string path = small_store(dir);
  add_result(path, "a", 1.0f);
  add_result(path, "b", 10.0f);
  add_result(path, "a", 100.0f);
  Store s = Store::open(path);
  CHECK(s.results() == std::vector<std::string>{"a", "b"});
  CHECK(read_matrix(open_result(s, "a"), "factors", s.context()).data[0] == 100.0f);
  CHECK(read_matrix(open_result(s, "b"), "factors", s.context()).data[0] == 10.0f);
}

TEST_CASE("a failure while adding a result leaves the store byte-identical", "[results]") {
  TempDir dir;
  const std::string path = small_store(dir);
  const std::string bytes = read_file(path);
  try {
    StoreWriter w(path, StoreWriter::Amend{});
    h5::Handle g = create_result(w, "als");
    throw std::runtime_error("solver diverged, say");
  } catch (const std::runtime_error&) {
  }
  CHECK(read_file(path) == bytes);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}) == 2);
}

TEST_CASE("result names are checked and a missing result lists the ones there are", "[results]") {
  TempDir dir;
  const std::string path = small_store(dir);
  CHECK_THROWS_AS(check_result_name("a/b"), driftrec::InputError);
  CHECK_THROWS_AS(check_result_name(""), driftrec::InputError);
  CHECK_NOTHROW(check_result_name("als_64-v2"));
  // recommend, export and serve read "ranker" as the learned item ranker: never stored.
  CHECK_THROWS_WITH(check_result_name("ranker"), Catch::Contains("reserved for the learned item ranker"));
  CHECK_NOTHROW(check_result_name("ranker2"));
  add_result(path, "als", 1.0f);
  Store s = Store::open(path);
  CHECK_THROWS_WITH(open_result(s, "pagerank"), Catch::Contains("no result named 'pagerank'") && Catch::Contains("als"));
  CHECK_THROWS_AS(StoreWriter((dir / "events.csv").string(), StoreWriter::Amend{}), driftrec::InputError);
}
