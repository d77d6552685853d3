// A store whose slices hold a negative weight (written before ingest checked values, or
// edited): factorize, propagate, train and evaluate refuse it naming the store, the period
// and the user and item ids, not the internal row and column the algorithms see.
#include <catch2/catch.hpp>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "io/store.hpp"
#include "pipeline/evaluate.hpp"
#include "pipeline/factorize.hpp"
#include "pipeline/propagate.hpp"
#include "pipeline/train.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;

namespace {

// 4 users x 4 items over 5 monthly periods; in period 2 user 'u2' gave item 'i3' -1.
std::string store_with_negative_weight(const test::TempDir& dir) {
  io::StoreContent c;
  c.users = {"u0", "u1", "u2", "u3"};
  c.items = {"i0", "i1", "i2", "i3"};
  c.labels = {"a", "b"};
  c.item_labels = graph::csr_from_triplets(4, 2, std::vector<graph::Triplet>{{0, 0, 1}, {1, 1, 1}, {2, 0, 1}, {3, 1, 1}});
  constexpr graph::Time kMonth = 2678400;  // 31 days: one event per month of 1970
  for (graph::Index p = 0; p < 5; ++p)
    for (graph::Index u = 0; u < 4; ++u) {
      const graph::Index item = (u + p) % 4;
      const float value = (p == 2 && u == 2) ? -1.0f : 1.0f;
      c.events.user.push_back(u);
      c.events.item.push_back(item);
      c.events.time.push_back(p * kMonth + u);
      c.events.value.push_back(value);
    }
  const std::string path = (dir / "s.h5").string();
  io::StoreWriter w(path, false);
  io::write_store(w, c, graph::Slicing::parse("month"), graph::Aggregate::sum);
  w.commit();
  return path;
}

}  // namespace

TEST_CASE("store jobs name the user and item ids and the period of a negative slice weight",
          "[pipeline][values]") {
  test::TempDir dir;
  const std::string store = store_with_negative_weight(dir);
  // (u + p) % 4 with u = 2, p = 2: item 'i0'. (A composed matcher keeps pointers to its
  // parts, so it is built where it is used.)
  auto names_ids = [&](const std::function<void()>& job) {
    try {
      job();
      FAIL("expected an InputError");
    } catch (const InputError& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains(store) &&
                                            Catch::Contains("user 'u2', item 'i0' has weight -1") &&
                                            Catch::Contains("period 2") && Catch::Contains("1970-03-01") &&
                                            Catch::Contains("--negative"));
    }
  };
  SECTION("factorize") {
    pipeline::FactorizeRequest q;
    q.store = store;
    q.name = "als";
    q.options.als.factors = 2;
    names_ids([&] { pipeline::factorize_store(q); });
  }
  SECTION("propagate, label propagation and a random walk") {
    pipeline::PropagateRequest q;
    q.store = store;
    q.method = GENERATE("label", "p3alpha");
    CAPTURE(q.method);
    names_ids([&] { pipeline::propagate_store(q); });
  }
  SECTION("train") {
    pipeline::TrainRequest q;
    q.store = store;
    names_ids([&] { pipeline::train_store(q); });
  }
  SECTION("evaluate") {
    pipeline::EvaluateRequest q;
    q.store = store;
    q.test_periods = 1;
    names_ids([&] { pipeline::evaluate_store(q); });
  }
  CHECK(io::Store::open(store).results().empty());
}
