// Tests for io/event_reader through read_events: the MovieLens formats, delimited files
// with columns named by header or position, the three time formats, and every kind of bad
// line, in fail mode (one driftrec::InputError naming file, line and field) and skip mode (counts per
// reason, good lines kept).
#include "io/event_reader.hpp"

#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/test_util.hpp"

using namespace driftrec::io;
using driftrec::graph::Event;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {

struct Ev {
  std::string user, item;
  driftrec::graph::Time time;
  float value;
  bool operator==(const Ev&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
  return os << "{" << e.user << "," << e.item << "," << e.time << "," << e.value << "}";
}

std::vector<Ev> events_of(const EventLog& log) {
  std::vector<Ev> out;
  for (const Event& e : log.events)
    out.push_back({std::string(log.users.name(e.user)), std::string(log.items.name(e.item)), e.time,
                   e.value});
  return out;
}

EventLog read_text(const TempDir& dir, const std::string& name, const std::string& content,
                   const EventReadOptions& o = {}) {
  write_file(dir / name, content);
  EventLog log;
  read_events((dir / name).string(), o, log);
  return log;
}

// The message of the driftrec::InputError that reading `content` as `name` throws.
std::string error_of(const TempDir& dir, const std::string& name, const std::string& content,
                     const EventReadOptions& o = {}) {
  try {
    read_text(dir, name, content, o);
  } catch (const driftrec::InputError& e) {
    return e.what();
  }
  FAIL("expected an driftrec::InputError for " << name);
  return {};
}

const std::string kMlHeader = "userId,movieId,rating,timestamp\n";

bool has_note(const EventLog& log, const std::string& part) {
  for (const auto& n : log.notes)
    if (n.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("read_events reads a MovieLens ratings.csv with its header", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "ratings.csv",
                       kMlHeader + "1,31,2.5,1260759144\n1,1029,3.0,1260759179\n7,31,4.5,851866703\n");
  CHECK(events_of(log) == std::vector<Ev>{{"1", "31", 1260759144, 2.5f},
                                          {"1", "1029", 1260759179, 3.0f},
                                          {"7", "31", 851866703, 4.5f}});
  CHECK(log.users.names() == std::vector<std::string>{"1", "7"});
  CHECK(log.items.names() == std::vector<std::string>{"31", "1029"});
  CHECK(log.has_value);
  CHECK(log.skipped.empty());
  CHECK(has_note(log, "format movielens-csv"));
}

TEST_CASE("read_events reads ratings.csv with a BOM and CRLF line ends", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "ratings.csv",
                       "\xEF\xBB\xBFuserId,movieId,rating,timestamp\r\n1,31,2.5,1260759144\r\n");
  CHECK(events_of(log) == std::vector<Ev>{{"1", "31", 1260759144, 2.5f}});
}

TEST_CASE("read_events reads MovieLens ratings.dat with '::' separators", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "ratings.dat",
                       "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
  CHECK(events_of(log) == std::vector<Ev>{{"1", "1193", 978300760, 5.0f},
                                          {"1", "661", 978302109, 3.0f},
                                          {"2", "1193", 978298413, 4.0f}});
  CHECK(has_note(log, "format movielens-dat"));
}

TEST_CASE("read_events recognises '::' files under another name", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "ml1m.txt", "1::1193::5::978300760\n");
  CHECK(events_of(log) == std::vector<Ev>{{"1", "1193", 978300760, 5.0f}});
}

TEST_CASE("read_events reads MovieLens 100K u.data (tab separated without header)", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n");
  CHECK(events_of(log) == std::vector<Ev>{{"196", "242", 881250949, 3.0f},
                                          {"186", "302", 891717742, 3.0f}});
  CHECK(has_note(log, "format ml100k"));
}

TEST_CASE("read_events finds the user/item/time/value columns from header synonyms",
          "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "plays.tsv",
                       "ts\tplays\tcustomer_id\ttrack_id\n1537799250\t3\tc1\tt9\n");
  CHECK(events_of(log) == std::vector<Ev>{{"c1", "t9", 1537799250, 3.0f}});
  CHECK(log.has_value);
}

TEST_CASE("read_events takes --columns by header name in key=value and short form",
          "[event_reader]") {
  TempDir dir;
  const std::string text = "when;person;thing\n2018-09-24T14:27:30Z;alice;song1\n"
                           "2018-09-24T16:27:30+02:00;bob;song1\n";
  const std::vector<Ev> expected{{"alice", "song1", 1537799250, 1.0f},
                                 {"bob", "song1", 1537799250, 1.0f}};
  EventReadOptions o;
  SECTION("keyed") {
    o.columns = "user=person,item=thing,time=when";
    auto log = read_text(dir, "log.txt", text, o);
    CHECK(events_of(log) == expected);
    CHECK_FALSE(log.has_value);
    CHECK(has_note(log, "ISO-8601"));
  }
  SECTION("short form user,item,time") {
    o.columns = "person,thing,when";
    CHECK(events_of(read_text(dir, "log.txt", text, o)) == expected);
  }
}

TEST_CASE("read_events takes --columns by 1-based position in a file without header",
          "[event_reader]") {
  TempDir dir;
  const std::string text = "1537799250|alice|song1|0.5\n1537799260|bob|song2|2\n";
  const std::vector<Ev> expected{{"alice", "song1", 1537799250, 0.5f},
                                 {"bob", "song2", 1537799260, 2.0f}};
  EventReadOptions o;
  o.columns = "user=2,item=3,time=1,value=4";
  SECTION("header auto") { CHECK(events_of(read_text(dir, "log.psv", text, o)) == expected); }
  SECTION("header no") {
    o.header = "no";
    CHECK(events_of(read_text(dir, "log.psv", text, o)) == expected);
  }
  SECTION("short form") {
    o.columns = "2,3,1,4";
    CHECK(events_of(read_text(dir, "log.psv", text, o)) == expected);
  }
  SECTION("with a header, positions still count from 1") {
    o.header = "yes";
    CHECK(events_of(read_text(dir, "log.psv", "a|b|c|d\n" + text, o)) == expected);
  }
}

TEST_CASE("read_events does not take a first data line for a header because an id occurs "
          "inside the --columns text",
          "[event_reader]") {
  // "tim" is a substring of "time=1": the first line must still be read as data.
  TempDir dir;
  EventReadOptions o;
  o.columns = "user=2,item=3,time=1";
  auto log = read_text(dir, "log.csv", "1537799250,tim,song1\n1537799260,ann,song2\n", o);
  CHECK(events_of(log) == std::vector<Ev>{{"tim", "song1", 1537799250, 1.0f},
                                          {"ann", "song2", 1537799260, 1.0f}});
}

TEST_CASE("read_events detects seconds or milliseconds or ISO times from the first row",
          "[event_reader]") {
  TempDir dir;
  SECTION("seconds") {
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,1537799250\n");
    CHECK(log.events.at(0).time == 1537799250);
    CHECK(has_note(log, "Unix seconds"));
  }
  SECTION("milliseconds, floored") {
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,1537799250999\nu,i,1537799251500\n");
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[0].time == 1537799250);
    CHECK(log.events[1].time == 1537799251);
    CHECK(has_note(log, "Unix milliseconds"));
    // -1500 alone looks like seconds: with other milliseconds it takes --time-format millis.
    EventReadOptions o;
    o.time_format = TimeFormat::millis;
    log = read_text(dir, "f.csv", "user,item,time\nu,i,1537799250999\nu,i,-1500\n", o);
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[1].time == -2);
  }
  SECTION("ISO dates and date-times") {
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,2018-09-24\nu,i,2018-09-24 14:27:30\n");
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[0].time == 1537747200);
    CHECK(log.events[1].time == 1537799250);
  }
  SECTION("an explicit format overrides detection") {
    EventReadOptions o;
    o.time_format = TimeFormat::millis;
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,1537799250\n", o);
    CHECK(log.events.at(0).time == 1537799);
  }
}

TEST_CASE("read_events refuses times in two formats naming both lines, their values and the --time-format values",
          "[event_reader][time_detection]") {
  TempDir dir;
  SECTION("a first row in milliseconds, the rest in seconds") {
    auto msg = error_of(dir, "f.csv", "user,item,time\nu,i,1537799250000\nu,i,1537799251\nu,i,1537799252\n");
    CHECK_THAT(msg, Catch::Contains("f.csv:2 has '1537799250000'") && Catch::Contains("milliseconds") &&
                        Catch::Contains("f.csv:3 has '1537799251'") && Catch::Contains("seconds") &&
                        Catch::Contains("--time-format millis") && Catch::Contains("--time-format seconds"));
  }
  SECTION("seconds, then a millisecond value far down the file") {
    std::string text = "user,item,time\n";
    for (int k = 0; k < 300; ++k) text += fmt::format("u{},i,{}\n", k, 1537799250 + k);
    text += "u,i,1537799250000\n";
    CHECK_THAT(error_of(dir, "f.csv", text),
               Catch::Contains("f.csv:2 has '1537799250'") && Catch::Contains("f.csv:302 has '1537799250000'"));
  }
  SECTION("an ISO first row is refused even with on_error=skip, not taken to make the rest bad lines") {
    EventReadOptions o;
    o.on_error = OnError::skip;
    std::string text = "user,item,time\nu0,i,2018-09-24\n";
    for (int k = 1; k < 200; ++k) text += fmt::format("u{},i,{}\n", k, 1537799250 + k);
    CHECK_THAT(error_of(dir, "f.csv", text, o),
               Catch::Contains("f.csv:2 has '2018-09-24'") && Catch::Contains("f.csv:3 has '1537799251'") &&
                   Catch::Contains("--time-format iso") && Catch::Contains("--time-format seconds"));
  }
  SECTION("an explicit --time-format reads every row in it, as before") {
    EventReadOptions o;
    o.time_format = TimeFormat::seconds;
    o.on_error = OnError::skip;
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,2018-09-24\nu,i,1537799251\nu,i,1537799252\n", o);
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[0].time == 1537799251);
    CHECK(log.skipped.total() == 1);
  }
  SECTION("one format throughout is read, and the note says every line was checked") {
    auto log = read_text(dir, "f.csv", "user,item,time\nu,i,1537799250000\nu,i,1537799251000\n");
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[1].time == 1537799251);
    CHECK(has_note(log, "every line checked"));
  }
}

TEST_CASE("read_events refuses a negative value naming file, line and field and the --negative choices",
          "[event_reader][values]") {
  TempDir dir;
  const std::string text = "user,item,time,rating\nu1,i1,1537799250,2\nu2,i1,1537799251,-1.5\nu3,i2,1537799252,3\n";
  SECTION("refused by default") {
    CHECK_THAT(error_of(dir, "f.csv", text),
               Catch::Contains("f.csv:3") && Catch::Contains("field 'rating'") && Catch::Contains("found '-1.5'") &&
                   Catch::Contains("--negative drop") && Catch::Contains("--negative clip"));
  }
  SECTION("drop skips the event and counts it") {
    EventReadOptions o;
    o.negative = NegativeValues::drop;
    auto log = read_text(dir, "f.csv", text, o);
    REQUIRE(log.events.size() == 2);
    CHECK(log.events[1].value == 3.0f);
    CHECK(log.negative_dropped == 1);
    CHECK(log.negative_clipped == 0);
  }
  SECTION("clip keeps the event with value 0 and counts it") {
    EventReadOptions o;
    o.negative = NegativeValues::clip;
    auto log = read_text(dir, "f.csv", text, o);
    REQUIRE(log.events.size() == 3);
    CHECK(log.events[1].value == 0.0f);
    CHECK(log.negative_clipped == 1);
    CHECK(log.negative_dropped == 0);
  }
}

TEST_CASE("read_events says float32's limit for a finite value beyond it", "[event_reader][values]") {
  TempDir dir;
  for (const std::string v : {"1e40", "-4e38", "1e400"}) {
    CAPTURE(v);
    const std::string msg = error_of(dir, "f.csv", "user,item,time,rating\nu1,i1,1537799250," + v + "\n");
    CHECK_THAT(msg, Catch::Contains("f.csv:2") && Catch::Contains("field 'rating'") &&
                        Catch::Contains("at most 3.4028235e+38") && Catch::Contains("float32"));
  }
  // The largest float32 itself is a value like any other.
  auto log = read_text(dir, "f.csv", "user,item,time,rating\nu1,i1,1537799250,3.4028235e38\n");
  CHECK(log.events.at(0).value == std::numeric_limits<float>::max());
  CHECK_THAT(error_of(dir, "f.csv", "user,item,time,rating\nu1,i1,1537799250,inf\n"),
             Catch::Contains("expected a finite number"));
}

TEST_CASE("check_value is the one rule for values: finite, within float32, negative as asked",
          "[event_reader][values]") {
  CHECK(check_value(2.5, NegativeValues::refuse).kind == ValueCheck::keep);
  CHECK(check_value(2.5, NegativeValues::refuse).value == 2.5f);
  CHECK(check_value(-0.0, NegativeValues::refuse).kind == ValueCheck::keep);
  CHECK(check_value(-1, NegativeValues::refuse).kind == ValueCheck::bad);
  CHECK(check_value(-1, NegativeValues::drop).kind == ValueCheck::drop);
  const ValueCheck clipped = check_value(-1, NegativeValues::clip);
  CHECK(clipped.kind == ValueCheck::keep);
  CHECK(clipped.value == 0.0f);
  CHECK(clipped.clipped);
  CHECK(check_value(1e39, NegativeValues::clip).kind == ValueCheck::bad);
  CHECK(check_value(std::numeric_limits<double>::quiet_NaN(), NegativeValues::drop).kind == ValueCheck::bad);
  CHECK_THROWS_WITH(parse_negative_values("zero"), Catch::Contains("--negative") && Catch::Contains("clip"));
}

TEST_CASE("read_events appends several files to one log with shared id maps", "[event_reader]") {
  TempDir dir;
  EventLog log;
  write_file(dir / "a.csv", kMlHeader + "1,10,4,100\n2,11,5,200\n");
  write_file(dir / "b.csv", "user,item,time\n2,12,300\n3,10,400\n");
  read_events((dir / "a.csv").string(), {}, log);
  CHECK(log.has_value);
  read_events((dir / "b.csv").string(), {}, log);
  CHECK_FALSE(log.has_value);  // b.csv has no value column
  CHECK(events_of(log) == std::vector<Ev>{{"1", "10", 100, 4.0f},
                                          {"2", "11", 200, 5.0f},
                                          {"2", "12", 300, 1.0f},
                                          {"3", "10", 400, 1.0f}});
  CHECK(log.users.size() == 3);
  CHECK(log.items.size() == 3);
  CHECK(log.events[3].item == log.events[0].item);
}

TEST_CASE("read_events keeps quoted fields whole with delimiters and quotes inside",
          "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "f.csv",
                       "user,item,time,rating\n\"Smith, J\",\"say \"\"hi\"\"\",\"100\",\"2\"\n");
  CHECK(events_of(log) == std::vector<Ev>{{"Smith, J", "say \"hi\"", 100, 2.0f}});
}

TEST_CASE("read_events skips blank lines and trims spaces around fields", "[event_reader]") {
  TempDir dir;
  auto log = read_text(dir, "f.csv", "\n" + kMlHeader + "\n 1 , 31 , 2.5 , 1260759144 \n\n");
  CHECK(events_of(log) == std::vector<Ev>{{"1", "31", 1260759144, 2.5f}});
}

TEST_CASE("read_events refuses an empty file naming it", "[event_reader]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "empty.csv", ""), Catch::Contains("empty.csv") && Catch::Contains("empty"));
  CHECK_THAT(error_of(dir, "blank.csv", "\n  \n\r\n"), Catch::Contains("blank.csv") && Catch::Contains("empty"));
}

TEST_CASE("read_events fails on each kind of bad line with file and line and field in one message",
          "[event_reader]") {
  TempDir dir;
  const std::string good = "1,31,2.5,1260759144\n";
  auto msg_for = [&](const std::string& bad_line) {
    return error_of(dir, "f.csv", kMlHeader + good + bad_line + "\n" + good);
  };
  SECTION("missing column") {
    auto m = msg_for("1,31,2.5");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("expected 4 fields") &&
                      Catch::Contains("found 3"));
  }
  SECTION("extra column") {
    auto m = msg_for("1,31,2.5,1260759144,x");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("expected 4 fields") &&
                      Catch::Contains("found 5"));
  }
  SECTION("bad number in the value") {
    auto m = msg_for("1,31,abc,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'rating'") &&
                      Catch::Contains("finite number") && Catch::Contains("'abc'"));
  }
  SECTION("nan value") {
    CHECK_THAT(msg_for("1,31,nan,1260759144"), Catch::Contains("f.csv:3") && Catch::Contains("'rating'"));
  }
  SECTION("bad time") {
    auto m = msg_for("1,31,2.5,yesterday");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'timestamp'") &&
                      Catch::Contains("Unix seconds") && Catch::Contains("'yesterday'"));
  }
  SECTION("time out of range") {
    auto m = msg_for("1,31,2.5,-2208988801");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'timestamp'") &&
                      Catch::Contains("1900-01-01"));
  }
  SECTION("duplicate header") {
    auto m = msg_for("userId,movieId,rating,timestamp");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("header"));
  }
  SECTION("non-UTF-8 bytes in a user id") {
    auto m = msg_for("ab\xFF,31,2.5,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'userId'") &&
                      Catch::Contains("UTF-8") && Catch::Contains("ab\\xff"));
  }
  SECTION("empty user id") {
    auto m = msg_for(",31,2.5,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'userId'") && Catch::Contains("non-empty"));
  }
  SECTION("empty item id") {
    auto m = msg_for("1,  ,2.5,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("'movieId'") && Catch::Contains("non-empty"));
  }
  SECTION("unterminated quote") {
    auto m = msg_for("\"1,31,2.5,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("quote"));
  }
  SECTION("very long line") {
    auto m = msg_for("1," + std::string(kMaxLineBytes + 10, '7') + ",2.5,1260759144");
    CHECK_THAT(m, Catch::Contains("f.csv:3") && Catch::Contains("longer than"));
  }
}

TEST_CASE("read_events names the rating field of ratings.dat and the time of an ISO column",
          "[event_reader]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "ratings.dat", "1::1193::5::978300760\n1::661::x::978302109\n"),
             Catch::Contains("ratings.dat:2") && Catch::Contains("'rating'"));
  CHECK_THAT(error_of(dir, "f.csv", "user,item,date\nu,i,2019-01-01\nu,i,2019-02-29\n"),
             Catch::Contains("f.csv:3") && Catch::Contains("'date'") && Catch::Contains("ISO-8601"));
  CHECK_THAT(error_of(dir, "f.csv", "user,item,date\nu,i,2019-01-01\nu,i,1899-12-31\n"),
             Catch::Contains("f.csv:3") && Catch::Contains("'date'") && Catch::Contains("1900-01-01"));
}

TEST_CASE("read_events rejects layouts it cannot resolve and says what to pass", "[event_reader]") {
  TempDir dir;
  EventReadOptions o;
  CHECK_THAT(error_of(dir, "f.csv", "a,b,c\n1,2,3\n"), Catch::Contains("--columns"));
  o.columns = "user=who,item=what,time=when";
  CHECK_THAT(error_of(dir, "f.csv", "who,what,at\n1,2,3\n", o), Catch::Contains("'when'"));
  o.columns = "user=1,item=2,time=9";
  CHECK_THAT(error_of(dir, "f.csv", "1,2,3\n", o), Catch::Contains("time column is 9"));
  o.columns = "user=1,item=2";
  CHECK_THAT(error_of(dir, "f.csv", "1,2,3\n", o), Catch::Contains("--columns"));
  o = {};
  o.format = "movielens-csv";
  CHECK_THAT(error_of(dir, "f.csv", "user,item,time\n1,2,3\n", o),
             Catch::Contains("f.csv:1") && Catch::Contains("MovieLens header"));
  o.format = "parquet";
  CHECK_THAT(error_of(dir, "f.csv", "user,item,time\n1,2,3\n", o), Catch::Contains("--format"));
}

TEST_CASE("read_events with on_error=skip counts bad lines per reason and keeps good ones",
          "[event_reader]") {
  TempDir dir;
  const std::string text = kMlHeader +           // 1
                           "1,31,2.5,100\n"       // 2 good
                           "1,31,abc,101\n"       // 3 bad value
                           "2,32,4,102\n"         // 4 good
                           "2,32,4\n"             // 5 missing fields
                           "2,32,4,103,9\n"       // 6 extra fields
                           "3,33,1,later\n"       // 7 bad time
                           "userId,movieId,rating,timestamp\n"  // 8 duplicate header
                           ",33,1,104\n"          // 9 bad user
                           "\"3,33,1,105\n"       // 10 unterminated quote
                           "3,33,inf,106\n"       // 11 bad value
                           "u\xC3,34,1,107\n"     // 12 bad user
                           "3,33,5,108\n";        // 13 good
  EventReadOptions o;
  o.on_error = OnError::skip;
  auto log = read_text(dir, "f.csv", text, o);
  CHECK(events_of(log) == std::vector<Ev>{{"1", "31", 100, 2.5f},
                                          {"2", "32", 102, 4.0f},
                                          {"3", "33", 108, 5.0f}});
  const std::string p = (dir / "f.csv").string();
  using Counts = std::map<std::string, std::pair<std::int64_t, std::string>>;
  CHECK(log.skipped.reasons() == Counts{{"bad value in column 'rating'", {2, p + ":3"}},
                                        {"missing fields", {1, p + ":5"}},
                                        {"extra fields", {1, p + ":6"}},
                                        {"bad time in column 'timestamp'", {1, p + ":7"}},
                                        {"duplicate header", {1, p + ":8"}},
                                        {"bad user in column 'userId'", {2, p + ":9"}},
                                        {"bad quoting", {1, p + ":10"}}});
  CHECK(log.skipped.total() == 9);
  // Ids on skipped lines are not added.
  CHECK(log.users.names() == std::vector<std::string>{"1", "2", "3"});
}

TEST_CASE("read_events honours --columns in a '::' file instead of assuming ratings.dat",
          "[event_reader]") {
  TempDir dir;
  EventReadOptions o;
  o.columns = "user=a,item=b,time=c";
  EventLog log = read_text(dir, "f.txt", "a::b::c\n1::2::964982703\n", o);
  REQUIRE(log.events.size() == 1);
  CHECK(log.events[0].time == 964982703);
  CHECK(log.users.name(0) == "1");
}

TEST_CASE("read_events settles the time format on the first time that parses", "[event_reader]") {
  TempDir dir;
  EventReadOptions o;
  o.on_error = OnError::skip;
  EventLog log = read_text(dir, "f.csv",
                           "user,item,time\nu1,i1,N/A\nu1,i2,2018-09-24\nu2,i2,2018-09-25T10:00:00Z\n", o);
  REQUIRE(log.events.size() == 2);
  CHECK(log.events[0].time == 1537747200);
  CHECK(log.events[1].time == 1537869600);
  CHECK(log.skipped.total() == 1);
}

TEST_CASE("read_events refuses --columns that name a role twice or share a column", "[event_reader]") {
  TempDir dir;
  EventReadOptions o;
  o.columns = "user=a,item=a,time=c";
  CHECK_THAT(error_of(dir, "f.csv", "a,b,c\n1,2,3\n", o), Catch::Contains("both the user and the item"));
  o.columns = "user=a,user=b,item=b,time=c";
  CHECK_THAT(error_of(dir, "g.csv", "a,b,c\n1,2,3\n", o), Catch::Contains("user is given twice"));
}

TEST_CASE("option typos are refused before any file is read", "[event_reader]") {
  EventReadOptions o;
  o.format = "csvv";
  CHECK_THROWS_WITH(validate_event_options(o), Catch::Contains("--format"));
  o = {};
  o.header = "maybe";
  CHECK_THROWS_WITH(validate_event_options(o), Catch::Contains("--header"));
}

TEST_CASE("a delimiter of several characters other than '::' is refused naming --delimiter", "[event_reader]") {
  EventReadOptions o;
  for (const char* bad : {"xyz", ",,", "ab", "\\t\\t"}) {
    o.delimiter = bad;
    CHECK_THROWS_WITH(validate_event_options(o), Catch::Contains("--delimiter") && Catch::Contains(bad));
  }
  for (const char* good : {",", ";", "|", "::", "tab", "\\t", "space", "pipe", ""}) {
    o.delimiter = good;
    CHECK_NOTHROW(validate_event_options(o));
  }
}
