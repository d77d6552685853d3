// io/label_result: a label propagation result written period by period reads back as
// written; unkept periods and results of another kind are refused by name.
#include "io/label_result.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include "io/factors_result.hpp"
#include "tests/io/result_store.hpp"

using namespace driftrec;
using propagation::DenseMatrix;

TEST_CASE("a label result reads back as written", "[io][label_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  const DenseMatrix interests = test::random_rows<DenseMatrix>(rng, 4, 3), items = test::random_rows<DenseMatrix>(rng, 5, 3);
  io::LabelResultInfo info;
  info.options.propagation.alpha = 0.7f;
  info.options.propagation.tolerance = 1e-5;
  info.options.propagation.max_iterations = 33;
  info.options.gamma = 0.25f;
  info.options.mu = 0.75f;
  info.keep = "last:1";
  info.slicing = "month";
  info.iterations = {12, 33};
  info.residual = {1e-7, 3e-4};
  info.converged = {true, false};
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::LabelResultWriter result(w, "lp");
    result.write_period(1, interests, items);
    result.finish(info);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  const io::LabelResultInfo back = io::read_label_result(store, "lp");
  CHECK(back.iterations == info.iterations);
  CHECK(back.residual == info.residual);
  CHECK(back.converged == info.converged);
  CHECK(back.keep == "last:1");
  CHECK(back.slicing == "month");
  CHECK(back.options.propagation.alpha == 0.7f);
  CHECK(back.options.propagation.tolerance == 1e-5);
  CHECK(back.options.propagation.max_iterations == 33);
  CHECK(back.options.gamma == 0.25f);
  CHECK(back.options.mu == 0.75f);
  const io::LabelPeriod p = io::read_label_period(store, "lp", 1);
  CHECK(p.interests == interests);
  CHECK(p.item_labels == items);
  CHECK_THROWS_WITH(io::read_label_period(store, "lp", 0), Catch::Contains("did not keep period 0"));
}

TEST_CASE("reading a label result refuses another kind of result and a misfit matrix", "[io][label_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::FactorsResultWriter f(w, "als");
    f.finish({}, "month", 2);
    io::LabelResultWriter result(w, "narrow");
    result.write_period(0, DenseMatrix::Zero(4, 2), DenseMatrix::Zero(5, 2));  // 2 labels, the store has 3
    io::LabelResultInfo info;
    info.iterations = {1};
    info.residual = {0};
    info.converged = {true};
    result.finish(info);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_AS(io::read_label_result(store, "als"), InputError);
  CHECK_THROWS_WITH(io::read_label_result(store, "als"), Catch::Contains("not a label propagation"));
  CHECK_THROWS_WITH(io::read_label_period(store, "narrow", 0), Catch::Contains("interests/0000"));
  CHECK_THROWS_WITH(io::read_label_result(store, "none"), Catch::Contains("no result named 'none'"));
}

TEST_CASE("a NaN in a stored label result is refused on load naming the store, result, dataset and row",
          "[io][label_result][results_validation]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  DenseMatrix interests = test::random_rows<DenseMatrix>(rng, 4, 3), items = test::random_rows<DenseMatrix>(rng, 5, 3);
  items(4, 2) = std::numeric_limits<float>::quiet_NaN();
  io::LabelResultInfo info;
  info.slicing = "month";
  info.iterations = {1, 1};
  info.residual = {0, 0};
  info.converged = {true, true};
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::LabelResultWriter result(w, "lp");
    result.write_period(1, interests, items);
    result.finish(info);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_WITH(io::read_label_period(store, "lp", 1),
                    Catch::Contains(path) && Catch::Contains("result 'lp'") &&
                        Catch::Contains("/results/lp/item_labels/0001") && Catch::Contains("row 4, column 2") &&
                        Catch::Contains("nan"));
}
