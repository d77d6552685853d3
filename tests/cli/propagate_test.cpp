// driftrec propagate through the CLI, on a small generated log: what it saves, that it
// equals the library's temporal propagation on the store's slices, and its errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "io/results.hpp"
#include "graph/decay.hpp"
#include "propagation/random_walk.hpp"
#include "propagation/temporal_propagation.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::test::run_cli;
using driftrec::test::TempDir;
using json = nlohmann::json;

// The generated log these tests run on.
constexpr const char* kLog = "--users 200 --items 150 --labels 6 --periods 5 --events-per-period 5 --labelled-fraction 0.8 --seed 11";

TEST_CASE("propagate --method label saves what the library computes, every period", "[cli][propagate]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("propagate '{}' --alpha 0.8 --gamma 0.3 --mu 0.4 --json --threads 2", store));
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["result"] == "label");
  CHECK(j["method"] == "label");
  REQUIRE(j["periods"].size() == 5);
  CHECK(j["not_converged"] == 0);

  io::Store s = io::Store::open(store);
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t k = 0; k < s.n_slices(); ++k) slices.push_back(s.slice(k));
  propagation::TemporalOptions opt;
  opt.propagation.alpha = 0.8f;
  opt.gamma = 0.3f;
  opt.mu = 0.4f;
  opt.propagation.threads = 2;
  const auto expected = propagation::propagate_temporal(slices, s.item_labels(), opt);

  io::h5::Handle g = io::open_result(s, "label");
  CHECK(io::h5::read_attr_string(g, "kind", s.context()) == "label_propagation");
  const auto iterations = io::h5::read_array<std::int64_t>(g, "iterations", s.context());
  const auto converged = io::h5::read_array<std::int32_t>(g, "converged", s.context());
  REQUIRE(iterations.size() == 5);
  for (std::size_t t = 0; t < 5; ++t) {
    CHECK(iterations[t] == expected[t].iterations);
    CHECK(j["periods"][t]["iterations"] == expected[t].iterations);
    CHECK(converged[t] == 1);
    io::Matrix m = io::read_matrix(g, fmt::format("interests/{:04d}", t), s.context());
    REQUIRE(m.rows == static_cast<std::uint64_t>(s.n_users()));
    REQUIRE(m.cols == static_cast<std::uint64_t>(s.n_labels()));
    // Same threads, same numbers, bit for bit; each row a distribution or all zero.
    for (std::uint64_t u = 0; u < m.rows; ++u) {
      double sum = 0;
      for (std::uint64_t l = 0; l < m.cols; ++l) {
        REQUIRE(m.data[u * m.cols + l] == expected[t].interests(static_cast<Eigen::Index>(u), static_cast<Eigen::Index>(l)));
        sum += m.data[u * m.cols + l];
      }
      CHECK((sum == 0 || std::abs(sum - 1) < 1e-5));
    }
    io::Matrix items = io::read_matrix(g, fmt::format("item_labels/{:04d}", t), s.context());
    CHECK(items.rows == static_cast<std::uint64_t>(s.n_items()));
  }
}

TEST_CASE("propagate --keep last:N saves only the last N periods", "[cli][propagate]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("propagate '{}' --keep last:2 --name lp", store));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("/results/lp") != std::string::npos);
  io::Store s = io::Store::open(store);
  io::h5::Handle g = io::open_result(s, "lp");
  for (int t = 0; t < 5; ++t) {
    CHECK(io::h5::exists(g, fmt::format("interests/{:04d}", t)) == (t >= 3));
    CHECK(io::h5::exists(g, fmt::format("item_labels/{:04d}", t)) == (t >= 3));
  }
  // Convergence is recorded for every period, kept or not.
  CHECK(io::h5::read_array<double>(g, "residual", s.context()).size() == 5);
}

TEST_CASE("propagate reports non-convergence instead of hiding it", "[cli][propagate]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = run_cli(fmt::format("propagate '{}' --max-iterations 2 --tolerance 0 --json", store));
  REQUIRE(r.exit_code == 0);
  const json j = json::parse(r.out);
  CHECK(j["not_converged"] == 5);
  CHECK(j["periods"][0]["converged"] == false);
  CHECK(r.err.find("did not converge") != std::string::npos);
}

TEST_CASE("propagate refuses bad options with exit 2 and leaves the store as it was", "[cli][propagate]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  const std::string before = test::read_file(store);
  for (const char* args : {"--method walk", "--alpha 1", "--gamma 2", "--mu -1", "--keep last:0", "--keep first:2",
                           "--max-iterations 0", "--name 'a b'"}) {
    auto r = run_cli(fmt::format("propagate '{}' {}", store, args));
    INFO(args << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("error:") != std::string::npos);
  }
  CHECK(test::read_file(store) == before);
  CHECK(test::dir_entries(dir.path()) == std::set<std::string>{"gen", "s.h5"});
}

TEST_CASE("propagate needs item labels", "[cli][propagate]") {
  TempDir dir;
  test::write_file(dir / "e.csv", "user,item,time\nu1,i1,1000\nu2,i1,2000\nu2,i2,3000\n");
  const std::string store = (dir / "s.h5").string();
  REQUIRE(run_cli(fmt::format("ingest '{}' --slice day -o '{}'", (dir / "e.csv").string(), store)).exit_code == 0);
  auto r = run_cli(fmt::format("propagate '{}'", store));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no item labels") != std::string::npos);
}

namespace {

// A 2-d int32 dataset, read with the plain HDF5 API.
std::vector<std::int32_t> read_ints(hid_t loc, const char* name, hsize_t& rows, hsize_t& cols) {
  io::h5::Handle d(H5Dopen2(loc, name, H5P_DEFAULT), H5Dclose);
  REQUIRE(d >= 0);
  io::h5::Handle space(H5Dget_space(d), H5Sclose);
  hsize_t dims[2] = {0, 0};
  REQUIRE(H5Sget_simple_extent_ndims(space) == 2);
  H5Sget_simple_extent_dims(space, dims, nullptr);
  rows = dims[0];
  cols = dims[1];
  std::vector<std::int32_t> out(rows * cols);
  REQUIRE(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0);
  return out;
}

}  // namespace

TEST_CASE("propagate --method rp3beta / p3alpha / ppr save what the library computes", "[cli][propagate]") {
  TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  io::Store before = io::Store::open(store);
  graph::CsrMatrix history = before.slice(0);
  for (std::size_t t = 1; t < before.n_slices(); ++t) history = graph::decay_step(history, before.slice(t), 0.7f);
  const graph::Index users = before.n_users(), items = before.n_items();

  for (const std::string method : {"p3alpha", "rp3beta", "ppr"}) {
    INFO(method);
    auto r = run_cli(fmt::format("propagate '{}' --method {} --gamma 0.7 --beta 0.3 --neighbours 15 --top 6 --json "
                                 "--threads 2",
                                 store, method));
    REQUIRE(r.exit_code == 0);
    const json j = json::parse(r.out);
    CHECK(j["result"] == method);
    CHECK(j["graph_nnz"] == history.nnz());

    propagation::RecommendOptions ro;
    ro.k = 6;
    ro.threads = 2;
    propagation::TopItems expected;
    io::Store s = io::Store::open(store);
    io::h5::Handle g = io::open_result(s, method);
    if (method == "ppr") {
      CHECK(j["converged"] == true);
      const auto bg = propagation::make_bipartite_graph(history);
      propagation::PageRankOptions po;
      po.threads = 2;
      expected = propagation::pagerank_top_items(bg, po, ro).top;
      // Against the plain serial per-user PageRank: the saved best item is the user's best unseen item.
      for (graph::Index u = 0; u < users; u += 37) {
        const auto p = propagation::personalized_pagerank(history, u, po);
        graph::Index best = -1;
        for (graph::Index i = 0; i < items; ++i) {
          bool seen = false;
          for (auto e = history.indptr[u]; e < history.indptr[u + 1]; ++e) seen |= history.indices[e] == i;
          if (!seen && p.scores[i] > 0 && (best < 0 || p.scores[i] > p.scores[best] + 1e-6f)) best = i;
        }
        if (best >= 0) CHECK(std::abs(p.scores[expected.items_of(u)[0]] - p.scores[best]) <= 1e-5f);
      }
    } else {
      propagation::WalkSimilarityOptions so;
      so.beta = method == "rp3beta" ? 0.3f : 0.0f;
      so.k = 15;
      so.threads = 2;
      const graph::CsrMatrix sim = method == "rp3beta" ? propagation::rp3beta_similarity(history, so)
                                                        : propagation::p3alpha_similarity(history, so);
      const graph::CsrMatrix saved = io::read_csr_group(g, "similarity", items, items, s.context());
      CHECK(saved.indptr == sim.indptr);
      CHECK(saved.indices == sim.indices);
      CHECK(saved.data == sim.data);
      expected = propagation::recommend_all(history, sim, ro);
    }
    hsize_t rows = 0, cols = 0;
    CHECK(read_ints(g, "top_items", rows, cols) == expected.items);
    CHECK(rows == static_cast<hsize_t>(users));
    CHECK(cols == 6);
  }
}
