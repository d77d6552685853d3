// Tests for graph/synthetic_writer: the files are valid CSV with the documented headers,
// agree with the in-memory generator and with meta.json, are identical for any thread
// count, and appear atomically (no temporaries left, old files replaced).
#include "graph/synthetic_writer.hpp"

#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::read_file;
using driftrec::test::TempDir;

namespace {

graph::DriftConfig small_config(std::uint64_t seed) {
  graph::DriftConfig c;
  c.users = 300;
  c.items = 400;
  c.labels = 12;
  c.periods = 5;
  c.events_per_period = 4;
  c.seed = seed;
  return c;
}

using Rows = std::vector<std::vector<std::string>>;

// Splits a CSV file (no quoting: the generator writes none) into header and rows.
Rows read_csv(const std::filesystem::path& p, std::string& header) {
  std::istringstream in(read_file(p));
  std::string line;
  std::getline(in, header);
  Rows rows;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    for (;;) {
      const auto comma = line.find(',', start);
      fields.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    rows.push_back(std::move(fields));
  }
  return rows;
}

std::int64_t to_int(const std::string& s) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE((ec == std::errc() && p == s.data() + s.size()));
  return v;
}

double to_double(const std::string& s) {
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE((ec == std::errc() && p == s.data() + s.size()));
  return v;
}

// "u12", "i7" (built with += : GCC 12 warns falsely on "u" + std::string).
std::string id(char prefix, graph::Index v) {
  std::string s(1, prefix);
  s += std::to_string(v);
  return s;
}

std::vector<std::string> listing(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

const std::vector<std::string> kFiles = {"events.csv", "labels.csv", "meta.json", "truth.csv"};

}  // namespace

TEST_CASE("synthetic files are valid CSV with the documented headers and match meta.json",
          "[synthetic_writer]") {
  TempDir dir;
  auto c = small_config(driftrec::test::test_seed());
  c.labelled_fraction = 0.75;
  const auto s = graph::write_synthetic(c, dir / "out");
  REQUIRE(listing(dir / "out") == kFiles);  // no temporaries left behind

  std::string header;
  const std::regex user_id("u[0-9]+"), item_id("i[0-9]+"), label_name("g[0-9]{2,}");

  const Rows events = read_csv(dir / "out/events.csv", header);
  CHECK(header == "user,item,time,value");
  REQUIRE(static_cast<std::int64_t>(events.size()) == s.events);
  std::set<std::string> users, items;
  for (const auto& r : events) {
    REQUIRE(r.size() == 4);
    REQUIRE(std::regex_match(r[0], user_id));
    REQUIRE(std::regex_match(r[1], item_id));
    REQUIRE(to_int(r[1].substr(1)) < c.items);
    const auto t = to_int(r[2]);
    REQUIRE(t >= c.first_period_begin());
    REQUIRE(t < c.end_time());
    REQUIRE(r[3] == "1");
    users.insert(r[0]);
    items.insert(r[1]);
  }
  CHECK(static_cast<std::int64_t>(users.size()) == s.users_with_events);
  CHECK(static_cast<std::int64_t>(items.size()) == s.items_with_events);

  const Rows labels = read_csv(dir / "out/labels.csv", header);
  CHECK(header == "item,label");
  std::set<std::string> labelled;
  for (const auto& r : labels) {
    REQUIRE(r.size() == 2);
    REQUIRE(std::regex_match(r[0], item_id));
    REQUIRE(std::regex_match(r[1], label_name));
    REQUIRE(to_int(r[1].substr(1)) < c.labels);
    labelled.insert(r[0]);
  }
  CHECK(static_cast<std::int64_t>(labels.size()) == s.label_rows);
  CHECK(static_cast<std::int64_t>(labelled.size()) == s.labelled_items);
  CHECK(s.labelled_items == 300);  // round(0.75 x 400)

  const Rows truth = read_csv(dir / "out/truth.csv", header);
  CHECK(header == "user,period,begin,label,weight");
  CHECK(static_cast<std::int64_t>(truth.size()) == s.truth_rows);
  std::map<std::pair<std::string, std::int64_t>, double> sums;
  for (const auto& r : truth) {
    REQUIRE(r.size() == 5);
    REQUIRE(std::regex_match(r[0], user_id));
    const auto p = to_int(r[1]);
    REQUIRE(p >= 0);
    REQUIRE(p < c.periods);
    REQUIRE(to_int(r[2]) == c.period_begin(static_cast<graph::Index>(p)));
    REQUIRE(std::regex_match(r[3], label_name));
    sums[{r[0], p}] += to_double(r[4]);
  }
  CHECK(sums.size() == static_cast<std::size_t>(c.users * c.periods));
  for (const auto& [key, sum] : sums) REQUIRE(sum == Approx(1.0).margin(1e-7));

  const auto meta = nlohmann::json::parse(read_file(dir / "out/meta.json"));
  CHECK(meta["slice"] == "2592000s");
  CHECK(meta["config"]["seed"] == c.seed);
  CHECK(meta["config"]["users"] == c.users);
  CHECK(meta["counts"]["events"] == s.events);
  CHECK(meta["counts"]["label_rows"] == s.label_rows);
  CHECK(meta["counts"]["truth_rows"] == s.truth_rows);
  CHECK(meta["counts"]["bytes"] ==
        static_cast<std::int64_t>(std::filesystem::file_size(dir / "out/events.csv") +
                                  std::filesystem::file_size(dir / "out/labels.csv") +
                                  std::filesystem::file_size(dir / "out/truth.csv")));
  CHECK(meta["ingest"].get<std::string>().find("--slice 2592000s") != std::string::npos);
}

TEST_CASE("synthetic files are byte-identical for 1 and 2 threads with the same seed",
          "[synthetic_writer]") {
  TempDir dir;
  const auto c = small_config(driftrec::test::test_seed());
  const int before = omp_get_max_threads();
  graph::write_synthetic(c, dir / "one", {}, 1);
  CHECK(omp_get_max_threads() == before);  // the library set no OpenMP default
  graph::write_synthetic(c, dir / "two", {}, 2);
  graph::write_synthetic(c, dir / "three", {}, 3);  // another block size (blocks scale with the thread count)
  for (const char* f : {"events.csv", "labels.csv", "truth.csv"}) {
    INFO(f);
    CHECK(read_file(dir / "one" / f) == read_file(dir / "two" / f));
    CHECK(read_file(dir / "one" / f) == read_file(dir / "three" / f));
  }
  auto meta_one = nlohmann::json::parse(read_file(dir / "one/meta.json"));
  auto meta_two = nlohmann::json::parse(read_file(dir / "two/meta.json"));
  meta_one.erase("ingest");  // names the directory
  meta_two.erase("ingest");
  CHECK(meta_one == meta_two);
}

TEST_CASE("events.csv and truth.csv hold exactly what the in-memory generator produces",
          "[synthetic_writer]") {
  TempDir dir;
  const auto c = small_config(driftrec::test::test_seed());
  graph::write_synthetic(c, dir.path());
  const graph::DriftGenerator gen(c);
  const auto log = graph::generate_drift_log(gen);

  std::string header;
  const Rows events = read_csv(dir / "events.csv", header);
  REQUIRE(events.size() == log.events.size());
  for (std::size_t k = 0; k < events.size(); ++k) {
    const auto& e = log.events[k];
    REQUIRE(events[k][0] == id('u', e.user));
    REQUIRE(events[k][1] == id('i', e.item));
    REQUIRE(to_int(events[k][2]) == e.time);
  }
  const Rows truth = read_csv(dir / "truth.csv", header);
  REQUIRE(truth.size() == log.truth.size());
  for (std::size_t k = 0; k < truth.size(); ++k) {
    const auto& t = log.truth[k];
    REQUIRE(truth[k][0] == id('u', t.user));
    REQUIRE(to_int(truth[k][1]) == t.period);
    REQUIRE(truth[k][3] == graph::synthetic_label_name(t.label));
    REQUIRE(to_double(truth[k][4]) == Approx(t.weight).epsilon(1e-8));
  }
  const Rows labels = read_csv(dir / "labels.csv", header);
  std::size_t row = 0;
  for (graph::Index i = 0; i < c.items; ++i)
    for (graph::Index l : gen.item_labels(i)) {
      REQUIRE(row < labels.size());
      REQUIRE(labels[row][0] == id('i', i));
      REQUIRE(labels[row][1] == graph::synthetic_label_name(l));
      ++row;
    }
  CHECK(row == labels.size());
}

TEST_CASE("label names are g<NN>: two digits at least", "[synthetic_writer]") {
  CHECK(graph::synthetic_label_name(0) == "g00");
  CHECK(graph::synthetic_label_name(7) == "g07");
  CHECK(graph::synthetic_label_name(42) == "g42");
  CHECK(graph::synthetic_label_name(123) == "g123");
}

TEST_CASE("rewriting a directory replaces the old files and leaves no temporaries",
          "[synthetic_writer]") {
  TempDir dir;
  auto c = small_config(driftrec::test::test_seed());
  graph::write_synthetic(c, dir.path());
  c.seed += 1;
  c.users = 50;
  const auto s = graph::write_synthetic(c, dir.path());
  CHECK(listing(dir.path()) == kFiles);
  const auto meta = nlohmann::json::parse(read_file(dir / "meta.json"));
  CHECK(meta["config"]["seed"] == c.seed);
  CHECK(meta["counts"]["users"] == 50);
  std::string header;
  CHECK(static_cast<std::int64_t>(read_csv(dir / "events.csv", header).size()) == s.events);
}

TEST_CASE("a failed write leaves no files behind and names the problem", "[synthetic_writer]") {
  TempDir dir;
  driftrec::test::write_file(dir / "plain", "not a directory");
  const auto c = small_config(driftrec::test::test_seed());
  try {
    graph::write_synthetic(c, dir / "plain");
    FAIL("expected an driftrec::InputError");
  } catch (const driftrec::InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("--out") && Catch::Contains("plain"));
  }
  auto bad = c;
  bad.labelled_fraction = 2;
  CHECK_THROWS_AS(graph::write_synthetic(bad, dir / "never"), driftrec::InputError);
  CHECK(!std::filesystem::exists(dir / "never"));
  CHECK(listing(dir.path()) == std::vector<std::string>{"plain"});
}

TEST_CASE("the progress callback sees users and events grow to the totals",
          "[synthetic_writer]") {
  TempDir dir;
  const auto c = small_config(driftrec::test::test_seed());
  std::vector<graph::SyntheticProgress> seen;
  const auto s = graph::write_synthetic(
      c, dir.path(), [&](const graph::SyntheticProgress& p) { seen.push_back(p); });
  REQUIRE(seen.size() >= 2);
  for (std::size_t k = 1; k < seen.size(); ++k) {
    CHECK(seen[k].users_done > seen[k - 1].users_done);
    CHECK(seen[k].events >= seen[k - 1].events);
  }
  CHECK(seen.back().users_done == c.users);
  CHECK(seen.back().users_total == c.users);
  CHECK(seen.back().events == s.events);
  CHECK(s.events_per_second() > 0);
  CHECK(s.megabytes_per_second() > 0);
}

TEST_CASE("an exception from the progress callback stops the writing and comes out with its type",
          "[synthetic_writer]") {
  // The callback runs inside the writer's parallel region, once per block in block order.
  for (int threads : {1, 2}) {
    INFO(threads << " threads");
    TempDir dir;
    const auto c = small_config(driftrec::test::test_seed());
    int calls = 0;
    auto write = [&] {
      graph::write_synthetic(c, dir / "out", [&](const graph::SyntheticProgress& p) {
        ++calls;  // the ordered region: one call at a time
        if (calls == 2) throw InputError(fmt::format("stopped at {} users", p.users_done));
      }, threads);
    };
    CHECK_THROWS_MATCHES(write(), InputError, Catch::Matchers::Predicate<InputError>(
                                                  [](const InputError& e) {
                                                    return std::string(e.what()).rfind("stopped at ", 0) == 0;
                                                  },
                                                  "the callback's message"));
    CHECK(calls == 2);  // no block is written after the failure
    CHECK(listing(dir / "out").empty());  // nothing committed, no temporaries left
  }
}

TEST_CASE("write_synthetic refuses a negative thread count naming threads and writes nothing",
          "[synthetic_writer]") {
  TempDir dir;
  const auto c = small_config(1);
  CHECK_THROWS_WITH(graph::write_synthetic(c, dir / "out", {}, -1), Catch::Contains("threads"));
  CHECK(!std::filesystem::exists(dir / "out"));  // refused before the folder is made
}
