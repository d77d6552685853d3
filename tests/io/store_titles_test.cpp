// Tests for item titles in the store (io/store, io/ingest, io/store_info): /items/title is
// written beside /items/id when the labels file gives at least one title, reads back one
// per item ("" where missing), is absent otherwise (and from stores written before titles
// existed, which still open), and survives reslice.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "io/hdf5.hpp"  // the tests open stores with the HDF5 C API
#include "io/ingest.hpp"
#include "io/hdf5.hpp"
#include "io/store.hpp"
#include "io/store_info.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {

// Items in order of first appearance: b a c.
const std::string kEvents =
    "user,item,rating,timestamp\n"
    "u2,b,2.5,1585699199\n"
    "u1,a,5,1579082400\n"
    "u3,c,1,1580515200\n";

// "b" has a quoted comma, "a" a UTF-8 accent, "c" no title; "zzz" has no events.
const std::string kTitledLabels =
    "item,label,title\n"
    "a,drama,Am\xC3\xA9lie (2001)\n"
    "a,comedy,Am\xC3\xA9lie (2001)\n"
    "b,drama,\"Beta, The (1999)\"\n"
    "c,drama,\n"
    "zzz,horror,Zed\n";
const std::vector<std::string> kTitles = {"Beta, The (1999)", "Am\xC3\xA9lie (2001)", ""};

std::string make_store(const TempDir& dir, const std::string& labels, const std::string& name = "store.h5") {
  write_file(dir / "events.csv", kEvents);
  IngestOptions o;
  o.event_files = {(dir / "events.csv").string()};
  if (!labels.empty()) {
    write_file(dir / "labels.csv", labels);
    o.labels_file = (dir / "labels.csv").string();
  }
  o.slicing = graph::Slicing::parse("month");
  o.output = (dir / name).string();
  ingest(o);
  return o.output;
}

// Runs `change` on the store's file opened for writing (to make old or damaged stores).
template <class F>
void edit_file(const std::string& path, F change) {
  h5::Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  REQUIRE(f.get() >= 0);
  change(f.get());
}

}  // namespace

TEST_CASE("ingest keeps item titles in /items/title, one per item, as fixed-length UTF-8 strings",
          "[store][titles]") {
  TempDir dir;
  const std::string path = make_store(dir, kTitledLabels);
  Store s = Store::open(path);
  CHECK(s.items() == std::vector<std::string>{"b", "a", "c"});
  CHECK(s.has_titles());
  CHECK(s.item_titles() == kTitles);

  h5::Handle d(H5Dopen2(s.file(), "/items/title", H5P_DEFAULT), H5Dclose);
  REQUIRE(d.get() >= 0);
  h5::Handle type(H5Dget_type(d), H5Tclose);
  CHECK(H5Tget_class(type) == H5T_STRING);
  CHECK(H5Tis_variable_str(type) == 0);
  CHECK(H5Tget_cset(type) == H5T_CSET_UTF8);
  CHECK(H5Tget_strpad(type) == H5T_STR_NULLPAD);
  CHECK(H5Tget_size(type) == std::string("Beta, The (1999)").size());  // as wide as the longest title
  CHECK(h5::array_size(s.file(), "/items/title", s.context()) == 3);

  const StoreInfo info = store_info(s);
  CHECK(info.titles);
  CHECK(info.titled_items == 2);
  CHECK(info.to_json().at("titles") == true);
  CHECK(info.to_json().at("titled_items") == 2);
  CHECK_THAT(info.to_text(), Catch::Contains("\ntitles  ") && Catch::Contains(" 2  items with a title\n"));
}

TEST_CASE("a store of untitled data has no /items/title and reads all-empty titles", "[store][titles]") {
  for (const std::string& labels : {std::string("item,label\na,drama\n"), std::string("item,label,title\na,drama,\n"),
                                   std::string()}) {
    INFO("labels file: '" << labels << "'");
    TempDir dir;
    Store s = Store::open(make_store(dir, labels));
    CHECK_FALSE(s.has_titles());
    CHECK_FALSE(h5::exists(s.file(), "/items/title"));
    CHECK(s.item_titles() == std::vector<std::string>{"", "", ""});
    const StoreInfo info = store_info(s);
    CHECK_FALSE(info.titles);
    CHECK(info.to_json().at("titles") == false);
    CHECK(info.to_json().at("titled_items") == 0);
    CHECK_THAT(info.to_text(), Catch::Contains("titles             none"));
  }
}

TEST_CASE("a store written before titles existed (no /items/title) still opens and reads whole",
          "[store][titles]") {
  TempDir dir;
  const std::string path = make_store(dir, kTitledLabels);
  edit_file(path, [](hid_t f) { REQUIRE(H5Ldelete(f, "/items/title", H5P_DEFAULT) >= 0); });
  Store s = Store::open(path);
  CHECK_FALSE(s.has_titles());
  CHECK(s.item_titles() == std::vector<std::string>{"", "", ""});
  CHECK(s.items() == std::vector<std::string>{"b", "a", "c"});
  CHECK(s.labels() == std::vector<std::string>{"drama", "comedy"});
  CHECK(s.events().size() == 3);
  CHECK_NOTHROW(store_info(s));
}

TEST_CASE("Store::open refuses /items/title of another length than /items/id", "[store][titles]") {
  TempDir dir;
  const std::string path = make_store(dir, kTitledLabels);
  edit_file(path, [](hid_t f) {
    REQUIRE(H5Ldelete(f, "/items/title", H5P_DEFAULT) >= 0);
    h5::Handle g(H5Gopen2(f, "/items", H5P_DEFAULT), H5Gclose);
    h5::write_strings(g, "title", {"one", "two"});
  });
  CHECK_THROWS_AS(Store::open(path), driftrec::InputError);
  CHECK_THROWS_WITH(Store::open(path), Catch::Contains("store.h5") && Catch::Contains("/items/title") &&
                                           Catch::Contains("2 entries"));
}

TEST_CASE("reslice keeps the item titles", "[store][titles]") {
  TempDir dir;
  const std::string path = make_store(dir, kTitledLabels);
  reslice(path, graph::Slicing::parse("week"));
  Store s = Store::open(path);
  CHECK(s.slicing() == "week");
  CHECK(s.has_titles());
  CHECK(s.item_titles() == kTitles);

  const std::string untitled = make_store(dir, "item,label\na,drama\n", "untitled.h5");
  reslice(untitled, graph::Slicing::parse("week"));
  CHECK_FALSE(Store::open(untitled).has_titles());
}

TEST_CASE("write_store refuses item titles that are not one per item", "[store][titles]") {
  TempDir dir;
  StoreWriter w((dir / "s.h5").string(), false);
  StoreContent c;
  c.users = {"u"};
  c.items = {"i", "j"};
  c.item_titles = {"only one"};
  c.item_labels.n_rows = 2;
  c.item_labels.indptr = {0, 0, 0};
  c.events.user = {0};
  c.events.item = {0};
  c.events.time = {0};
  c.events.value = {1};
  CHECK_THROWS_AS(write_store(w, c, graph::Slicing::parse("day"), graph::Aggregate::sum), driftrec::InputError);
  CHECK_THROWS_WITH(write_store(w, c, graph::Slicing::parse("day"), graph::Aggregate::sum),
                    Catch::Contains("1 item titles for 2 items"));
}
