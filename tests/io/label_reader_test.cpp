// Tests for io/label_reader: MovieLens movies.csv, MovieLens 100K u.item + u.genre and the
// long item,label[,weight] format; items without events are counted and ignored, repeated
// pairs counted, and a file that matches no item (or has no rows) is refused.
#include "io/label_reader.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "tests/test_util.hpp"

using namespace driftrec::io;
using driftrec::test::TempDir;
using driftrec::test::write_file;

namespace {

using Entry = std::tuple<std::string, std::string, float>;  // item, label, weight

std::vector<Entry> entries_of(const ItemLabels& l, const IdMap& items) {
  std::vector<Entry> out;
  for (const auto& t : l.entries)
    out.emplace_back(std::string(items.name(t.row)), std::string(l.labels.name(t.col)), t.value);
  return out;
}

ItemLabels read_text(const TempDir& dir, const std::string& name, const std::string& content,
                     const IdMap& items, const LabelReadOptions& o = {}) {
  write_file(dir / name, content);
  ItemLabels out;
  read_labels((dir / name).string(), o, items, out);
  return out;
}

std::string error_of(const TempDir& dir, const std::string& name, const std::string& content,
                     const IdMap& items, const LabelReadOptions& o = {}) {
  try {
    read_text(dir, name, content, items, o);
  } catch (const driftrec::InputError& e) {
    return e.what();
  }
  FAIL("expected an driftrec::InputError for " << name);
  return {};
}

const IdMap kItems = IdMap::from_names({"1", "2", "11", "50"});

const std::string kMovies =
    "movieId,title,genres\n"
    "1,Toy Story (1995),Adventure|Animation|Children\n"
    "2,Jumanji (1995),Adventure|Fantasy\n"
    "11,\"American President, The (1995)\",Comedy|Drama|Romance\n"
    "50,\"Usual Suspects, The (1995)\",(no genres listed)\n"
    "99,Unknown Movie (2000),Drama|Horror\n";

}  // namespace

TEST_CASE("read_labels reads movies.csv: pipe-separated genres and quoted titles with commas",
          "[label_reader]") {
  TempDir dir;
  auto l = read_text(dir, "movies.csv", kMovies, kItems);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "Adventure", 1.0f},
                                                    {"1", "Animation", 1.0f},
                                                    {"1", "Children", 1.0f},
                                                    {"2", "Adventure", 1.0f},
                                                    {"2", "Fantasy", 1.0f},
                                                    {"11", "Comedy", 1.0f},
                                                    {"11", "Drama", 1.0f},
                                                    {"11", "Romance", 1.0f}});
  // "(no genres listed)" is no label; Horror only belongs to an item without events.
  CHECK(l.labels.names() == std::vector<std::string>{"Adventure", "Animation", "Children",
                                                     "Fantasy", "Comedy", "Drama", "Romance"});
  CHECK(l.rows == 5);
  CHECK(l.unknown_item_rows == 1);
  CHECK(l.duplicate_pairs == 0);

  auto m = item_label_matrix(l, kItems.size());
  CHECK(m.n_rows == 4);
  CHECK(m.n_cols == 7);
  CHECK(m.indptr == std::vector<driftrec::graph::Offset>{0, 3, 5, 8, 8});
  CHECK(m.indices == std::vector<Index>{0, 1, 2, 0, 3, 4, 5, 6});
}

TEST_CASE("read_labels counts repeated item-label pairs and keeps the first", "[label_reader]") {
  TempDir dir;
  auto l = read_text(dir, "movies.csv",
                     "movieId,title,genres\n1,A,Drama|Drama\n1,A again,Drama|Comedy\n", kItems);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "Drama", 1.0f}, {"1", "Comedy", 1.0f}});
  CHECK(l.duplicate_pairs == 2);
}

TEST_CASE("read_labels reports bad movies.csv lines with file and line", "[label_reader]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n1,A,Drama\n2,\"B,Drama\n", kItems),
             Catch::Contains("movies.csv:3") && Catch::Contains("quote"));
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n1,A,Drama\n2,B,C,Drama\n", kItems),
             Catch::Contains("movies.csv:3") && Catch::Contains("expected 3 fields"));
  LabelReadOptions o;
  o.format = "movielens";
  CHECK_THAT(error_of(dir, "m.csv", "id,name,genres\n1,A,Drama\n", kItems, o),
             Catch::Contains("m.csv:1") && Catch::Contains("movieId,title,genres"));
}

TEST_CASE("read_labels reads MovieLens 100K u.item with genre names from u.genre",
          "[label_reader]") {
  TempDir dir;
  write_file(dir / "u.genre", "unknown|0\nAction|1\nComedy|2\n\n");
  const std::string item_text =
      "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|1\n"
      "2|GoldenEye (1995)|01-Jan-1995||http://x|0|1|1\n"
      "3|Four Rooms (1995)|01-Jan-1995||http://x|1|0|0\n";
  SECTION("u.genre beside u.item") {
    auto l = read_text(dir, "u.item", item_text, kItems);
    CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "Comedy", 1.0f},
                                                      {"2", "Action", 1.0f},
                                                      {"2", "Comedy", 1.0f}});
    CHECK(l.rows == 3);
    CHECK(l.unknown_item_rows == 1);
  }
  SECTION("genre names given elsewhere, format named") {
    std::filesystem::create_directory(dir / "g");
    write_file(dir / "g" / "genres.txt", "Comedy|2\nunknown|0\nAction|1\n");  // any order
    LabelReadOptions o;
    o.format = "ml100k";
    o.genre_names = (dir / "g" / "genres.txt").string();
    auto l = read_text(dir, "items.psv", item_text, kItems, o);
    CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "Comedy", 1.0f},
                                                      {"2", "Action", 1.0f},
                                                      {"2", "Comedy", 1.0f}});
  }
  SECTION("a bad genre flag names the genre") {
    CHECK_THAT(error_of(dir, "u.item", "1|T|d||u|0|2|1\n", kItems),
               Catch::Contains("u.item:1") && Catch::Contains("'Action'") && Catch::Contains("'2'"));
  }
  SECTION("a row with the wrong number of flags") {
    CHECK_THAT(error_of(dir, "u.item", "1|T|d||u|0|1|1\n2|T|d||u|0|1\n", kItems),
               Catch::Contains("u.item:2") && Catch::Contains("expected 8"));
  }
  SECTION("u.genre with a gap in its indices") {
    write_file(dir / "u.genre", "unknown|0\nComedy|2\n");
    CHECK_THAT(error_of(dir, "u.item", item_text, kItems), Catch::Contains("u.genre"));
  }
}

TEST_CASE("read_labels reads the long format with a header and weights", "[label_reader]") {
  TempDir dir;
  auto l = read_text(dir, "labels.csv",
                     "item,label,weight\n1,drama,0.5\n2,comedy,2\n1,comedy,1e0\n", kItems);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "drama", 0.5f},
                                                    {"2", "comedy", 2.0f},
                                                    {"1", "comedy", 1.0f}});
  CHECK(l.rows == 3);
  auto m = item_label_matrix(l, kItems.size());
  CHECK(m.indptr == std::vector<driftrec::graph::Offset>{0, 2, 3, 3, 3});
  CHECK(m.indices == std::vector<Index>{0, 1, 1});
  CHECK(m.data == std::vector<float>{0.5f, 1.0f, 2.0f});
}

TEST_CASE("read_labels reads the long format without a header in tabs with and without weights",
          "[label_reader]") {
  TempDir dir;
  auto l = read_text(dir, "tags.tsv", "11\tnoir\n50\tnoir\t3\n404\tnoir\n11\tnoir\n", kItems);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"11", "noir", 1.0f}, {"50", "noir", 3.0f}});
  CHECK(l.rows == 4);
  CHECK(l.unknown_item_rows == 1);
  CHECK(l.duplicate_pairs == 1);
}

TEST_CASE("read_labels refuses a bad weight naming file and line and field", "[label_reader]") {
  TempDir dir;
  for (const char* w : {"-1", "0", "abc", "nan", ""}) {
    INFO("weight '" << w << "'");
    CHECK_THAT(error_of(dir, "labels.csv", std::string("item,label,weight\n1,a,1\n2,b,") + w + "\n", kItems),
               Catch::Contains("labels.csv:3") && Catch::Contains("field 3 (weight)") &&
                   Catch::Contains("positive number"));
  }
}

TEST_CASE("read_labels with on_error=skip counts bad label rows and keeps the rest",
          "[label_reader]") {
  TempDir dir;
  LabelReadOptions o;
  o.on_error = OnError::skip;
  auto l = read_text(dir, "labels.csv",
                     "item,label,weight\n1,a,1\n2,b,-3\n2,c\n,d\n11,e,1,9\n2,\xFF\n", kItems, o);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "a", 1.0f}, {"2", "c", 1.0f}});
  const std::string p = (dir / "labels.csv").string();
  using Counts = std::map<std::string, std::pair<std::int64_t, std::string>>;
  CHECK(l.skipped.reasons() == Counts{{"bad weight", {1, p + ":3"}},
                                      {"bad item", {1, p + ":5"}},
                                      {"wrong number of fields", {1, p + ":6"}},
                                      {"bad label", {1, p + ":7"}}});
}

TEST_CASE("read_labels refuses a labels file none of whose items has events", "[label_reader]") {
  TempDir dir;
  auto msg = error_of(dir, "labels.csv", "item,label\nx1,a\nx2,b\n", kItems);
  CHECK_THAT(msg, Catch::Contains("labels.csv") && Catch::Contains("none of its 2 rows"));
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n500,A,Drama\n", kItems),
             Catch::Contains("movies.csv") && Catch::Contains("none of its 1 rows"));
}

TEST_CASE("read_labels refuses an empty labels file and one with only a header",
          "[label_reader]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "labels.csv", "", kItems),
             Catch::Contains("labels.csv") && Catch::Contains("empty"));
  CHECK_THAT(error_of(dir, "blank.csv", "\n\n", kItems),
             Catch::Contains("blank.csv") && Catch::Contains("empty"));
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n", kItems),
             Catch::Contains("movies.csv") && Catch::Contains("no label rows"));
  CHECK_THAT(error_of(dir, "long.csv", "item,label\n", kItems),
             Catch::Contains("long.csv") && Catch::Contains("no label rows"));
}

TEST_CASE("read_labels refuses an unknown --labels-format", "[label_reader]") {
  TempDir dir;
  LabelReadOptions o;
  o.format = "xml";
  CHECK_THAT(error_of(dir, "labels.csv", "1,a\n", kItems, o), Catch::Contains("--labels-format"));
}

TEST_CASE("a movies.csv row as long as the header is not mistaken for it after a buffer refill",
          "[label_reader]") {
  // Rows of exactly 20 bytes, like "movieId,title,genres": one of them straddles the
  // reader's 8 MiB buffer refill, which moved the header's bytes under the old view.
  TempDir dir;
  std::string content = "movieId,title,genres\n";
  std::vector<std::string> ids;
  for (int k = 0; k < 500000; ++k) {
    std::string id = fmt::format("m{:06d}", k);
    content += id + ",TitleX,Drama\n";
    if (k % 1000 == 0) ids.push_back(id);
  }
  write_file(dir / "movies.csv", content);
  IdMap items = IdMap::from_names(ids);
  ItemLabels out;
  REQUIRE_NOTHROW(read_labels((dir / "movies.csv").string(), {}, items, out));
  CHECK(out.rows == 500000);
  CHECK(out.entries.size() == ids.size());
  CHECK(out.skipped.empty());
}

TEST_CASE("read_labels keeps movies.csv titles, quoted commas and all", "[label_reader][titles]") {
  TempDir dir;
  auto l = read_text(dir, "movies.csv", kMovies, kItems);
  // One per item of kItems ("1", "2", "11", "50"); item 50 has no genres but has a title.
  CHECK(l.titles == std::vector<std::string>{"Toy Story (1995)", "Jumanji (1995)", "American President, The (1995)",
                                             "Usual Suspects, The (1995)"});
  CHECK(l.repeated_titles == 0);
}

TEST_CASE("read_labels gives an item without a title in movies.csv an empty one and unescapes quotes",
          "[label_reader][titles]") {
  TempDir dir;
  auto l = read_text(dir, "movies.csv",
                     "movieId,title,genres\n"
                     "1,,Drama\n"
                     "2,\"\",Comedy\n"
                     "11,\"Say \"\"Cheese\"\", Please (1990)\",Comedy\n"
                     "50,  Padded (2001)  ,Drama\n",
                     kItems);
  CHECK(l.titles == std::vector<std::string>{"", "", "Say \"Cheese\", Please (1990)", "Padded (2001)"});
  CHECK(entries_of(l, kItems).size() == 4);  // the genres are read as before
}

TEST_CASE("read_labels keeps the first of two different movies.csv titles of an item and counts the second",
          "[label_reader][titles]") {
  TempDir dir;
  auto l = read_text(dir, "movies.csv",
                     "movieId,title,genres\n1,A,Drama|Drama\n1,A again,Drama|Comedy\n1,A,Comedy\n", kItems);
  CHECK(l.titles == std::vector<std::string>{"A", "", "", ""});
  CHECK(l.repeated_titles == 1);
}

TEST_CASE("read_labels refuses a movies.csv title that is not UTF-8, naming file, line and field",
          "[label_reader][titles]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n1,A,Drama\n2,Mis\xE9rables,Drama\n", kItems),
             Catch::Contains("movies.csv:3") && Catch::Contains("'title'") && Catch::Contains("UTF-8"));
  CHECK_THAT(error_of(dir, "movies.csv", "movieId,title,genres\n1," + std::string(kMaxTitleBytes + 1, 'x') + ",Drama\n", kItems),
             Catch::Contains("movies.csv:2") && Catch::Contains("at most 1024 bytes"));
}

TEST_CASE("read_labels keeps u.item titles, reading ISO-8859-1 ones as such", "[label_reader][titles]") {
  TempDir dir;
  write_file(dir / "u.genre", "unknown|0\nAction|1\nComedy|2\n");
  // MovieLens 100K's u.item is ISO-8859-1: 0xE9 is e-acute.
  auto l = read_text(dir, "u.item",
                     "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|1\n"
                     "2||01-Jan-1995||http://x|0|1|1\n"
                     "11|Mis\xE9rables, Les (1995)|01-Jan-1995||http://x|0|0|0\n"
                     "3|Four Rooms (1995)|01-Jan-1995||http://x|1|0|0\n",
                     kItems);
  CHECK(l.titles == std::vector<std::string>{"Toy Story (1995)", "", "Mis\xC3\xA9rables, Les (1995)", ""});
  CHECK(l.latin1_titles == 1);
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "Comedy", 1.0f}, {"2", "Action", 1.0f}, {"2", "Comedy", 1.0f}});
}

TEST_CASE("read_labels reads a title column named in a long file's header", "[label_reader][titles]") {
  TempDir dir;
  SECTION("title last, repeated on each of an item's rows, quoted where it has a comma") {
    auto l = read_text(dir, "labels.csv",
                       "item,label,title\n"
                       "1,drama,Toy Story\n"
                       "1,comedy,Toy Story\n"
                       "2,comedy,\"Jumanji, The\"\n"
                       "11,drama,\n"
                       "404,drama,Nobody Watched\n",
                       kItems);
    CHECK(l.titles == std::vector<std::string>{"Toy Story", "Jumanji, The", "", ""});
    CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "drama", 1.0f}, {"1", "comedy", 1.0f},
                                                      {"2", "comedy", 1.0f}, {"11", "drama", 1.0f}});
  }
  SECTION("title between the item and the label, with weights, tab-separated, any case") {
    auto l = read_text(dir, "labels.tsv", "item\tTitle\tlabel\tweight\n50\tHeat\tcrime\t2\n1\t\tdrama\t0.5\n", kItems);
    CHECK(l.titles == std::vector<std::string>{"", "", "", "Heat"});
    CHECK(entries_of(l, kItems) == std::vector<Entry>{{"50", "crime", 2.0f}, {"1", "drama", 0.5f}});
  }
  SECTION("no title column: no titles") {
    auto l = read_text(dir, "labels.csv", "item,label\n1,drama\n", kItems);
    CHECK(l.titles.empty());
  }
}

TEST_CASE("read_labels refuses an item given two different titles in the long format, naming both",
          "[label_reader][titles]") {
  TempDir dir;
  const std::string text = "item,label,title\n1,drama,Toy Story\n2,drama,Heat\n1,comedy,Toy Story 2\n";
  CHECK_THAT(error_of(dir, "labels.csv", text, kItems),
             Catch::Contains("labels.csv:4") && Catch::Contains("'Toy Story 2'") && Catch::Contains("'Toy Story'") &&
                 Catch::Contains("item '1'"));
  LabelReadOptions o;
  o.on_error = OnError::skip;
  auto l = read_text(dir, "labels.csv", text, kItems, o);
  CHECK(l.titles == std::vector<std::string>{"Toy Story", "Heat", "", ""});
  CHECK(entries_of(l, kItems) == std::vector<Entry>{{"1", "drama", 1.0f}, {"2", "drama", 1.0f}});
  const std::string p = (dir / "labels.csv").string();
  CHECK(l.skipped.reasons() == std::map<std::string, std::pair<std::int64_t, std::string>>{{"conflicting title", {1, p + ":4"}}});
}

TEST_CASE("read_labels holds long rows with a title column to the header's field count", "[label_reader][titles]") {
  TempDir dir;
  CHECK_THAT(error_of(dir, "labels.csv", "item,label,weight,title\n1,drama,1,A\n2,drama,B\n", kItems),
             Catch::Contains("labels.csv:3") && Catch::Contains("expected 4 fields"));
  CHECK_THAT(error_of(dir, "labels.csv", "item,title\n1,A\n", kItems),
             Catch::Contains("labels.csv:1") && Catch::Contains("title column"));
  CHECK_THAT(error_of(dir, "labels.csv", "item,label,title\n1,drama,\"A\xFF\"\n", kItems),
             Catch::Contains("labels.csv:2") && Catch::Contains("field 3 (title)") && Catch::Contains("UTF-8"));
}

TEST_CASE("read_labels drops repeated pairs as a set of pairs met would: first row kept, in file order",
          "[label_reader]") {
  // A long file of random rows over few items and labels, so most pairs repeat, each row
  // with its own weight: the entries must be the first row of each pair, in file order
  // with the first row's weight, as a std::set of the pairs met row by row keeps them.
  const std::uint64_t seed = driftrec::test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> item(0, 39), label(0, 7);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back("i" + std::to_string(i));  // i30..i39: no events
  const IdMap items = IdMap::from_names(ids);
  std::string text = "item,label,weight\n";
  std::vector<Entry> want;
  std::set<std::pair<int, int>> met;
  std::int64_t repeated = 0, unknown = 0;
  for (int r = 0; r < 3000; ++r) {
    const int i = item(rng), l = label(rng);
    const float w = static_cast<float>(r + 1);
    text += fmt::format("i{},g{},{}\n", i, l, r + 1);
    if (i >= 30) {
      ++unknown;
      continue;
    }
    if (met.insert({i, l}).second)
      want.emplace_back("i" + std::to_string(i), "g" + std::to_string(l), w);
    else
      ++repeated;
  }
  TempDir dir;
  const ItemLabels got = read_text(dir, "labels.csv", text, items);
  CHECK(got.unknown_item_rows == unknown);
  CHECK(got.duplicate_pairs == repeated);
  REQUIRE(repeated > 1000);  // about 2000: 2250 known rows over 240 pairs
  CHECK(entries_of(got, items) == want);
}
