// Tests for io/ingest: the report, the choice of aggregation, skip mode, and that a failed
// ingest (bad events, bad labels, existing target) leaves the target folder as it was;
// ingest_columns against ingesting the same data from CSV.
#include "io/ingest.hpp"

#include <omp.h>

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <limits>
#include <random>
#include <set>
#include <string>

#include "core/error.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::read_file;
using driftrec::test::dir_entries;
using driftrec::test::check_same_store;
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

// ---- ingest_columns: the same data from memory gives the same store ----

namespace {

// A random log with string users, integer items, values and labels, in random order.
struct RandomLog {
  std::vector<std::string> users;
  std::vector<std::int64_t> items;
  std::vector<graph::Time> times;
  std::vector<double> values;
  std::vector<std::int64_t> label_items;
  std::vector<std::string> labels;
  std::vector<float> weights;

  explicit RandomLog(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> user(0, 40), item(0, 60), label(0, 5);
    std::uniform_int_distribution<graph::Time> time(1500000000, 1500000000 + 200 * 86400);
    std::uniform_real_distribution<float> value(0.5f, 5.0f);
    for (int e = 0; e < 800; ++e) {
      users.push_back(fmt::format("user-{}", user(rng)));
      items.push_back(1000 + item(rng) * 7);
      times.push_back(time(rng));
      values.push_back(value(rng));
    }
    // Labels name some items without events (ignored) and repeat some pairs (first kept).
    for (int k = 0; k < 120; ++k) {
      label_items.push_back(1000 + item(rng) * 7 + (k % 10 == 0 ? 3 : 0));
      labels.push_back(fmt::format("genre {}", label(rng)));
      weights.push_back(value(rng));
    }
  }
  std::string events_csv() const {
    std::string s = "user,item,rating,time\n";
    for (std::size_t e = 0; e < users.size(); ++e)
      s += fmt::format("{},{},{},{}\n", users[e], items[e], values[e], times[e]);
    return s;
  }
  std::string labels_csv() const {
    std::string s = "item,label,weight\n";
    for (std::size_t k = 0; k < labels.size(); ++k) s += fmt::format("{},{},{}\n", label_items[k], labels[k], weights[k]);
    return s;
  }
  EventColumnsIn event_columns(bool with_values) const {
    EventColumnsIn in;
    for (const auto& u : users) in.user.strings.push_back(u);
    in.item.integers = items;
    in.item.is_integer = true;
    in.time = times;
    if (with_values) in.value = values;
    return in;
  }
  LabelColumnsIn label_columns() const {
    LabelColumnsIn in;
    in.item.integers = label_items;
    in.item.is_integer = true;
    for (const auto& l : labels) in.label.strings.push_back(l);
    in.weight = weights;
    return in;
  }
};

}  // namespace

TEST_CASE("ingest_columns writes the store that ingesting the same data from CSV writes",
          "[ingest][ingest_columns]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const RandomLog log(seed);
  Fixture f;
  const bool with_values = GENERATE(true, false);
  CAPTURE(with_values);
  std::string csv = log.events_csv();
  if (!with_values) {  // the same log without its rating column
    csv = "user,item,time\n";
    for (std::size_t e = 0; e < log.users.size(); ++e)
      csv += fmt::format("{},{},{}\n", log.users[e], log.items[e], log.times[e]);
  }
  IngestOptions file_opts = f.opts(csv, log.labels_csv());
  file_opts.slicing = graph::Slicing::parse("week");
  const IngestReport from_file = ingest(file_opts);

  ColumnIngestOptions col_opts;
  col_opts.slicing = file_opts.slicing;
  col_opts.output = (f.out / "columns.h5").string();
  const EventColumnsIn events = log.event_columns(with_values);
  const LabelColumnsIn labels = log.label_columns();
  const IngestReport from_columns = ingest_columns(events, &labels, col_opts);

  CHECK(from_columns.users == from_file.users);
  CHECK(from_columns.items == from_file.items);
  CHECK(from_columns.labels == from_file.labels);
  CHECK(from_columns.labelled_items == from_file.labelled_items);
  CHECK(from_columns.events == from_file.events);
  CHECK(from_columns.slices == from_file.slices);
  CHECK(from_columns.aggregate == (with_values ? "sum" : "count"));
  CHECK(from_columns.aggregate == from_file.aggregate);
  CHECK(from_columns.label_rows_unknown_items == from_file.label_rows_unknown_items);
  CHECK(from_columns.label_rows_unknown_items > 0);
  CHECK(from_columns.label_pairs_repeated == from_file.label_pairs_repeated);
  check_same_store(from_file.output, from_columns.output);
}

namespace {

// Four events a day apart with string ids, and the options writing them to out/s.h5.
struct SmallColumns {
  std::vector<std::string_view> users{"u1", "u2", "u3", "u4"}, items{"a", "b", "c", "d"};
  std::vector<graph::Time> times{86400, 86401, 86402, 86403};
  std::vector<double> values{1, 2, 3, 4};
  EventColumnsIn columns() const {
    EventColumnsIn in;
    in.user.strings = users;
    in.item.strings = items;
    in.time = times;
    in.value = values;
    return in;
  }
  static ColumnIngestOptions options(const TempDir& out) {
    ColumnIngestOptions o;
    o.slicing = graph::Slicing::parse("day");
    o.output = (out / "s.h5").string();
    return o;
  }
};

}  // namespace

TEST_CASE("ingest_columns names the column and row of a bad value and writes nothing",
          "[ingest][ingest_columns]") {
  Fixture f;
  SmallColumns c;
  std::vector<std::int64_t> users{1, 2, 3, 4};
  EventColumnsIn in = c.columns();
  in.user.strings.clear();
  in.user.integers = users;  // integer ids are checked alike
  in.user.is_integer = true;
  const ColumnIngestOptions o = SmallColumns::options(f.out);
  auto error_of = [&](const EventColumnsIn& e, const LabelColumnsIn* l = nullptr) -> std::string {
    try {
      ingest_columns(e, l, o);
    } catch (const InputError& err) {
      return err.what();
    }
    FAIL("expected ingest_columns to throw InputError");
    return {};
  };
  SECTION("a non-finite value") {
    c.values[1] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THAT(error_of(in), Catch::Contains("value[1]") && Catch::Contains("finite"));
  }
  SECTION("an empty item id") {
    in.item.strings[2] = "";
    CHECK_THAT(error_of(in), Catch::Contains("item[2]") && Catch::Contains("non-empty id"));
  }
  SECTION("a time out of range") {
    c.times[0] = -3000000000LL;
    CHECK_THAT(error_of(in), Catch::Contains("time[0]") && Catch::Contains("1900-01-01"));
  }
  SECTION("columns of different lengths") {
    in.time = std::span<const graph::Time>(c.times).first(2);
    CHECK_THAT(error_of(in), Catch::Contains("differ in length") && Catch::Contains("time 2"));
  }
  SECTION("no rows") {
    EventColumnsIn empty;
    CHECK_THAT(error_of(empty), Catch::Contains("no valid events"));
  }
  SECTION("labels naming no item with events") {
    std::vector<std::string_view> li{"x"}, ll{"genre"};
    LabelColumnsIn labels;
    labels.item.strings = li;
    labels.label.strings = ll;
    CHECK_THAT(error_of(in, &labels), Catch::Contains("labels") && Catch::Contains("none of its 1 rows"));
  }
  SECTION("a label weight that is not positive") {
    std::vector<std::string_view> li{"a"}, ll{"genre"};
    std::vector<float> w{0.0f};
    LabelColumnsIn labels;
    labels.item.strings = li;
    labels.label.strings = ll;
    labels.weight = w;
    CHECK_THAT(error_of(in, &labels), Catch::Contains("weight[0]") && Catch::Contains("positive"));
  }
  CHECK(dir_entries(f.out.path()).empty());
}

TEST_CASE("ingest_columns with on_error=skip keeps good rows and counts bad ones",
          "[ingest][ingest_columns]") {
  Fixture f;
  SmallColumns c;
  c.users[1] = "";
  c.values[2] = std::numeric_limits<float>::infinity();
  ColumnIngestOptions o = SmallColumns::options(f.out);
  o.on_error = OnError::skip;
  const EventColumnsIn in = c.columns();
  const IngestReport r = ingest_columns(in, nullptr, o);
  CHECK(r.events == 2);
  CHECK(r.skipped_events.total() == 2);
  CHECK(r.skipped_events.reasons().at("bad user").second == "row 1");
  CHECK(r.skipped_events.reasons().at("bad value").second == "row 2");
  CHECK(Store::open(r.output).users() == std::vector<std::string>{"u1", "u4"});
}

// ---- threads: the count travels in the options, and the store is the same for any ----

namespace {

// Over two chunks (2^18 elements) per event column, so the chunk compression runs on
// several threads when given them.
struct LargeColumns {
  std::vector<std::int64_t> users, items;
  std::vector<graph::Time> times;
  std::vector<double> values;
  explicit LargeColumns(std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int64_t> user(0, 5000), item(0, 3000);
    std::uniform_int_distribution<graph::Time> time(1500000000, 1500000000 + 100 * 86400);
    std::uniform_real_distribution<float> value(0.5f, 5.0f);
    for (int e = 0; e < 600000; ++e) {
      users.push_back(user(rng));
      items.push_back(item(rng));
      times.push_back(time(rng));
      values.push_back(value(rng));
    }
  }
  EventColumnsIn columns() const {
    EventColumnsIn in;
    in.user.integers = users;
    in.user.is_integer = true;
    in.item.integers = items;
    in.item.is_integer = true;
    in.time = times;
    in.value = values;
    return in;
  }
};

}  // namespace

TEST_CASE("ingest_columns and reslice write the same store for 1 and 2 threads and leave OpenMP's setting alone",
          "[ingest][threads]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const LargeColumns log(seed);
  TempDir dir;
  const int before = omp_get_max_threads();
  ColumnIngestOptions o;
  o.slicing = graph::Slicing::parse("week");
  for (int threads : {1, 2}) {
    o.threads = threads;
    o.output = (dir / fmt::format("t{}.h5", threads)).string();
    ingest_columns(log.columns(), nullptr, o);
    CHECK(omp_get_max_threads() == before);  // the library set no OpenMP default
  }
  check_same_store((dir / "t1.h5").string(), (dir / "t2.h5").string());

  for (int threads : {1, 2}) {
    reslice((dir / fmt::format("t{}.h5", threads)).string(), graph::Slicing::parse("day"), "count", {}, threads);
    CHECK(omp_get_max_threads() == before);
  }
  check_same_store((dir / "t1.h5").string(), (dir / "t2.h5").string());
  CHECK(Store::open((dir / "t1.h5").string()).slicing() == "day");
}

TEST_CASE("ingest from files writes the same store for 1 and 2 threads", "[ingest][threads]") {
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  const RandomLog log(seed);
  Fixture f;
  IngestOptions o = f.opts(log.events_csv(), log.labels_csv());
  o.threads = 1;
  ingest(o);
  o.threads = 2;
  o.output = (f.out / "two.h5").string();
  ingest(o);
  check_same_store((f.out / "store.h5").string(), o.output);
}

TEST_CASE("ingest, ingest_columns and reslice refuse a negative thread count naming threads",
          "[ingest][threads]") {
  Fixture f;
  IngestOptions o = f.opts("user,item,time\nu1,a,86400\n");
  o.threads = -1;
  CHECK_THROWS_WITH(ingest(o), Catch::Contains("threads") && Catch::Contains("-1"));
  CHECK(dir_entries(f.out.path()).empty());

  const std::vector<std::string_view> ids{"u1"};
  const std::vector<graph::Time> times{86400};
  EventColumnsIn in;
  in.user.strings = ids;
  in.item.strings = ids;
  in.time = times;
  ColumnIngestOptions co;
  co.slicing = graph::Slicing::parse("day");
  co.output = (f.out / "columns.h5").string();
  co.threads = -1;
  CHECK_THROWS_WITH(ingest_columns(in, nullptr, co), Catch::Contains("threads"));
  CHECK(dir_entries(f.out.path()).empty());

  co.threads = 0;
  ingest_columns(in, nullptr, co);
  CHECK_THROWS_AS(reslice(co.output, graph::Slicing::parse("week"), "keep", {}, -1), InputError);
  CHECK_THROWS_WITH(reslice(co.output, graph::Slicing::parse("week"), "keep", {}, -1), Catch::Contains("threads"));
  CHECK(Store::open(co.output).slicing() == "day");  // untouched
}

TEST_CASE("ingest refuses values whose sum in one slice entry is beyond float32, naming user, item and period",
          "[ingest][values]") {
  Fixture f;
  // u1 x i1 twice on day 1: 3e38 + 3e38 would be stored as inf; on days 1 and 2 each entry fits.
  IngestOptions o = f.opts("user,item,time,rating\nu0,i0,86400,1\nu1,i1,86401,3e38\nu1,i1,86402,3e38\nu1,i2,86403,1\n");
  try {
    ingest(o);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("user 'u1', item 'i1' in period 0") && Catch::Contains("1970-01-02T00:00:00Z") &&
                   Catch::Contains("2 events sum to 6e+38") && Catch::Contains("float32") &&
                   Catch::Contains("--aggregate count"));
  }
  CHECK(dir_entries(f.out.path()).empty());
  // Values whose magnitudes sum beyond float32 keep the id maps through the sort (for the
  // message above) and write the tables after it: the same store as the usual order.
  o = f.opts("user,item,time,rating\nu2,i2,172802,1\nu1,i1,86401,3e38\nu1,i1,172801,3e38\n");
  CHECK(ingest(o).slices == 2);
  {
    Store s = Store::open(o.output);
    CHECK(s.users() == std::vector<std::string>{"u2", "u1"});
    CHECK(s.items() == std::vector<std::string>{"i2", "i1"});
    CHECK(s.events().user == std::vector<Index>{1, 1, 0});
    CHECK(s.events().value == std::vector<float>{3e38f, 3e38f, 1.0f});
    CHECK(s.slice(1).data == std::vector<float>{1.0f, 3e38f});
  }
  // Counting the events instead cannot overflow.
  o = f.opts("user,item,time,rating\nu1,i1,86401,3e38\nu1,i1,86402,3e38\n");
  o.overwrite = true;
  o.aggregate = "count";
  CHECK(ingest(o).events == 2);
}

TEST_CASE("ingest reports the negative values it dropped or clipped, also as JSON", "[ingest][values]") {
  Fixture f;
  IngestOptions o = f.opts("user,item,time,rating\nu1,i1,86400,2\nu2,i1,86401,-1\nu3,i2,86402,-2\n");
  CHECK_THROWS_WITH(ingest(o), Catch::Contains("events.csv:3") && Catch::Contains("--negative"));
  o.events.negative = NegativeValues::clip;
  IngestReport r = ingest(o);
  CHECK(r.events == 3);
  CHECK(r.negative_clipped == 2);
  CHECK(r.to_json()["negative_values"]["clipped"] == 2);
  o.events.negative = NegativeValues::drop;
  o.overwrite = true;
  r = ingest(o);
  CHECK(r.events == 1);
  CHECK(r.negative_dropped == 2);
  CHECK(r.to_json()["negative_values"]["dropped"] == 2);
}

TEST_CASE("ingest_columns checks values with the file's rule: negative, float32's limit, drop and clip",
          "[ingest][ingest_columns][values]") {
  Fixture f;
  SmallColumns c;
  ColumnIngestOptions o = SmallColumns::options(f.out);
  c.values[2] = -3;
  CHECK_THROWS_WITH(ingest_columns(c.columns(), nullptr, o),
                    Catch::Contains("value[2]") && Catch::Contains(">= 0") && Catch::Contains("--negative"));
  c.values[2] = 1e40;
  CHECK_THROWS_WITH(ingest_columns(c.columns(), nullptr, o),
                    Catch::Contains("value[2]") && Catch::Contains("at most 3.4028235e+38"));
  c.values[2] = -3;
  o.negative = NegativeValues::drop;
  IngestReport r = ingest_columns(c.columns(), nullptr, o);
  CHECK(r.events == 3);
  CHECK(r.negative_dropped == 1);
  o.negative = NegativeValues::clip;
  o.overwrite = true;
  r = ingest_columns(c.columns(), nullptr, o);
  CHECK(r.events == 4);
  CHECK(r.negative_clipped == 1);
  CHECK(Store::open(o.output).events().value[2] == 0.0f);
}
