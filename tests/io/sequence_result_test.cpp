// io/sequence_result: a trained sequence model and its predictions read back as written;
// another kind of result, a weight outside [0, 1], a boost below 1 and misfit predictions
// are refused.
#include "io/sequence_result.hpp"

#include <catch2/catch.hpp>

#include "io/factors_result.hpp"
#include "temporal/parameters.hpp"
#include "tests/io/result_store.hpp"

using namespace driftrec;
using temporal::RowMatrix;

namespace {

// A model for the store's 3 labels with factors of width 2, and predictions for it.
io::SequenceResult random_result(std::mt19937_64& rng, std::uint64_t seed) {
  io::SequenceResult r;
  r.model.options.cell = temporal::CellKind::lstm;
  r.model.options.hidden = 4;
  r.model.parameters = temporal::initial_parameters(temporal::CellKind::lstm, {3 + 2 + 2, 4, 3, 2}, seed);
  r.next_interests = test::random_rows<RowMatrix>(rng, 4, 3);
  r.next_factors = test::random_rows<RowMatrix>(rng, 4, 2);
  r.item_factors = test::random_rows<matrix_factorization::Factors>(rng, 5, 2);
  r.train_loss = {3.5, 2.5};
  r.validation_loss = {3.25, 3.0};
  r.interest_weight = 0.25;
  r.best_epoch = 2;
  r.window = 24;
  r.slicing = "month";
  r.periods = 2;
  return r;
}

}  // namespace

TEST_CASE("a sequence result reads back as written", "[io][sequence_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  const std::uint64_t seed = test::test_seed();
  std::mt19937_64 rng(seed);
  io::SequenceResult r = random_result(rng, seed);
  r.new_label_boost = 1.75;
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_sequence_result(w, "seq", r);
    w.commit();
  }
  const io::SequenceResult b = io::read_sequence_result(io::Store::open(path), "seq");
  CHECK(b.model.options.cell == temporal::CellKind::lstm);
  CHECK(b.model.options.hidden == 4);
  for (std::size_t t = 0; t < temporal::kTensorCount; ++t) CHECK(b.model.parameters[t] == r.model.parameters[t]);
  CHECK(b.next_interests == r.next_interests);
  CHECK(b.next_factors == r.next_factors);
  CHECK(b.item_factors == r.item_factors);
  CHECK(b.train_loss == r.train_loss);
  CHECK(b.validation_loss == r.validation_loss);
  CHECK(b.interest_weight == 0.25);
  CHECK(b.best_epoch == 2);
  CHECK(b.window == 24);
  CHECK(b.slicing == "month");
  CHECK(b.periods == 2);
  CHECK(b.new_label_boost == 1.75);
}

TEST_CASE("reading a sequence result refuses other kinds, a bad weight and misfit predictions",
          "[io][sequence_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  const std::uint64_t seed = test::test_seed();
  std::mt19937_64 rng(seed);
  io::SequenceResult weight = random_result(rng, seed);
  weight.interest_weight = 1.5;
  io::SequenceResult rows = random_result(rng, seed);
  rows.next_interests = RowMatrix::Zero(3, 3);  // 3 users, the store has 4
  io::SequenceResult boost = random_result(rng, seed);
  boost.new_label_boost = 0.5;
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_sequence_result(w, "weight", weight);
    io::write_sequence_result(w, "rows", rows);
    io::write_sequence_result(w, "boost", boost);
    io::FactorsResultWriter f(w, "als");
    f.finish({}, "month", 2);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_WITH(io::read_sequence_result(store, "weight"), Catch::Contains("interest_weight"));
  CHECK_THROWS_WITH(io::read_sequence_result(store, "rows"), Catch::Contains("next_interests has 3 rows"));
  CHECK_THROWS_WITH(io::read_sequence_result(store, "als"), Catch::Contains("not a sequence model"));
  CHECK_THROWS_WITH(io::read_sequence_result(store, "boost"), Catch::Contains("new_label_boost is 0.5"));
}

TEST_CASE("an attention result's keys and values and a mixture's running values read back as written",
          "[io][sequence_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  const std::uint64_t seed = test::test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  io::SequenceResult r = random_result(rng, seed);  // 4 users, 3 labels, 2 factors
  r.model.options.cell = temporal::CellKind::attention;
  r.model.parameters = temporal::initial_parameters(temporal::CellKind::attention, {3 + 2 + 2, 4, 3, 2}, seed);
  r.mixture = temporal::initial_mixture(r.model.parameters[temporal::kInterestWeight].cast<double>(),
                                        r.model.parameters[temporal::kInterestBias].cast<double>());
  r.interests = "mixture";
  temporal::SequenceState st;
  st.recurrent.hidden = test::random_rows<RowMatrix>(rng, 4, 4);
  for (int t = 0; t < 3; ++t) {
    st.recurrent.keys.push_back(test::random_rows<RowMatrix>(rng, 4, 4));
    st.recurrent.values.push_back(test::random_rows<RowMatrix>(rng, 4, 4));
  }
  st.user_scores = test::random_rows<RowMatrix>(rng, 4, 3);
  st.user_factors = test::random_rows<RowMatrix>(rng, 4, 2);
  st.last_active = {2, -1, 0, 1};
  st.fed_periods = 3;
  st.periods = 2;
  temporal::MixtureState m;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  m.ewma_short = Eigen::MatrixXd::NullaryExpr(3, 4, [&] { return unit(rng); });  // float64: not representable in float
  m.ewma_long = Eigen::MatrixXd::NullaryExpr(3, 4, [&] { return unit(rng); });
  m.labelled = {3, 0, 1, 2};
  m.population = Eigen::Vector3d(0.5, 0.25 + 1e-12, 0.25 - 1e-12);
  st.mixture = m;
  r.state = st;
  io::SequenceResult without = r;  // as an older train wrote it: no attention or mixture state
  without.state->recurrent.keys.clear();
  without.state->recurrent.values.clear();
  without.state->mixture.reset();
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_sequence_result(w, "seq", r);
    io::write_sequence_result(w, "old", without);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  const io::SequenceResult b = io::read_sequence_result(store, "seq");
  REQUIRE(b.state);
  CHECK(b.state->recurrent.hidden == st.recurrent.hidden);
  CHECK(b.state->recurrent.keys == st.recurrent.keys);
  CHECK(b.state->recurrent.values == st.recurrent.values);
  REQUIRE(b.state->mixture);
  CHECK(b.state->mixture->ewma_short == m.ewma_short);  // bitwise, float64
  CHECK(b.state->mixture->ewma_long == m.ewma_long);
  CHECK(b.state->mixture->labelled == m.labelled);
  CHECK(b.state->mixture->population == m.population);
  const io::SequenceResult o = io::read_sequence_result(store, "old");
  REQUIRE(o.state);
  CHECK(o.state->recurrent.keys.empty());
  CHECK_FALSE(o.state->mixture);
}
