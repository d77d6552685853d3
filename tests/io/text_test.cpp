// Tests for io/text: RFC 4180 field splitting, the line reader (CRLF, BOM, missing final
// newline, blank lines, over-long lines, lines across the 8 MiB read buffer), number
// parsing and UTF-8 validation.
#include "io/text.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/test_util.hpp"

using namespace driftrec::io;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {

std::vector<std::string> split(std::string_view line, std::string_view delim = ",") {
  std::vector<std::string_view> f;
  std::string scratch;
  REQUIRE(split_fields(line, delim, f, scratch));
  return {f.begin(), f.end()};
}

bool splits(std::string_view line, std::string_view delim = ",") {
  std::vector<std::string_view> f;
  std::string scratch;
  return split_fields(line, delim, f, scratch);
}

std::vector<std::string> read_all_lines(const std::string& path) {
  LineReader r(path);
  std::vector<std::string> out;
  std::string_view line;
  while (r.next(line)) {
    out.emplace_back(line);
    REQUIRE(r.line_number() == static_cast<std::int64_t>(out.size()));
  }
  return out;
}

std::string input_error_of(const std::string& path) {
  try {
    read_all_lines(path);
  } catch (const driftrec::InputError& e) {
    return e.what();
  }
  FAIL("expected an driftrec::InputError reading " << path);
  return {};
}

using Fields = std::vector<std::string>;

}  // namespace

TEST_CASE("split_fields cuts plain fields and keeps empty ones", "[text]") {
  CHECK(split("a,b,c") == Fields{"a", "b", "c"});
  CHECK(split("a,,c") == Fields{"a", "", "c"});
  CHECK(split("a,b,") == Fields{"a", "b", ""});
  CHECK(split(",") == Fields{"", ""});
  CHECK(split("") == Fields{""});
  CHECK(split("a\tb", "\t") == Fields{"a", "b"});
  CHECK(split("1::2::3", "::") == Fields{"1", "2", "3"});
}

TEST_CASE("split_fields unquotes RFC 4180 fields and unescapes doubled quotes", "[text]") {
  CHECK(split(R"("a,""b"",c")") == Fields{R"(a,"b",c)"});
  CHECK(split(R"(x,"a,""b"",c",y)") == Fields{"x", R"(a,"b",c)", "y"});
  CHECK(split(R"("",x)") == Fields{"", "x"});
  CHECK(split(R"("""")") == Fields{"\""});
  CHECK(split(R"("a","b","c")") == Fields{"a", "b", "c"});
  CHECK(split(R"x(11,"American President, The (1995)",Comedy|Drama)x") ==
        Fields{"11", "American President, The (1995)", "Comedy|Drama"});
  // A quote inside an unquoted field is an ordinary byte.
  CHECK(split(R"(a"b,c)") == Fields{"a\"b", "c"});
}

TEST_CASE("split_fields rejects an unterminated quote and text after a closing quote",
          "[text]") {
  CHECK_FALSE(splits(R"("abc)"));
  CHECK_FALSE(splits(R"(a,"b,c)"));
  CHECK_FALSE(splits(R"("a"")"));  // the doubled quote is an escaped quote, not the end
  CHECK_FALSE(splits(R"("abc"x,y)"));
}

TEST_CASE("split_fields does not treat quotes specially with a multi-byte delimiter", "[text]") {
  CHECK(split(R"("a::b"::c)", "::") == Fields{"\"a", "b\"", "c"});
}

TEST_CASE("LineReader strips LF and CRLF and a leading BOM and reads a last line without newline",
          "[text]") {
  TempDir dir;
  write_file(dir / "f.txt", "\xEF\xBB\xBF" "first\r\nsecond\n\n  \r\nlast");
  CHECK(read_all_lines((dir / "f.txt").string()) == Fields{"first", "second", "", "  ", "last"});
}

TEST_CASE("LineReader keeps a BOM that is not at the start of the file", "[text]") {
  TempDir dir;
  write_file(dir / "f.txt", "a\n\xEF\xBB\xBF" "b\n");
  CHECK(read_all_lines((dir / "f.txt").string()) == Fields{"a", "\xEF\xBB\xBF" "b"});
}

TEST_CASE("LineReader gives no lines for an empty file and one empty line for a lone newline",
          "[text]") {
  TempDir dir;
  write_file(dir / "empty", "");
  write_file(dir / "nl", "\n");
  write_file(dir / "crlf", "a\r\n");
  CHECK(read_all_lines((dir / "empty").string()).empty());
  CHECK(read_all_lines((dir / "nl").string()) == Fields{""});
  CHECK(read_all_lines((dir / "crlf").string()) == Fields{"a"});
}

TEST_CASE("LineReader reports where it is and how much it consumed", "[text]") {
  TempDir dir;
  const std::string content = "ab\ncd\r\n";
  write_file(dir / "w.csv", content);
  LineReader r((dir / "w.csv").string());
  CHECK(r.file_size() == content.size());
  std::string_view line;
  REQUIRE(r.next(line));
  REQUIRE(r.next(line));
  CHECK(line == "cd");
  CHECK(r.where() == (dir / "w.csv").string() + ":2");
  CHECK(r.bytes_consumed() == content.size());
  CHECK_FALSE(r.next(line));
}

TEST_CASE("LineReader throws driftrec::InputError for a missing file and for a directory", "[text]") {
  TempDir dir;
  CHECK_THROWS_AS(LineReader((dir / "nope.csv").string()), driftrec::InputError);
  CHECK_THROWS_WITH(LineReader((dir / "nope.csv").string()), Catch::Contains("nope.csv"));
  CHECK_THROWS_AS(LineReader(dir.path().string()), driftrec::InputError);
}

TEST_CASE("LineReader accepts a line of exactly kMaxLineBytes", "[text]") {
  TempDir dir;
  const std::string longest(kMaxLineBytes, 'x');
  write_file(dir / "f.txt", "a\n" + longest + "\nb\n");
  auto lines = read_all_lines((dir / "f.txt").string());
  REQUIRE(lines.size() == 3);
  CHECK(lines[1] == longest);
  CHECK(lines[2] == "b");
}

TEST_CASE("LineReader rejects a line longer than kMaxLineBytes naming its line number",
          "[text]") {
  TempDir dir;
  const std::string too_long(kMaxLineBytes + 1, 'x');
  SECTION("followed by more lines") {
    write_file(dir / "long.csv", "a\nb\n" + too_long + "\nc\n");
    auto msg = input_error_of((dir / "long.csv").string());
    CHECK_THAT(msg, Catch::Contains("long.csv:3") && Catch::Contains("longer than"));
  }
  SECTION("as the last line without a newline") {
    write_file(dir / "long.csv", "a\nb\n" + too_long);
    auto msg = input_error_of((dir / "long.csv").string());
    CHECK_THAT(msg, Catch::Contains("long.csv:3") && Catch::Contains("longer than"));
  }
  SECTION("as a file with no line break at all, larger than the read buffer") {
    write_file(dir / "long.csv", std::string(std::size_t{9} << 20, 'y'));
    auto msg = input_error_of((dir / "long.csv").string());
    CHECK_THAT(msg, Catch::Contains("long.csv:1") && Catch::Contains("longer than"));
  }
}

TEST_CASE("LineReader returns every line intact across the 8 MiB read buffer boundaries",
          "[text]") {
  std::mt19937_64 rng(driftrec::test::test_seed());
  std::uniform_int_distribution<int> len(0, 300);
  std::uniform_int_distribution<int> crlf(0, 3);
  std::vector<std::string> expected;
  std::string content;
  content.reserve(21u << 20);
  while (content.size() < (20u << 20)) {
    std::string line = "line " + std::to_string(expected.size()) + " ";
    const int n = len(rng);
    for (int k = 0; k < n; ++k) line.push_back(static_cast<char>('a' + (k + expected.size()) % 26));
    content += line;
    content += crlf(rng) == 0 ? "\r\n" : "\n";
    expected.push_back(std::move(line));
  }
  // One line longer than half a megabyte, so some line surely straddles a refill.
  expected.emplace_back(600000, 'z');
  content += expected.back();  // and no final newline
  TempDir dir;
  write_file(dir / "big.txt", content);

  LineReader r((dir / "big.txt").string());
  std::string_view line;
  std::size_t k = 0;
  while (r.next(line)) {
    REQUIRE(k < expected.size());
    if (line != expected[k]) FAIL("line " << k + 1 << " differs");
    ++k;
  }
  CHECK(k == expected.size());
  CHECK(r.line_number() == static_cast<std::int64_t>(expected.size()));
  CHECK(r.bytes_consumed() == content.size());
}

TEST_CASE("parse_int64 accepts an optional plus sign and nothing but an integer", "[text]") {
  std::int64_t v = 0;
  CHECK((parse_int64("+3", v) && v == 3));
  CHECK((parse_int64("-3", v) && v == -3));
  CHECK((parse_int64("0", v) && v == 0));
  CHECK((parse_int64("9223372036854775807", v) && v == INT64_MAX));
  CHECK((parse_int64("-9223372036854775808", v) && v == INT64_MIN));
  CHECK_FALSE(parse_int64("9223372036854775808", v));
  CHECK_FALSE(parse_int64("", v));
  CHECK_FALSE(parse_int64("+", v));
  CHECK_FALSE(parse_int64("-", v));
  CHECK_FALSE(parse_int64("1e3", v));
  CHECK_FALSE(parse_int64("3.0", v));
  CHECK_FALSE(parse_int64(" 3", v));
  CHECK_FALSE(parse_int64("3 ", v));
  CHECK_FALSE(parse_int64("0x10", v));
  CHECK_FALSE(parse_int64("++3", v));
}

TEST_CASE("parse_int64 and parse_finite_float reject a plus sign followed by a minus sign",
          "[text]") {
  std::int64_t i = 0;
  float f = 0;
  CHECK_FALSE(parse_int64("+-3", i));
  CHECK_FALSE(parse_finite_float("+-3", f));
}

TEST_CASE("parse_finite_float accepts finite decimal numbers and rejects nan and inf and junk",
          "[text]") {
  float v = 0;
  CHECK((parse_finite_float("1e3", v) && v == 1000.0f));
  CHECK((parse_finite_float("+3", v) && v == 3.0f));
  CHECK((parse_finite_float("-2.5", v) && v == -2.5f));
  CHECK((parse_finite_float("4", v) && v == 4.0f));
  CHECK((parse_finite_float("0.5", v) && v == 0.5f));
  CHECK((parse_finite_float("3.4e38", v) && v == 3.4e38f));
  CHECK_FALSE(parse_finite_float("nan", v));
  CHECK_FALSE(parse_finite_float("NaN", v));
  CHECK_FALSE(parse_finite_float("inf", v));
  CHECK_FALSE(parse_finite_float("-inf", v));
  CHECK_FALSE(parse_finite_float("+inf", v));
  CHECK_FALSE(parse_finite_float("infinity", v));
  CHECK_FALSE(parse_finite_float("1e39", v));  // overflows float
  CHECK_FALSE(parse_finite_float("", v));
  CHECK_FALSE(parse_finite_float("+", v));
  CHECK_FALSE(parse_finite_float("4.0x", v));
  CHECK_FALSE(parse_finite_float("4,5", v));
  CHECK_FALSE(parse_finite_float(" 4", v));
}

TEST_CASE("valid_utf8 accepts well-formed UTF-8 up to four bytes", "[text]") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("h\xC3\xA9llo"));              // é
  CHECK(valid_utf8("\xE2\x82\xAC"));              // € at the very end
  CHECK(valid_utf8("\xF0\x9F\x98\x80"));          // 😀
  CHECK(valid_utf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF
  CHECK(valid_utf8("\xED\x9F\xBF"));              // U+D7FF, just below the surrogates
  CHECK(valid_utf8("\xEE\x80\x80"));              // U+E000, just above
}

TEST_CASE("valid_utf8 rejects overlong forms and surrogates and truncated or stray bytes", "[text]") {
  CHECK_FALSE(valid_utf8("\xC0\xAF"));              // overlong '/'
  CHECK_FALSE(valid_utf8("\xC1\xBF"));              // overlong
  CHECK_FALSE(valid_utf8("\xE0\x80\xAF"));          // overlong 3-byte
  CHECK_FALSE(valid_utf8("\xF0\x80\x80\xAF"));      // overlong 4-byte
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));          // U+D800
  CHECK_FALSE(valid_utf8("\xED\xBF\xBF"));          // U+DFFF
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));      // past U+10FFFF
  CHECK_FALSE(valid_utf8("\xE2\x82"));              // truncated at the end
  CHECK_FALSE(valid_utf8("\xF0\x9F\x98"));          // truncated 4-byte
  CHECK_FALSE(valid_utf8("a\xC3"));                 // truncated 2-byte
  CHECK_FALSE(valid_utf8("\xE2\x82x"));             // continuation missing mid-string
  CHECK_FALSE(valid_utf8("\x80"));                  // lone continuation byte
  CHECK_FALSE(valid_utf8("\xFF"));
  CHECK_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));  // 5-byte form
}

TEST_CASE("id_problem names empty and over-long and non-UTF-8 ids", "[text]") {
  CHECK(id_problem("u1").empty());
  CHECK(id_problem(std::string(kMaxIdBytes, 'a')).empty());
  CHECK_THAT(id_problem(""), Catch::Contains("non-empty"));
  CHECK_THAT(id_problem(std::string(kMaxIdBytes + 1, 'a')), Catch::Contains(std::to_string(kMaxIdBytes)));
  CHECK_THAT(id_problem("ab\xFF"), Catch::Contains("UTF-8"));
}

TEST_CASE("excerpt escapes non-printing bytes and shortens long fields", "[text]") {
  CHECK(excerpt("ab\xFF\t") == "ab\\xff\\x09");
  CHECK(excerpt(std::string(100, 'q')) == std::string(60, 'q') + "... (100 bytes)");
}

TEST_CASE("SkipReport counts lines per reason and remembers the first place", "[text]") {
  SkipReport s;
  CHECK(s.empty());
  s.add("bad time", "f.csv:7");
  s.add("bad time", "f.csv:9");
  s.add("extra fields", "f.csv:3");
  CHECK(s.total() == 3);
  REQUIRE(s.reasons().size() == 2);
  CHECK(s.reasons().at("bad time") == std::pair<std::int64_t, std::string>{2, "f.csv:7"});
  CHECK(s.reasons().at("extra fields") == std::pair<std::int64_t, std::string>{1, "f.csv:3"});
  CHECK(s.summary() ==
        "skipped 3 lines: 2 x bad time (first at f.csv:7); 1 x extra fields (first at f.csv:3)");
}

TEST_CASE("parse_on_error accepts fail and skip only", "[text]") {
  CHECK(parse_on_error("fail") == OnError::fail);
  CHECK(parse_on_error("skip") == OnError::skip);
  CHECK_THROWS_AS(parse_on_error("ignore"), driftrec::InputError);
}

TEST_CASE("LineReader names a gzip, HDF5, zip or UTF-16 file instead of reading it as text", "[text]") {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8), "gzip-compressed"},
      {std::string("\x89HDF\r\n\x1a\n\x00\x00", 10), "HDF5 file"},
      {std::string("PK\x03\x04rest"), "zip archive"},
      {std::string("\xff\xfeu\x00s\x00", 6), "UTF-16 text (little-endian"},
      {std::string("\xfe\xff\x00u\x00s", 6), "UTF-16 text (big-endian"},
      {std::string("\x1f\x8b", 2), "gzip-compressed"},  // shorter than the bytes looked at
  };
  for (const auto& [bytes, kind] : cases) {
    CAPTURE(kind);
    write_file(dir / "f.csv", bytes);
    LineReader r((dir / "f.csv").string());
    std::string_view line;
    CHECK_THROWS_WITH(r.next(line), Catch::Contains((dir / "f.csv").string() + ": is ") && Catch::Contains(kind));
    CHECK(not_text_kind(bytes).find(kind) != std::string::npos);
  }
  // Text, a UTF-8 byte order mark included, is not flagged.
  for (const std::string text : {"user,item,time\n", "\xEF\xBB\xBFuser,item\n", "", "P", "\x1f"}) {
    CHECK(not_text_kind(text).empty());
    write_file(dir / "t.csv", text);
    LineReader r((dir / "t.csv").string());
    std::string_view line;
    CHECK_NOTHROW(r.next(line));
  }
}
