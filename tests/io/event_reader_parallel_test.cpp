// read_events_parallel (ingest's reader) against read_events, the serial reader, on random
// logs: string and integer ids (short and long), unsorted and repeated times in each time
// format, values with negatives under --negative drop/clip, blank lines, \r\n, a byte order
// mark; the same ids in the same order, the same events in the same order, the same notes.
// Then ingest end to end against a store written from read_events + std::stable_sort, and
// the files it must leave to read_events (bad lines), which then behave as before.
#include "io/event_reader.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <random>
#include <string>

#include "io/ingest.hpp"
#include "io/label_reader.hpp"
#include "io/store.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using namespace driftrec::io;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {

struct RandomLog {
  std::string text;
  EventReadOptions opts;
};

RandomLog random_log(std::mt19937_64& rng, std::size_t lines) {
  RandomLog r;
  const int id_kind = static_cast<int>(rng() % 4);    // "u12" | 12 | a long id | a mix
  const int time_kind = static_cast<int>(rng() % 3);  // seconds | millis | iso
  const bool with_value = rng() % 3 != 0;
  const bool time_first = rng() % 2 == 0;
  const bool crlf = rng() % 4 == 0;
  const auto users = 1 + rng() % 300, items = 1 + rng() % 100;
  const std::string eol = crlf ? "\r\n" : "\n";
  auto id = [&](const char* prefix, std::uint64_t k) {
    if (id_kind == 1) return fmt::format("{}", k);
    if (id_kind == 2) return fmt::format("{}-long-identifier-{}", prefix, k);
    if (id_kind == 3) {  // numbered ids beside ids that only look numbered
      switch (rng() % 6) {
        case 0: return fmt::format("{}0{}", prefix, k);  // a leading zero: another id
        case 1: return fmt::format("x{}", k);
        case 2: return fmt::format("{}", k);
        case 3: return fmt::format("{}{}a", prefix, k);
        case 4: return fmt::format("{}{}", prefix, k + 5000000);  // beyond the dense table
        default: return fmt::format("{}{}", prefix, k);
      }
    }
    return fmt::format("{}{}", prefix, k);
  };
  if (rng() % 5 == 0) r.text += "\xEF\xBB\xBF";
  r.text += time_first ? "time,user,item" : "user,item,time";
  r.text += with_value ? ",value" + eol : eol;
  const std::int64_t base = 1500000000;
  for (std::size_t k = 0; k < lines; ++k) {
    if (rng() % 50 == 0) r.text += rng() % 2 ? eol : "  " + eol;  // blank lines are skipped
    const std::int64_t t = base + static_cast<std::int64_t>(rng() % (time_kind == 2 ? 4000 : 200)) * 86400 / (time_kind == 2 ? 1 : 50);
    std::string time = time_kind == 0 ? fmt::format("{}", t)
                       : time_kind == 1 ? fmt::format("{}", t * 1000 + static_cast<std::int64_t>(rng() % 1000))
                                        : fmt::format("2020-{:02d}-{:02d}", 1 + rng() % 12, 1 + rng() % 28);
    const std::string u = id("u", rng() % users), i = id("i", rng() % items);
    r.text += time_first ? time + "," + u + "," + i : u + "," + i + "," + time;
    if (with_value) {
      const double v = static_cast<double>(static_cast<std::int64_t>(rng() % 2000) - 100) / 8.0;
      r.text += fmt::format(",{}", v);
    }
    r.text += eol;
  }
  r.opts.negative = rng() % 2 ? NegativeValues::drop : NegativeValues::clip;
  return r;
}

void check_same_log(const EventLog& serial, const EventLog& par, const graph::EventColumns& cols) {
  REQUIRE(par.users.names() == serial.users.names());
  REQUIRE(par.items.names() == serial.items.names());
  REQUIRE(par.notes == serial.notes);
  REQUIRE(par.has_value == serial.has_value);
  REQUIRE(par.negative_dropped == serial.negative_dropped);
  REQUIRE(par.negative_clipped == serial.negative_clipped);
  REQUIRE(cols.size() == serial.events.size());
  for (std::size_t k = 0; k < cols.size(); ++k) {
    const graph::Event& e = serial.events[k];
    REQUIRE(cols.time[k] == e.time);
    REQUIRE(cols.user[k] == e.user);
    REQUIRE(cols.item[k] == e.item);
    REQUIRE(cols.value[k] == e.value);
  }
}

}  // namespace

TEST_CASE("read_events_parallel reads random logs as read_events does, on any thread count", "[io][event_reader][parallel]") {
  const auto seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  for (int round = 0; round < 40; ++round) {
    const RandomLog log = random_log(rng, 1 + rng() % 3000);
    const std::string a = (dir / "a.csv").string(), b = (dir / "b.csv").string();
    write_file(a, log.text);
    write_file(b, random_log(rng, 1 + rng() % 500).text);
    for (const int threads : {1, 2, 3}) {
      CAPTURE(seed, round, threads, log.text.substr(0, 200));
      EventLog serial;
      read_events(a, log.opts, serial);
      EventLog par;
      graph::EventColumns cols;
      REQUIRE(read_events_parallel(a, log.opts, threads, par, cols, 1));
      check_same_log(serial, par, cols);
      // A second file extends the ids and rows of the first, as read_events does. The
      // second file's own options: its negative values are all dropped or clipped alike.
      EventReadOptions second = log.opts;
      read_events(b, second, serial);
      REQUIRE(read_events_parallel(b, second, threads, par, cols, 1));
      check_same_log(serial, par, cols);
    }
  }
}

TEST_CASE("read_events_parallel leaves a file with a line to report or skip to read_events, untouched", "[io][event_reader][parallel]") {
  TempDir dir;
  const std::string path = (dir / "e.csv").string();
  const std::string good = "user,item,time\nu1,i1,100\nu2,i2,101\n";
  for (const std::string bad : {"u3,,102\n", "u3,i3\n", "u3,i3,soon\n", "user,item,time\n", "u3,i3,2020-01-01\n",
                                "\"u3,i3,102\n"}) {
    CAPTURE(bad);
    write_file(path, good + bad + "u4,i4,103\n");
    EventLog log;
    graph::EventColumns cols;
    REQUIRE_FALSE(read_events_parallel(path, {}, 2, log, cols, 1));
    CHECK(log.users.size() == 0);
    CHECK(log.items.size() == 0);
    CHECK(log.notes.empty());
    CHECK(cols.size() == 0);
  }
  write_file(path, "u1::i1::5::100\n");  // "::" is read_events' alone
  EventLog log;
  graph::EventColumns cols;
  CHECK_FALSE(read_events_parallel(path, {}, 2, log, cols, 1));
}

// The store of `ingest` against one written from read_events, std::stable_sort and
// write_store: the store ingest wrote before it read in parallel and sorted columns.
TEST_CASE("ingest writes the store of the serial reader and a stable sort, on random logs", "[io][ingest][parallel]") {
  const auto seed = driftrec::test::test_seed();
  std::mt19937_64 rng(seed);
  TempDir dir;
  // Past 8 MB the file is read in parts; small files check labels, titles and skips.
  for (const std::size_t lines : {std::size_t{2000}, std::size_t{5000}, std::size_t{400000}}) {
    for (const bool skip_bad : {false, true}) {
      CAPTURE(seed, lines, skip_bad);
      RandomLog log = random_log(rng, lines);
      if (skip_bad) {
        log.text += "u1,i1\n";  // not a whole event: skipped by read_events
        log.opts.on_error = OnError::skip;
      }
      const std::string events = (dir / "events.csv").string(), labels = (dir / "labels.csv").string();
      write_file(events, log.text);
      EventLog ref;
      read_events(events, log.opts, ref);
      // Labels for items the log has (and one it has not), whatever its ids look like.
      const auto item = [&](Index k) { return std::string(ref.items.name(k % ref.items.size())); };
      write_file(labels, fmt::format("item,label,title\n{0},x,T{0}\n{1},y,T{1}\n{2},x,T{2}\nnot-an-item,z,Three\n",
                                     item(0), item(1), item(2)));
      IngestOptions o;
      o.event_files = {events};
      o.events = log.opts;
      o.labels_file = labels;
      o.slicing = graph::Slicing::parse("week");
      o.output = (dir / "new.h5").string();
      o.overwrite = true;
      o.threads = 2;
      const IngestReport r = ingest(o);

      ItemLabels item_labels;
      read_labels(labels, {}, ref.items, item_labels);
      std::stable_sort(ref.events.begin(), ref.events.end(), graph::event_before);
      StoreContent c;
      c.users = ref.users.names();
      c.items = ref.items.names();
      c.item_titles = item_labels.titles;
      c.labels = item_labels.labels.names();
      c.item_labels = item_label_matrix(item_labels, ref.items.size());
      c.events = graph::to_columns(std::move(ref.events));
      {
        StoreWriter w((dir / "ref.h5").string(), true, 1);
        write_store(w, c, o.slicing, ref.has_value ? graph::Aggregate::sum : graph::Aggregate::count);
        w.commit();
      }
      CHECK(r.notes == [&] {
        std::vector<std::string> n = ref.notes;
        if (ref.negative_dropped > 0) n.push_back(fmt::format("{} events with a negative value dropped (--negative drop)", ref.negative_dropped));
        if (ref.negative_clipped > 0) n.push_back(fmt::format("{} negative values clipped to 0 (--negative clip)", ref.negative_clipped));
        n.insert(n.end(), item_labels.notes.begin(), item_labels.notes.end());
        return n;
      }());
      CHECK(r.skipped_events.empty() == !skip_bad);
      driftrec::test::check_same_store((dir / "ref.h5").string(), o.output);
    }
  }
}
