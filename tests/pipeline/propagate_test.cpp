// pipeline/propagate: propagate_store writes what `driftrec propagate` writes and returns
// what its --json prints; bad requests throw InputError naming the field.
#include "pipeline/propagate.hpp"
// The pipeline's public headers pull in neither HDF5 nor CLI11.
#if defined(H5_VERS_MAJOR) || defined(CLI11_VERSION)
#error "a public pipeline header includes HDF5 or CLI11"
#endif
#include "pipeline/pipeline.hpp"
#if defined(H5_VERS_MAJOR) || defined(CLI11_VERSION)
#error "a public pipeline header includes HDF5 or CLI11"
#endif

#include <catch2/catch.hpp>

#include <fmt/format.h>

#include "io/label_result.hpp"
#include "io/walk_result.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using json = nlohmann::json;
using test::run_cli;

namespace {
constexpr const char* kLog = "--users 150 --items 120 --labels 6 --periods 6 --events-per-period 5 --seed 8";
}

TEST_CASE("propagate_store saves the label result driftrec propagate saves", "[pipeline][propagate]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("propagate '{}' --name cli --alpha 0.8 --mu 0.3 --keep last:3 --threads 2 --json", store));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  pipeline::PropagateRequest q;
  q.store = store;
  q.name = "lib";
  q.label.propagation.alpha = 0.8f;
  q.label.mu = 0.3f;
  q.keep = "last:3";
  q.threads = 2;
  std::vector<std::pair<std::string, std::uint64_t>> calls;
  q.progress = [&](const char* stage, std::uint64_t, std::uint64_t total) { calls.emplace_back(stage, total); };
  const pipeline::PropagateSummary s = pipeline::propagate_store(q);

  CHECK(test::without(s.to_json(), {"seconds", "result"}) == test::without(json::parse(r.out), {"seconds", "result"}));
  CHECK(s.periods == 6);
  CHECK(s.label_periods.size() == 6);
  REQUIRE(!calls.empty());
  for (const auto& [stage, total] : calls) CHECK((stage == "propagate" && total == 6));

  const io::Store st = io::Store::open(store);
  const io::LabelResultInfo cli = io::read_label_result(st, "cli"), lib = io::read_label_result(st, "lib");
  CHECK(lib.iterations == cli.iterations);
  CHECK(lib.residual == cli.residual);
  CHECK(lib.converged == cli.converged);
  CHECK(lib.keep == "last:3");
  CHECK(lib.options.propagation.alpha == cli.options.propagation.alpha);
  CHECK(lib.options.mu == cli.options.mu);
  CHECK(lib.slicing == cli.slicing);
  for (std::size_t t = 3; t < 6; ++t) {
    const io::LabelPeriod a = io::read_label_period(st, "cli", t), b = io::read_label_period(st, "lib", t);
    CHECK(b.interests == a.interests);
    CHECK(b.item_labels == a.item_labels);
  }
  CHECK_THAT(test::input_error_of([&] { io::read_label_period(st, "lib", 2); }), Catch::Contains("did not keep period 2"));
}

TEST_CASE("propagate_store's walk methods save what driftrec propagate saves", "[pipeline][propagate]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  for (const char* method : {"p3alpha", "rp3beta", "ppr"}) {
    INFO(method);
    const std::string cli_name = std::string("cli_") + method;
    auto r = run_cli(fmt::format("propagate '{}' --method {} --name {} --gamma 0.3 --top 7 --neighbours 9 --beta 0.4 "
                                 "--threads 2 --json",
                                 store, method, cli_name));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    pipeline::PropagateRequest q;
    q.store = store;
    q.method = method;
    q.walk.gamma = 0.3f;
    q.walk.top = 7;
    q.walk.neighbours = 9;
    q.walk.beta = 0.4f;
    q.threads = 2;
    const pipeline::PropagateSummary s = pipeline::propagate_store(q);
    CHECK(s.result == method);  // the default name
    CHECK(test::without(s.to_json(), {"seconds", "result"}) == test::without(json::parse(r.out), {"seconds", "result"}));

    const io::Store st = io::Store::open(store);
    const io::WalkResult a = io::read_walk_result(st, cli_name), b = io::read_walk_result(st, method);
    CHECK(b.method == method);
    CHECK(b.top.k == 7);
    CHECK(b.top.items == a.top.items);
    CHECK(b.top.scores == a.top.scores);
    CHECK(b.gamma == a.gamma);
    CHECK(b.similarity.indptr == a.similarity.indptr);
    CHECK(b.similarity.indices == a.similarity.indices);
    CHECK(b.similarity.data == a.similarity.data);
    CHECK(b.beta == a.beta);
    CHECK(b.iterations == a.iterations);
    CHECK(b.residual == a.residual);
  }
}

TEST_CASE("a bad propagate request throws InputError naming the field and leaves the store as it was",
          "[pipeline][propagate]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string before = test::read_file(store);
  const auto entries = test::dir_entries(dir.path());
  using Q = pipeline::PropagateRequest;
  Q base;
  base.store = store;
  const auto error_of = test::error_after(base, pipeline::propagate_store);
  CHECK_THAT(error_of([](Q& q) { q.method = "walk"; }), Catch::Contains("method"));
  CHECK_THAT(error_of([](Q& q) { q.keep = "some"; }), Catch::Contains("keep"));
  CHECK_THAT(error_of([](Q& q) { q.label.propagation.alpha = 1.5f; }), Catch::Contains("alpha"));
  CHECK_THAT(error_of([](Q& q) { q.label.mu = -1; }), Catch::Contains("mu"));
  CHECK_THAT(error_of([](Q& q) { q.name = "x y"; }), Catch::Contains("name"));
  CHECK_THAT(error_of([](Q& q) { q.threads = -1; }), Catch::Contains("threads"));
  CHECK_THAT(error_of([](Q& q) { q.method = "ppr"; q.walk.top = 0; }), Catch::Contains("top"));
  CHECK_THAT(error_of([](Q& q) { q.method = "rp3beta"; q.walk.gamma = 2; }), Catch::Contains("gamma"));
  CHECK_THAT(error_of([&](Q& q) { q.store = (dir / "missing.h5").string(); }), Catch::Contains("missing.h5"));
  CHECK(test::read_file(store) == before);
  CHECK(test::dir_entries(dir.path()) == entries);
}

TEST_CASE("parse_reorder reads the words of --reorder and names the field otherwise", "[pipeline][propagate]") {
  using propagation::Reorder;
  for (const Reorder r : {Reorder::automatic, Reorder::on, Reorder::off})
    CHECK(pipeline::parse_reorder(pipeline::reorder_name(r), "reorder") == r);
  CHECK(std::string(pipeline::reorder_name(Reorder::automatic)) == "auto");
  CHECK_THAT(test::input_error_of([] { pipeline::parse_reorder("yes", "reorder"); }),
             Catch::Contains("reorder: expected 'auto', 'on' or 'off', found 'yes'"));
}

TEST_CASE("low_memory_mode reads an unset flag as automatic and a set one as on or off", "[pipeline][propagate]") {
  using propagation::LowMemory;
  CHECK(pipeline::low_memory_mode(std::nullopt) == LowMemory::automatic);
  CHECK(pipeline::low_memory_mode(true) == LowMemory::on);
  CHECK(pipeline::low_memory_mode(false) == LowMemory::off);
  for (const LowMemory m : {LowMemory::automatic, LowMemory::on, LowMemory::off})
    CHECK(pipeline::low_memory_mode(pipeline::low_memory_flag(m)) == m);
}
