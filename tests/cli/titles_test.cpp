// Item titles through the CLI: a store ingested from the bundled MovieLens data shows each
// recommended item's title from movies.csv (read here with an independent RFC 4180 parser)
// in recommend / similar-items text and JSON, info reports them, and a store without titles
// prints as before.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "io/store.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path ml_dir() { return test::source_dir() / "data" / "movielens-latest-small"; }

// The fields of one CSV line: quoted fields may hold commas, "" is a quote.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t k = 0; k < line.size(); ++k) {
    const char c = line[k];
    if (quoted && c == '"' && k + 1 < line.size() && line[k + 1] == '"') {
      out.back() += '"';
      ++k;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

// movieId -> title, straight from movies.csv.
const std::map<std::string, std::string>& ml_titles() {
  static const std::map<std::string, std::string> titles = [] {
    std::map<std::string, std::string> t;
    std::ifstream in(ml_dir() / "movies.csv");
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto f = csv_fields(line);
      REQUIRE(f.size() == 3);
      t[f[0]] = f[1];
    }
    return t;
  }();
  return titles;
}

// The bundled data ingested with yearly slices and factorized (small and quick).
struct MlStore {
  TempDir dir;
  std::string path = (dir / "ml.h5").string();
  MlStore() {
    auto r = run_cli(fmt::format("ingest '{}' --labels '{}' --slice year -o '{}'", (ml_dir() / "ratings.csv").string(),
                                 (ml_dir() / "movies.csv").string(), path));
    REQUIRE(r.exit_code == 0);
    REQUIRE(run_cli(fmt::format("factorize '{}' --factors 8 --iterations 2 --threads 2", path)).exit_code == 0);
  }
};

}  // namespace

TEST_CASE("recommend and similar-items on MovieLens print each item's title from movies.csv", "[cli][titles]") {
  MlStore store;
  const auto& titles = ml_titles();
  REQUIRE(titles.at("11") == "American President, The (1995)");  // the parser reads quoted commas

  auto r = run_cli(fmt::format("recommend '{}' --user 1 --k 8 --json", store.path));
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  REQUIRE(j["items"].size() == 8);
  for (const auto& it : j["items"]) {
    const std::string id = it["item"].get<std::string>();
    INFO("item " << id);
    CHECK(it["title"].get<std::string>() == titles.at(id));
  }

  // The text table has the title beside the id.
  auto t = run_cli(fmt::format("recommend '{}' --user 1 --k 8", store.path));
  REQUIRE(t.exit_code == 0);
  CHECK_THAT(t.out, Catch::Contains("title"));
  for (const auto& it : j["items"])
    CHECK_THAT(t.out, Catch::Contains(it["item"].get<std::string>() + " ") &&
                          Catch::Contains(it["title"].get<std::string>()));

  // Toy Story (movieId 1) is in the data; similar-items names it and its neighbours.
  auto s = run_cli(fmt::format("similar-items '{}' --item 1 --k 5 --json", store.path));
  REQUIRE(s.exit_code == 0);
  const json sj = json::parse(s.out);
  CHECK(sj["title"] == "Toy Story (1995)");
  REQUIRE(sj["items"].size() == 5);
  for (const auto& it : sj["items"]) CHECK(it["title"].get<std::string>() == titles.at(it["item"].get<std::string>()));
  auto st = run_cli(fmt::format("similar-items '{}' --item 1 --k 5", store.path));
  REQUIRE(st.exit_code == 0);
  CHECK_THAT(st.out, Catch::StartsWith("items like 1 \"Toy Story (1995)\" (Adventure|Animation|Children|Comedy|Fantasy)"));

  auto info = run_cli(fmt::format("info '{}' --json", store.path));
  REQUIRE(info.exit_code == 0);
  const json ij = json::parse(info.out);
  CHECK(ij["titles"] == true);
  CHECK(ij["titled_items"] == ij["items"]);  // every rated movie is in movies.csv with a title
}

TEST_CASE("recommend on a store without titles prints no title column and null titles in JSON", "[cli][titles]") {
  TempDir dir;
  const std::string store =
      test::generated_store(dir, "--users 100 --items 60 --labels 4 --periods 3 --events-per-period 4 --seed 2");
  REQUIRE(run_cli(fmt::format("factorize '{}' --factors 4 --iterations 2", store)).exit_code == 0);
  const io::Store s = io::Store::open(store);
  REQUIRE_FALSE(s.has_titles());
  const std::string user = s.users()[0], item = s.items()[0];

  auto r = run_cli(fmt::format("recommend '{}' --user '{}' --k 3", store, user));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("rank  item                  score  labels\n"));
  CHECK_THAT(r.out, !Catch::Contains("title"));
  const json j = json::parse(run_cli(fmt::format("recommend '{}' --user '{}' --k 3 --json", store, user)).out);
  REQUIRE(j["items"].size() == 3);
  for (const auto& it : j["items"]) CHECK(it["title"].is_null());

  auto sim = run_cli(fmt::format("similar-items '{}' --item '{}' --k 3", store, item));
  REQUIRE(sim.exit_code == 0);
  CHECK_THAT(sim.out, Catch::StartsWith("items like " + item + " ("));
  CHECK_THAT(sim.out, !Catch::Contains("title"));
}
