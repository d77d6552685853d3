// pipeline/store_jobs: describe_store, reslice_store and generate return and write what
// `driftrec info`, `driftrec reslice` and `driftrec generate` print and write.
#include "pipeline/store_jobs.hpp"

#include <omp.h>

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "io/store.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;
using test::run_cli;

namespace {
constexpr const char* kLog = "--users 100 --items 80 --labels 5 --periods 5 --events-per-period 4 --seed 2";
}

TEST_CASE("describe_store and reslice_store match driftrec info and driftrec reslice", "[pipeline][store_jobs]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto info = run_cli(fmt::format("info '{}' --json", store));
  REQUIRE(info.exit_code == 0);
  CHECK(pipeline::describe_store(store).to_json() == json::parse(info.out));

  const std::string by_cli = test::copy_store(store, "cli.h5"), by_lib = test::copy_store(store, "lib.h5");
  auto r = run_cli(fmt::format("reslice '{}' --slice 5184000s --aggregate count --json", by_cli));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<std::pair<std::string, std::uint64_t>> calls;
  pipeline::ResliceRequest q;
  q.store = by_lib;
  q.slicing = "5184000s";
  q.aggregate = "count";
  q.progress = [&](const char* stage, std::uint64_t, std::uint64_t total) { calls.emplace_back(stage, total); };
  const pipeline::ResliceSummary s = pipeline::reslice_store(q);
  CHECK(test::without(s.to_json(), {"seconds", "store"}) == test::without(json::parse(r.out), {"seconds", "store"}));
  CHECK(s.store == by_lib);
  CHECK(!calls.empty());
  const io::Store a = io::Store::open(by_cli), b = io::Store::open(by_lib);
  REQUIRE(b.n_slices() == a.n_slices());
  CHECK(b.aggregate() == graph::Aggregate::count);
  for (std::size_t k = 0; k < a.n_slices(); ++k) {
    CHECK(b.slice(k).indptr == a.slice(k).indptr);
    CHECK(b.slice(k).indices == a.slice(k).indices);
    CHECK(b.slice(k).data == a.slice(k).data);
  }
  q.slicing = "fortnight";
  CHECK_THAT(test::input_error_of([&] { pipeline::reslice_store(q); }), Catch::Contains("fortnight"));
  CHECK_THAT(test::input_error_of([&] { pipeline::describe_store((dir / "none.h5").string()); }),
             Catch::Contains("none.h5"));
}

TEST_CASE("generate writes the files driftrec generate writes and returns its meta.json", "[pipeline][store_jobs]") {
  test::TempDir dir;
  auto r = run_cli(fmt::format("generate --out '{}' --users 90 --items 70 --labels 5 --periods 4 --seed 9 --json",
                               (dir / "cli").string()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  pipeline::GenerateRequest q;
  q.config.users = 90;
  q.config.items = 70;
  q.config.labels = 5;
  q.config.periods = 4;
  q.config.seed = 9;
  q.out = (dir / "lib").string();
  const pipeline::GenerateSummary s = pipeline::generate(q);
  const json j = s.to_json(), cli = json::parse(r.out);
  // Everything but the timings and the ingest command line, which names the directory.
  CHECK(test::without(j, {"run", "ingest"}) == test::without(cli, {"run", "ingest"}));
  CHECK(j["run"]["threads"].get<int>() >= 1);
  for (const char* file : {"events.csv", "labels.csv", "truth.csv"})
    CHECK(test::read_file(dir / "lib" / file) == test::read_file(dir / "cli" / file));
  CHECK(json::parse(test::read_file(dir / "lib" / "meta.json")) == test::without(j, {"run"}));

  q.config.labels = 0;
  CHECK_THAT(test::input_error_of([&] { pipeline::generate(q); }), Catch::Contains("--labels"));
}

TEST_CASE("reslice_store and generate give the same output for 1 and 2 threads and refuse -1",
          "[pipeline][store_jobs][threads]") {
  test::TempDir dir;
  const int before = omp_get_max_threads();
  pipeline::GenerateRequest g;
  g.config.users = 300;
  g.config.items = 100;
  g.config.labels = 6;
  g.config.periods = 4;
  g.config.seed = 5;
  for (int threads : {1, 2}) {
    g.threads = threads;
    g.out = (dir / fmt::format("gen{}", threads)).string();
    CHECK(pipeline::generate(g).to_json()["run"]["threads"].get<int>() == threads);
    CHECK(omp_get_max_threads() == before);  // the library set no OpenMP default
  }
  for (const char* file : {"events.csv", "labels.csv", "truth.csv"})
    CHECK(test::read_file(dir / "gen1" / file) == test::read_file(dir / "gen2" / file));
  g.threads = -1;
  g.out = (dir / "gen-1").string();
  CHECK_THAT(test::input_error_of([&] { pipeline::generate(g); }), Catch::Contains("threads"));

  const std::string store = test::generated_store(dir, kLog);
  const std::string one = test::copy_store(store, "one.h5"), two = test::copy_store(store, "two.h5");
  pipeline::ResliceRequest q;
  q.slicing = "week";
  for (const auto& [path, threads] : {std::pair{one, 1}, std::pair{two, 2}}) {
    q.store = path;
    q.threads = threads;
    pipeline::reslice_store(q);
    CHECK(omp_get_max_threads() == before);
  }
  test::check_same_store(one, two);
  q.threads = -1;
  CHECK_THAT(test::input_error_of([&] { pipeline::reslice_store(q); }), Catch::Contains("threads"));
}

TEST_CASE("generate refuses to replace files already in out unless force", "[pipeline][store_jobs]") {
  test::TempDir dir;
  pipeline::GenerateRequest q;
  q.config.users = 30;
  q.config.items = 20;
  q.config.labels = 3;
  q.config.periods = 2;
  q.out = dir.path().string();
  for (const char* existing : {"events.csv", "labels.csv", "truth.csv", "meta.json"}) {
    CAPTURE(existing);
    test::TempDir other;
    q.out = other.path().string();
    test::write_file(other / existing, "mine\n");
    CHECK_THAT(test::input_error_of([&] { pipeline::generate(q); }),
               Catch::Contains((other / existing).string()) && Catch::Contains("--force"));
    // Nothing written: the one file is still the user's, and no other appeared.
    CHECK(test::dir_entries(other.path()) == std::set<std::string>{existing});
    CHECK(test::read_file(other / existing) == "mine\n");
  }
  q.out = dir.path().string();
  test::write_file(dir / "events.csv", "mine\n");
  q.force = true;
  const pipeline::GenerateSummary s = pipeline::generate(q);
  CHECK(s.files.events > 0);
  CHECK(test::read_file(dir / "events.csv").starts_with("user,item,time,value\n"));
}
