// driftrec train / predict / recommend --model and the demo pipeline through the CLI.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include <fmt/format.h>

#include "io/sequence_result.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;

// The generated log these tests run on.
constexpr const char* kLog = "--users 150 --items 120 --labels 6 --periods 7 --events-per-period 6 --seed 21";

TEST_CASE("train saves a loadable model and next-period predictions, deterministically", "[cli][train]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("train '{}' --epochs 5 --hidden 8 --json --threads 2 --seed 3", store));
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["result"] == "sequence");
  CHECK(j["cell"] == "gru");
  CHECK(j["periods"] == 7);
  CHECK(j["epochs_run"].get<int>() >= 1);
  const double w = j["interest_weight"].get<double>();
  CHECK((w == 0 || w == 0.25 || w == 0.5 || w == 0.75));

  io::Store s = io::Store::open(store);
  const io::SequenceResult a = io::read_sequence_result(s, "sequence");
  CHECK(a.model.shape().hidden == 8);
  CHECK(a.next_interests.rows() == s.n_users());
  CHECK(a.next_interests.cols() == s.n_labels());
  for (Eigen::Index u = 0; u < a.next_interests.rows(); ++u) REQUIRE(std::abs(a.next_interests.row(u).sum() - 1) < 1e-4);
  CHECK(a.interest_weight == w);

  // Same seed and threads: the same predictions, bit for bit.
  REQUIRE(run_cli(fmt::format("train '{}' --epochs 5 --hidden 8 --threads 2 --seed 3 --name again", store)).exit_code == 0);
  const io::SequenceResult b = io::read_sequence_result(io::Store::open(store), "again");
  CHECK(a.next_interests == b.next_interests);
  CHECK(a.next_factors == b.next_factors);
}

TEST_CASE("predict lists the top labels with new ones flagged; recommend --model skips the user's items",
          "[cli][train]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  REQUIRE(run_cli(fmt::format("train '{}' --epochs 3 --hidden 8 --cell lstm", store)).exit_code == 0);
  io::Store s = io::Store::open(store);
  const std::string user = s.users()[0];
  auto p = run_cli(fmt::format("predict '{}' --user {} --top 6 --json", store, user));
  REQUIRE(p.exit_code == 0);
  const json j = json::parse(p.out);
  REQUIRE(j["labels"].size() == 6);
  // The user's labels so far, from the store.
  std::set<std::string> had;
  const auto e = s.events();
  const auto labels = s.item_labels();
  const auto names = s.labels();
  for (std::size_t k = 0; k < e.size(); ++k)
    if (e.user[k] == 0)
      for (auto q = labels.indptr[e.item[k]]; q < labels.indptr[e.item[k] + 1]; ++q) had.insert(names[labels.indices[q]]);
  double previous = 2, sum = 0;
  for (const auto& x : j["labels"]) {
    const double prob = x["probability"].get<double>();
    CHECK(prob <= previous);
    previous = prob;
    sum += prob;
    CHECK(x["new"].get<bool>() == !had.contains(x["label"].get<std::string>()));
  }
  CHECK(std::abs(sum - 1) < 1e-4);  // all 6 labels

  auto r = run_cli(fmt::format("recommend '{}' --user {} --model sequence --k 15 --json", store, user));
  REQUIRE(r.exit_code == 0);
  const json rec = json::parse(r.out);
  REQUIRE(rec["items"].size() == 15);
  std::set<std::string> seen;
  const auto items = s.items();
  for (std::size_t k = 0; k < e.size(); ++k)
    if (e.user[k] == 0) seen.insert(items[e.item[k]]);
  for (const auto& x : rec["items"]) CHECK(!seen.contains(x["item"].get<std::string>()));
}

TEST_CASE("train, predict and recommend --model refuse bad input with exit 2", "[cli][train]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  for (const char* args : {"--cell rnn", "--epochs 0", "--hidden 0", "--learning-rate -1", "--window 0", "--name 'x y'"}) {
    auto r = run_cli(fmt::format("train '{}' {}", store, args));
    INFO(args << ": " << r.err);
    CHECK(r.exit_code == 2);
  }
  REQUIRE(run_cli(fmt::format("factorize '{}' --factors 4 --iterations 1", store)).exit_code == 0);
  auto wrong_kind = run_cli(fmt::format("predict '{}' --user {} --model als", store, io::Store::open(store).users()[0]));
  CHECK(wrong_kind.exit_code == 2);
  CHECK(wrong_kind.err.find("not a sequence model") != std::string::npos);
  CHECK(run_cli(fmt::format("predict '{}' --user nobody", store)).exit_code == 2);  // no such result yet, or user

  test::write_file(dir / "e.csv", "user,item,time\nu1,i1,1000\nu2,i1,2000\n");
  test::write_file(dir / "l.csv", "item,label\ni1,a\n");
  const std::string small = (dir / "small.h5").string();
  REQUIRE(run_cli(fmt::format("ingest '{}' --labels '{}' --slice day -o '{}'", (dir / "e.csv").string(),
                              (dir / "l.csv").string(), small))
              .exit_code == 0);
  auto few = run_cli(fmt::format("train '{}'", small));
  CHECK(few.exit_code == 2);
  CHECK(few.err.find("at least 4") != std::string::npos);
}

TEST_CASE("the demo runs the whole pipeline on MovieLens-format data", "[cli][demo]") {
  // A small log in ml-latest-small's format over 8 months, so that every step has data.
  TempDir dir;
  std::string ratings = "userId,movieId,rating,timestamp\n", movies = "movieId,title,genres\n";
  const char* genres[] = {"Drama", "Comedy", "Action|Thriller", "Sci-Fi", "Drama|Romance", "(no genres listed)"};
  for (int m = 1; m <= 40; ++m) movies += fmt::format("{},Movie {},{}\n", m, m, genres[m % 6]);
  for (int month = 0; month < 8; ++month)
    for (int u = 1; u <= 30; ++u)
      for (int k = 0; k < 3; ++k)
        ratings += fmt::format("{},{},4.0,{}\n", u, 1 + (u * 7 + month * 3 + k * 11) % 40, 1514764800 + month * 2678400 + u * 60 + k);
  std::filesystem::create_directories(dir / "data");
  test::write_file(dir / "data" / "ratings.csv", ratings);
  test::write_file(dir / "data" / "movies.csv", movies);
  auto r = run_cli(fmt::format("demo --data '{}' --out '{}' --user 3 --threads 2", (dir / "data").string(),
                               (dir / "out").string()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const char* step : {"== driftrec propagate", "== driftrec factorize", "== driftrec update", "== driftrec train", "== driftrec evaluate",
                           "== driftrec predict", "== driftrec recommend", "demo finished"})
    CHECK(r.out.find(step) != std::string::npos);
  const json report = json::parse(test::read_file(dir / "out" / "evaluation.json"));
  CHECK(report["results"].size() > 20);
  CHECK(io::Store::open((dir / "out" / "movielens.h5").string()).results().size() == 4);
}
