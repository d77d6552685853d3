// Tests for io/ingest: the report, the choice of aggregation, skip mode, and that a failed
// ingest (bad events, bad labels, existing target) leaves the target folder as it was.
#include "io/ingest.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>
#include <string>

#include "io/store.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::read_file;
using driftrec::test::dir_entries;
using driftrec::test::TempDir;
using driftrec::test::write_file;
namespace fs = std::filesystem;

namespace {

// Inputs live in their own folder so the output folder shows exactly what ingest left.
struct Fixture {
  TempDir in, out;
  IngestOptions opts(const std::string& events, const std::string& labels = {}) {
    write_file(in / "events.csv", events);
    IngestOptions o;
    o.event_files = {(in / "events.csv").string()};
    if (!labels.empty()) {
      write_file(in / "labels.csv", labels);
      o.labels_file = (in / "labels.csv").string();
    }
    o.slicing = graph::Slicing::parse("day");
    o.output = (out / "store.h5").string();
    return o;
  }
  std::string error_of(const IngestOptions& o) {
    try {
      ingest(o);
    } catch (const driftrec::InputError& e) {
      return e.what();
    }
    FAIL("expected ingest to throw driftrec::InputError");
    return {};
  }
};

const std::string kGood = "user,item,rating,time\nu1,i1,4,86400\nu2,i1,2,86401\nu1,i2,1,172800\n";

}  // namespace

TEST_CASE("ingest reports counts and slicing and aggregation also as JSON", "[ingest]") {
  Fixture f;
  auto r = ingest(f.opts(kGood, "item,label\ni1,x\ni1,y\ni1,x\ni9,z\n"));
  CHECK(r.output == (f.out / "store.h5").string());
  CHECK(r.users == 2);
  CHECK(r.items == 2);
  CHECK(r.events == 3);
  CHECK(r.labels == 2);
  CHECK(r.labelled_items == 1);
  CHECK(r.slices == 2);
  CHECK(r.slicing == "day");
  CHECK(r.aggregate == "sum");
  CHECK(r.label_rows_unknown_items == 1);
  CHECK(r.label_pairs_repeated == 1);
  CHECK(r.input_bytes == kGood.size());
  CHECK(r.skipped_events.empty());
  auto j = r.to_json();
  CHECK(j.at("events") == 3);
  CHECK(j.at("slices") == 2);
  CHECK(j.at("aggregate") == "sum");
  CHECK(j.at("label_rows_for_unknown_items") == 1);
  CHECK(j.at("skipped_event_lines").empty());
  CHECK(dir_entries(f.out.path()) == std::set<std::string>{"store.h5"});
  Store s = Store::open(r.output);
  CHECK(s.n_events() == 3);
  CHECK(s.n_slices() == 2);
}

TEST_CASE("ingest aggregates by count when a file has no value column or when asked",
          "[ingest]") {
  Fixture f;
  SECTION("no value column") {
    auto r = ingest(f.opts("user,item,time\nu1,i1,86400\nu1,i1,86401\n"));
    CHECK(r.aggregate == "count");
    CHECK(Store::open(r.output).slice(0).data == std::vector<float>{2.0f});
  }
  SECTION("asked") {
    auto o = f.opts(kGood);
    o.aggregate = "count";
    auto r = ingest(o);
    CHECK(r.aggregate == "count");
    CHECK(Store::open(r.output).aggregate() == graph::Aggregate::count);
  }
  SECTION("a bad --aggregate") {
    auto o = f.opts(kGood);
    o.aggregate = "mean";
    CHECK_THROWS_AS(ingest(o), driftrec::InputError);
    CHECK(dir_entries(f.out.path()).empty());
  }
}

TEST_CASE("ingest reads several event files into one store", "[ingest]") {
  Fixture f;
  auto o = f.opts(kGood);
  write_file(f.in / "more.csv", "user,item,rating,time\nu3,i1,5,259200\n");
  o.event_files.push_back((f.in / "more.csv").string());
  auto r = ingest(o);
  CHECK(r.events == 4);
  CHECK(r.users == 3);
  CHECK(Store::open(r.output).users() == std::vector<std::string>{"u1", "u2", "u3"});
}

TEST_CASE("a failed ingest leaves no store and no temporary file", "[ingest]") {
  Fixture f;
  SECTION("bad event line") {
    auto m = f.error_of(f.opts(kGood + "u3,i3,x,86402\n"));
    CHECK_THAT(m, Catch::Contains("events.csv:5") && Catch::Contains("'rating'"));
  }
  SECTION("only a header") {
    CHECK_THAT(f.error_of(f.opts("user,item,rating,time\n")), Catch::Contains("no valid events"));
  }
  SECTION("labels matching no item") {
    CHECK_THAT(f.error_of(f.opts(kGood, "item,label\nzz,a\n")), Catch::Contains("labels.csv"));
  }
  SECTION("too many slices") {
    std::string text = "user,item,time\n";
    for (int t = 0; t <= 100000; ++t) text += "u,i," + std::to_string(t) + "\n";
    auto o = f.opts(text);
    o.slicing = graph::Slicing::parse("1s");
    CHECK_THAT(f.error_of(o), Catch::Contains("'1s'") && Catch::Contains("coarser"));
  }
  CHECK(dir_entries(f.out.path()).empty());
}

TEST_CASE("ingest refuses an existing output unless overwrite is set and before reading",
          "[ingest]") {
  Fixture f;
  write_file(f.out / "store.h5", "old bytes");
  auto o = f.opts("this is not an event file\n");
  auto m = f.error_of(o);
  CHECK_THAT(m, Catch::Contains("store.h5") && Catch::Contains("already exists"));
  CHECK(read_file(f.out / "store.h5") == "old bytes");
  // A bad input with overwrite set fails on the input and keeps the old file.
  o.overwrite = true;
  CHECK_THAT(f.error_of(o), Catch::Contains("events.csv"));
  CHECK(read_file(f.out / "store.h5") == "old bytes");
  CHECK(dir_entries(f.out.path()) == std::set<std::string>{"store.h5"});
  o = f.opts(kGood);
  o.overwrite = true;
  ingest(o);
  CHECK(Store::open(o.output).n_events() == 3);
}

TEST_CASE("ingest with on_error=skip keeps good lines and reports skipped ones", "[ingest]") {
  Fixture f;
  auto o = f.opts(kGood + "u3,i3,x,86402\nu4,i4,1\n", "item,label,weight\ni1,a,1\ni2,b,-1\n");
  o.events.on_error = OnError::skip;
  o.labels.on_error = OnError::skip;
  auto r = ingest(o);
  CHECK(r.events == 3);
  CHECK(r.users == 2);
  CHECK(r.skipped_events.total() == 2);
  CHECK(r.skipped_events.reasons().count("bad value in column 'rating'") == 1);
  CHECK(r.skipped_events.reasons().count("missing fields") == 1);
  CHECK(r.skipped_labels.total() == 1);
  CHECK(r.labels == 1);
  auto j = r.to_json();
  CHECK(j.at("skipped_event_lines").at("missing fields").at("count") == 1);
  CHECK(j.at("skipped_label_lines").at("bad weight").at("count") == 1);
}

TEST_CASE("ingest with on_error=skip still refuses a file with no good line", "[ingest]") {
  Fixture f;
  auto o = f.opts("user,item,rating,time\nu,i,x,1\n");
  o.events.on_error = OnError::skip;
  CHECK_THAT(f.error_of(o), Catch::Contains("no valid events") && Catch::Contains("skipped 1 line"));
  CHECK(dir_entries(f.out.path()).empty());
}
