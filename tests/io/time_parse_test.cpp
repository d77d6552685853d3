// Tests for io/time_parse: ISO-8601 dates and date-times against known Unix seconds,
// calendar validity, millisecond flooring, format detection and the accepted range.
#include "io/time_parse.hpp"

#include <catch2/catch.hpp>
#include <optional>

using namespace driftrec::io;
using driftrec::graph::Time;

namespace {

std::optional<Time> iso(std::string_view s) { return parse_iso8601(s); }

std::optional<Time> parse(std::string_view s, TimeFormat f, bool& out_of_range) {
  out_of_range = true;  // must be reset by the call
  return parse_time(s, f, out_of_range);
}

}  // namespace

TEST_CASE("parse_iso8601 gives the exact Unix seconds of UTC date-times", "[time]") {
  CHECK(iso("2018-09-24T14:27:30Z") == 1537799250);
  CHECK(iso("2018-09-24T14:27:30") == 1537799250);   // no zone: UTC
  CHECK(iso("2018-09-24 14:27:30") == 1537799250);   // space instead of T
  CHECK(iso("2018-09-24T14:27:30.999Z") == 1537799250);  // fractions dropped
  CHECK(iso("2018-09-24T14:27:30,5") == 1537799250);
  CHECK(iso("2018-09-24T14:27") == 1537799220);
  CHECK(iso("2018-09-24T14:27Z") == 1537799220);
  CHECK(iso("2018-09-24") == 1537747200);
  CHECK(iso("1970-01-01T00:00:00Z") == 0);
  CHECK(iso("1969-12-31T23:59:59Z") == -1);
  CHECK(iso("2000-01-01") == 946684800);
  CHECK(iso("2016-12-31T23:59:60Z") == 1483228800);  // a leap second reads as the next second
}

TEST_CASE("parse_iso8601 applies +HH:MM  +HHMM and +HH offsets", "[time]") {
  CHECK(iso("2018-09-24T16:27:30+02:00") == 1537799250);
  CHECK(iso("2018-09-24T16:27:30+0200") == 1537799250);
  CHECK(iso("2018-09-24T16:27:30+02") == 1537799250);
  CHECK(iso("2018-09-24T09:27:30-05:00") == 1537799250);
  CHECK(iso("2018-09-24T19:57:30+05:30") == 1537799250);
  CHECK(iso("2018-09-24T00:00:00+01:00") == 1537747200 - 3600);
}

TEST_CASE("parse_iso8601 knows leap years and month lengths", "[time]") {
  CHECK(iso("2020-02-29") == 1582934400);
  CHECK(iso("2000-02-29") == 951782400);
  CHECK(iso("2019-02-28") == 1551312000);
  CHECK_FALSE(iso("2019-02-29"));
  CHECK_FALSE(iso("1900-02-29"));  // divisible by 100, not by 400
  CHECK_FALSE(iso("2019-04-31"));
  CHECK(iso("2019-12-31") == 1577750400);
  CHECK_FALSE(iso("2019-13-01"));
  CHECK_FALSE(iso("2019-00-10"));
  CHECK_FALSE(iso("2019-01-00"));
  CHECK_FALSE(iso("2019-01-32"));
}

TEST_CASE("parse_iso8601 rejects malformed dates and times and offsets", "[time]") {
  CHECK_FALSE(iso(""));
  CHECK_FALSE(iso("2019-1-05"));
  CHECK_FALSE(iso("2019/01/05"));
  CHECK_FALSE(iso("20190105"));
  CHECK_FALSE(iso("2019-01-05T"));
  CHECK_FALSE(iso("2019-01-05T1:00"));
  CHECK_FALSE(iso("2019-01-05T24:00:00Z"));
  CHECK_FALSE(iso("2019-01-05T23:60:00Z"));
  CHECK_FALSE(iso("2019-01-05T23:59:61Z"));
  CHECK_FALSE(iso("2019-01-05T10:00:00.Z"));
  CHECK_FALSE(iso("2019-01-05T10:00:00Zjunk"));
  CHECK_FALSE(iso("2019-01-05T10:00:00+25:00"));
  CHECK_FALSE(iso("2019-01-05T10:00:00+01:60"));
  CHECK_FALSE(iso("2019-01-05T10:00:00+1"));
  CHECK_FALSE(iso("2019-01-05Z"));
  CHECK_FALSE(iso("2019-01-05 "));
  CHECK_FALSE(iso("10000-01-01"));
}

TEST_CASE("parse_iso8601 rejects an offset with a trailing colon and no minutes", "[time]") {
  // The grammar is (+|-)HH[:MM]; "+02:" is neither form.
  CHECK_FALSE(iso("2018-09-24T16:27:30+02:"));
}

TEST_CASE("parse_time reads seconds and floors milliseconds also before 1970", "[time]") {
  bool oor = false;
  CHECK(parse("1537799250", TimeFormat::seconds, oor) == 1537799250);
  CHECK_FALSE(oor);
  CHECK(parse("+5", TimeFormat::seconds, oor) == 5);
  CHECK(parse("-5", TimeFormat::seconds, oor) == -5);
  CHECK(parse("1537799250999", TimeFormat::millis, oor) == 1537799250);
  CHECK(parse("1999", TimeFormat::millis, oor) == 1);
  CHECK(parse("0", TimeFormat::millis, oor) == 0);
  CHECK(parse("-1", TimeFormat::millis, oor) == -1);
  CHECK(parse("-999", TimeFormat::millis, oor) == -1);
  CHECK(parse("-1000", TimeFormat::millis, oor) == -1);
  CHECK(parse("-1001", TimeFormat::millis, oor) == -2);
  CHECK(parse("-1500", TimeFormat::millis, oor) == -2);
  CHECK(parse("2018-09-24T14:27:30Z", TimeFormat::iso, oor) == 1537799250);
  CHECK_FALSE(oor);
}

TEST_CASE("parse_time tells malformed fields from well-formed times out of range", "[time]") {
  bool oor = false;
  CHECK_FALSE(parse("12.5", TimeFormat::seconds, oor));
  CHECK_FALSE(oor);
  CHECK_FALSE(parse("2018-09-24", TimeFormat::seconds, oor));
  CHECK_FALSE(oor);
  CHECK_FALSE(parse("1537799250", TimeFormat::iso, oor));
  CHECK_FALSE(oor);
  CHECK_FALSE(parse("", TimeFormat::millis, oor));
  CHECK_FALSE(oor);

  CHECK(parse("1900-01-01T00:00:00Z", TimeFormat::iso, oor) == kMinTime);
  CHECK_FALSE(oor);
  CHECK(parse("9999-12-31T23:59:59Z", TimeFormat::iso, oor) == kMaxTime);
  CHECK_FALSE(oor);
  CHECK_FALSE(parse("1899-12-31T23:59:59Z", TimeFormat::iso, oor));
  CHECK(oor);
  CHECK_FALSE(parse("1899-06-01", TimeFormat::iso, oor));
  CHECK(oor);
  CHECK_FALSE(parse("9999-12-31T23:59:59-01:00", TimeFormat::iso, oor));
  CHECK(oor);
  CHECK_FALSE(parse("1900-01-01T00:30:00+01:00", TimeFormat::iso, oor));
  CHECK(oor);
  CHECK(parse("-2208988800", TimeFormat::seconds, oor) == kMinTime);
  CHECK_FALSE(parse("-2208988801", TimeFormat::seconds, oor));
  CHECK(oor);
  CHECK(parse("253402300799", TimeFormat::seconds, oor) == kMaxTime);
  CHECK_FALSE(parse("253402300800", TimeFormat::seconds, oor));
  CHECK(oor);
  CHECK_FALSE(parse("253402300800000", TimeFormat::millis, oor));
  CHECK(oor);
  CHECK(parse("253402300799999", TimeFormat::millis, oor) == kMaxTime);
  CHECK_FALSE(oor);
}

TEST_CASE("detect_time_format picks ISO for dates and millis for integers of 10^11 or more",
          "[time]") {
  CHECK(detect_time_format("2018-09-24") == TimeFormat::iso);
  CHECK(detect_time_format(" 2018-09-24T14:27:30Z ") == TimeFormat::iso);
  CHECK(detect_time_format("964982703") == TimeFormat::seconds);
  CHECK(detect_time_format("99999999999") == TimeFormat::seconds);
  CHECK(detect_time_format("100000000000") == TimeFormat::millis);
  CHECK(detect_time_format("964982703000") == TimeFormat::millis);
  CHECK(detect_time_format("-100000000000") == TimeFormat::millis);
  CHECK(detect_time_format("-86400") == TimeFormat::seconds);
  CHECK(detect_time_format("0") == TimeFormat::seconds);
}

TEST_CASE("parse_time_format accepts the documented names and rejects others", "[time]") {
  CHECK(parse_time_format("auto") == TimeFormat::auto_detect);
  CHECK(parse_time_format("s") == TimeFormat::seconds);
  CHECK(parse_time_format("seconds") == TimeFormat::seconds);
  CHECK(parse_time_format("ms") == TimeFormat::millis);
  CHECK(parse_time_format("millis") == TimeFormat::millis);
  CHECK(parse_time_format("iso") == TimeFormat::iso);
  CHECK_THROWS_AS(parse_time_format("epoch"), driftrec::InputError);
  CHECK(to_string(TimeFormat::millis) == "millis");
}
