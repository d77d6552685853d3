// io/factors_result: factors written period by period read back as written, from the
// latest period with both sides by default; missing periods and misfit factors are refused.
#include "io/factors_result.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include "io/results.hpp"
#include "tests/io/result_store.hpp"

using namespace driftrec;
using matrix_factorization::Factors;

TEST_CASE("factors read back from the latest period that has both sides", "[io][factors_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  const Factors u0 = test::random_rows<Factors>(rng, 4, 3), u1 = test::random_rows<Factors>(rng, 4, 3),
                i1 = test::random_rows<Factors>(rng, 5, 3);
  matrix_factorization::TemporalAlsOptions o;
  o.als.factors = 3;
  o.als.solver = matrix_factorization::Solver::cholesky;
  o.eta = 2;
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::FactorsResultWriter f(w, "als");
    f.write_user(0, u0);
    f.write_user(1, u1);
    f.write_item(1, i1);
    f.finish(o, "month", 2);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  const io::StoredFactors latest = io::read_factors(store, "als");
  CHECK(latest.period == 1);
  CHECK(latest.model.user == u1);
  CHECK(latest.model.item == i1);
  CHECK(io::read_factors(store, "als", 1).model.user == u1);
  CHECK_THROWS_WITH(io::read_factors(store, "als", 0), Catch::Contains("period 0"));
  const io::h5::Handle g = io::open_result(store, "als");
  CHECK(io::h5::read_attr_string(g, "kind", store.context()) == "temporal_als");
  CHECK(io::h5::read_attr_string(g, "solver", store.context()) == "cholesky");
  CHECK(io::h5::read_attr_double(g, "eta", store.context()) == 2.0);
  CHECK(io::h5::read_attr_int(g, "periods", store.context()) == 2);
}

TEST_CASE("factors that do not fit the store are refused", "[io][factors_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::FactorsResultWriter rows(w, "rows");
    rows.write_user(1, Factors::Zero(3, 2));  // 3 users, the store has 4
    rows.write_item(1, Factors::Zero(5, 2));
    rows.finish({}, "month", 2);
    io::FactorsResultWriter widths(w, "widths");
    widths.write_user(1, Factors::Zero(4, 2));
    widths.write_item(1, Factors::Zero(5, 3));
    widths.finish({}, "month", 2);
    io::FactorsResultWriter empty(w, "empty");
    empty.finish({}, "month", 2);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_WITH(io::read_factors(store, "rows"), Catch::Contains("3 rows, the store has 4"));
  CHECK_THROWS_WITH(io::read_factors(store, "widths"), Catch::Contains("different widths"));
  CHECK_THROWS_WITH(io::read_factors(store, "empty"), Catch::Contains("no period with both"));
}

TEST_CASE("a NaN or infinity in stored factors is refused on load naming the store, result, dataset and row",
          "[io][factors_result][results_validation]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  Factors u = test::random_rows<Factors>(rng, 4, 3), i = test::random_rows<Factors>(rng, 5, 3);
  const float bad = GENERATE(std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                             -std::numeric_limits<float>::infinity());
  CAPTURE(bad);
  const bool user_side = GENERATE(true, false);
  CAPTURE(user_side);
  (user_side ? u : i)(2, 1) = bad;
  matrix_factorization::TemporalAlsOptions o;
  o.als.factors = 3;
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::FactorsResultWriter f(w, "als");
    f.write_user(1, u);
    f.write_item(1, i);
    f.finish(o, "month", 2);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_WITH(io::read_factors(store, "als"),
                    Catch::Contains(path) && Catch::Contains("result 'als'") &&
                        Catch::Contains(user_side ? "/results/als/user_factors/0001" : "/results/als/item_factors/0001") &&
                        Catch::Contains("row 2, column 1") && Catch::Contains("damaged"));
}
