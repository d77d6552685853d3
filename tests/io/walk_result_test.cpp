// io/walk_result: similarity walks and personalised PageRank results read back as written;
// other kinds and misfit top lists are refused.
#include "io/walk_result.hpp"

#include <catch2/catch.hpp>
#include <limits>

#include "tests/io/result_store.hpp"

using namespace driftrec;

namespace {

propagation::TopItems random_top(std::mt19937_64& rng, graph::Index users, int k, graph::Index items) {
  propagation::TopItems t;
  t.users = users;
  t.k = k;
  std::uniform_int_distribution<graph::Index> item(-1, items - 1);
  std::normal_distribution<float> score;
  for (int e = 0; e < users * k; ++e) {
    t.items.push_back(item(rng));
    t.scores.push_back(score(rng));
  }
  return t;
}

}  // namespace

TEST_CASE("walk results read back as written", "[io][walk_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  io::WalkResult sim;
  sim.method = "rp3beta";
  sim.slicing = "month";
  sim.periods = 2;
  sim.gamma = 0.25;
  sim.top = random_top(rng, 4, 3, 5);
  const std::vector<graph::Triplet> entries{{0, 1, 0.5f}, {1, 0, 0.5f}, {3, 4, 0.125f}};
  sim.similarity = graph::csr_from_triplets(5, 5, entries);
  sim.alpha = 1;
  sim.beta = 0.5;
  sim.neighbours = 2;
  io::WalkResult ppr;
  ppr.method = "ppr";
  ppr.slicing = "month";
  ppr.periods = 2;
  ppr.gamma = 0.5;
  ppr.top = random_top(rng, 4, 2, 5);
  ppr.restart_probability = 0.15;
  ppr.tolerance = 1e-6;
  ppr.max_iterations = 40;
  ppr.iterations = 40;
  ppr.residual = 2e-5;
  ppr.converged = false;
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_walk_result(w, "sim", sim);
    io::write_walk_result(w, "ppr", ppr);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  const io::WalkResult a = io::read_walk_result(store, "sim");
  CHECK(a.method == "rp3beta");
  CHECK(a.slicing == "month");
  CHECK(a.periods == 2);
  CHECK(a.gamma == 0.25);
  CHECK(a.top.k == 3);
  CHECK(a.top.items == sim.top.items);
  CHECK(a.top.scores == sim.top.scores);
  CHECK(a.similarity.indptr == sim.similarity.indptr);
  CHECK(a.similarity.indices == sim.similarity.indices);
  CHECK(a.similarity.data == sim.similarity.data);
  CHECK((a.alpha == 1 && a.beta == 0.5 && a.neighbours == 2));
  const io::WalkResult b = io::read_walk_result(store, "ppr");
  CHECK(b.is_pagerank());
  CHECK(b.top.items == ppr.top.items);
  CHECK(b.top.scores == ppr.top.scores);
  CHECK(b.similarity.nnz() == 0);
  CHECK((b.restart_probability == 0.15 && b.tolerance == 1e-6 && b.max_iterations == 40 && b.iterations == 40));
  CHECK(b.residual == 2e-5);
  CHECK(!b.converged);
}

TEST_CASE("reading a walk result refuses other kinds and top lists that do not fit the store", "[io][walk_result]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  io::WalkResult bad;
  bad.method = "ppr";
  bad.top = random_top(rng, 3, 2, 5);  // 3 users, the store has 4
  io::WalkResult other = bad;
  other.method = "label_propagation";
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_walk_result(w, "bad", bad);
    io::write_walk_result(w, "other", other);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK_THROWS_WITH(io::read_walk_result(store, "bad"), Catch::Contains("do not fit the store's 4 users"));
  CHECK_THROWS_WITH(io::read_walk_result(store, "other"), Catch::Contains("not a random-walk"));
}

TEST_CASE("a NaN in stored walk scores or similarities is refused on load; -inf padding is not",
          "[io][walk_result][results_validation]") {
  test::TempDir dir;
  const std::string path = test::result_store(dir);
  std::mt19937_64 rng(test::test_seed());
  io::WalkResult padded;
  padded.method = "ppr";
  padded.slicing = "month";
  padded.periods = 2;
  padded.top = random_top(rng, 4, 3, 5);
  padded.top.items[5] = -1;
  padded.top.scores[5] = -std::numeric_limits<float>::infinity();
  io::WalkResult nan_score = padded;
  nan_score.top.scores[7] = std::numeric_limits<float>::quiet_NaN();
  io::WalkResult nan_similarity = padded;
  nan_similarity.method = "p3alpha";
  const std::vector<graph::Triplet> entries{{0, 1, 0.5f}, {3, 4, std::numeric_limits<float>::quiet_NaN()}};
  nan_similarity.similarity = graph::csr_from_triplets(5, 5, entries);
  {
    io::StoreWriter w(path, io::StoreWriter::Amend{});
    io::write_walk_result(w, "padded", padded);
    io::write_walk_result(w, "nan_score", nan_score);
    io::write_walk_result(w, "nan_similarity", nan_similarity);
    w.commit();
  }
  const io::Store store = io::Store::open(path);
  CHECK(io::read_walk_result(store, "padded").top.scores[5] == -std::numeric_limits<float>::infinity());
  CHECK_THROWS_WITH(io::read_walk_result(store, "nan_score"),
                    Catch::Contains("result 'nan_score'") && Catch::Contains("/results/nan_score/top_scores") &&
                        Catch::Contains("row 2, column 1"));
  CHECK_THROWS_WITH(io::read_walk_result(store, "nan_similarity"),
                    Catch::Contains("result 'nan_similarity'") && Catch::Contains("similarity/data") &&
                        Catch::Contains("entry 1"));
}
