// gpu_bench: the CUDA backends against their anchors, all in one process on one GPU
// machine (README.md): the GPU's device-to-device copy bandwidth, one label-propagation
// iteration on R-MAT graphs (driftrec's CUDA kernel, cuSPARSE SpMM ALG2 doing the same two
// products, and the CPU backend on the machine's cores), and one implicit-ALS iteration
// (CUDA CG against the CPU CG) at each factor count. Prints one JSON object; each GPU
// figure sits beside its anchors and their ratios, and beside a check that the GPU result
// equals the CPU one (max relative difference after the same work).
#include <cuda_runtime_api.h>

#include <algorithm>
#include <fstream>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/cuda/device_memory.hpp"
#include "core/device.hpp"
#include "graph/csr.hpp"
#include "graph/rmat.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "matrix_factorization/implicit_als.hpp"
#include "propagation/backend.hpp"
#include "propagation/cuda/cuda_backend.hpp"

using namespace driftrec;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
namespace pr = driftrec::propagation;
namespace mf = driftrec::matrix_factorization;

namespace {

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Best of `repeat` calls of body() after one warm-up, in seconds (host clock; body syncs).
template <class Body>
double best_of(int repeat, Body&& body) {
  body();
  double best = INFINITY;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = Clock::now();
    body();
    best = std::min(best, since(t0));
  }
  return best;
}

// cudaMemcpy device to device of `bytes`, best of 10; GB/s counts the bytes read plus the
// bytes written (2 * bytes), as STREAM's copy does.
json copy_bandwidth(std::size_t bytes) {
  core::cuda::DeviceArray<char> a(bytes), b(bytes);
  a.fill_zero();
  const double t = best_of(10, [&] {
    core::cuda::check(cudaMemcpy(b.data(), a.data(), bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy (device)");
    core::cuda::check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  });
  return {{"bytes_copied", bytes}, {"seconds", t}, {"gb_per_s", 2.0 * double(bytes) / t / 1e9}};
}

// The compulsory-traffic model of bench/propagation (README there): one fused half-step
// writing R rows from C input rows, and a plain product (the anchors).
double fused_bytes(double nnz, double r, double c, double k) {
  return nnz * (4 + 4) + (r + 1) * 8 + r * 4 + c * 4 + c * k * 4 + 3 * r * k * 4;
}
double product_bytes(double nnz, double r, double c, double k) {
  return nnz * (4 + 4) + (r + 1) * 8 + c * k * 4 + r * k * 4;
}

pr::DenseMatrix pattern(Eigen::Index rows, Eigen::Index cols, unsigned salt) {
  pr::DenseMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i)
    m.data()[i] = static_cast<float>((static_cast<std::uint64_t>(i) * 2654435761u + salt) % 1000u) / 1000.0f;
  return m;
}

// max |a - b| / (max |b| + 1e-30)
double max_rel_diff(const float* a, const float* b, std::size_t n) {
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return worst / (scale + 1e-30);
}

json label_propagation(std::int64_t edges, int k, int cpu_threads, int repeat, std::uint64_t seed, double copy_gbs,
                       bool cpu_path) {
  graph::RmatConfig rc;
  rc.edges = edges;
  rc.row_scale = static_cast<int>(std::lround(std::log2(double(edges) / 16)));  // bench/propagation's shape
  rc.col_scale = rc.row_scale - 2;
  rc.seed = seed;
  auto t0 = Clock::now();
  const pr::BipartiteGraph g = pr::make_bipartite_graph(graph::rmat_matrix(rc, cpu_threads), "rmat");
  const double build_s = since(t0);
  const double nnz = double(g.nnz()), users = g.users(), items = g.items();
  std::cerr << fmt::format("lp: graph {}x{} nnz {} built in {:.1f}s\n", g.users(), g.items(), g.nnz(), build_s);
  json j{{"edges_drawn", edges}, {"nnz", g.nnz()}, {"users", g.users()}, {"items", g.items()}, {"k", k},
         {"graph_build_seconds", build_s}};

  const pr::cuda::CudaBackend gpu;
  t0 = Clock::now();
  const auto gg = gpu.prepare(g);
  j["upload_seconds"] = since(t0);
  const double it_bytes = fused_bytes(nnz, users, items, k) + fused_bytes(nnz, items, users, k);
  const double prod_bytes = product_bytes(nnz, users, items, k) + product_bytes(nnz, items, users, k);
  const double t_gpu = gpu.iteration_seconds(*gg, k, repeat);
  const double t_sparse = gpu.cusparse_seconds(*gg, k, repeat);
  j["bytes_per_iteration_model"] = it_bytes;
  j["cuda"] = {{"seconds_per_iteration", t_gpu},
               {"gb_per_s", it_bytes / t_gpu / 1e9},
               {"fraction_of_copy_bandwidth", it_bytes / t_gpu / 1e9 / copy_gbs}};
  j["cusparse_spmm_alg2"] = {{"seconds_two_products", t_sparse},
                             {"gb_per_s", prod_bytes / t_sparse / 1e9},
                             {"fraction_of_copy_bandwidth", prod_bytes / t_sparse / 1e9 / copy_gbs}};
  j["speedup_vs_cusparse"] = t_sparse / t_gpu;

  // Correctness on this graph: one iteration from the same F on both backends.
  const auto cpu = pr::make_backend("cpu", {cpu_threads});
  const auto gc = cpu->prepare(g);
  pr::DenseMatrix fu_cpu = pattern(g.users(), k, 1), fi_cpu = pattern(g.items(), k, 2);
  const pr::DenseMatrix seed_items = pattern(g.items(), k, 3);
  pr::DenseMatrix fu_gpu = fu_cpu, fi_gpu = fi_cpu;
  auto one_iteration = [&](const pr::Backend& b, const pr::PreparedGraph& h, pr::DenseMatrix& fu, pr::DenseMatrix& fi) {
    pr::IterationLoop loop;
    loop.alpha = 0.85f;
    loop.f_users = pr::view(fu);
    loop.f_items = pr::view(fi);
    loop.seed_items = pr::view(seed_items);
    loop.max_iterations = 1;
    loop.after_iteration = [](int, double, double) { return true; };
    b.iterate(h, loop);
  };
  one_iteration(gpu, *gg, fu_gpu, fi_gpu);
  one_iteration(*cpu, *gc, fu_cpu, fi_cpu);
  j["max_rel_diff_vs_cpu"] = std::max(max_rel_diff(fu_gpu.data(), fu_cpu.data(), fu_cpu.size()),
                                      max_rel_diff(fi_gpu.data(), fi_cpu.data(), fi_cpu.size()));
  if (cpu_path) {
    // The CPU path on this machine's cores: the same two half-steps, host operands.
    const double t_cpu = best_of(std::max(1, repeat / 4), [&] {
      pr::HalfStep u{pr::Side::users, 0.85f, pr::view(std::as_const(fi_cpu)), pr::view(fu_cpu), {}, 1};
      cpu->half_step(*gc, u);
      pr::HalfStep i{pr::Side::items, 0.85f, pr::view(std::as_const(fu_cpu)), pr::view(fi_cpu),
                     pr::view(seed_items), 1};
      cpu->half_step(*gc, i);
    });
    j["cpu"] = {{"threads", cpu_threads}, {"seconds_per_iteration", t_cpu}, {"gb_per_s", it_bytes / t_cpu / 1e9}};
    j["speedup_vs_cpu"] = t_cpu / t_gpu;
  }
  return j;
}

json als(std::int64_t entries, const std::vector<int>& factors, int cpu_threads, std::uint64_t seed) {
  graph::RmatConfig rc;  // a skewed users x items matrix with about `entries` stored values
  rc.row_scale = static_cast<int>(std::lround(std::log2(double(entries) / 24)));
  rc.col_scale = rc.row_scale - 2;
  rc.edges = entries + entries / 10;  // duplicates merge: about `entries` remain
  rc.seed = seed;
  auto t0 = Clock::now();
  const graph::CsrMatrix user_items = graph::rmat_matrix(rc, cpu_threads);
  const graph::CsrMatrix item_users = graph::transpose(user_items);
  std::cerr << fmt::format("als: matrix {}x{} nnz {} built in {:.1f}s\n", user_items.n_rows, user_items.n_cols,
                           user_items.nnz(), since(t0));
  json j{{"entries_target", entries}, {"nnz", user_items.nnz()}, {"users", user_items.n_rows},
         {"items", user_items.n_cols}, {"cg_steps", 3}, {"runs", json::array()}};
  const auto gpu = mf::make_als_backend("cuda", {cpu_threads});
  const auto cpu = mf::make_als_backend("cpu", {cpu_threads});
  for (int f : factors) {
    mf::AlsOptions o;
    o.factors = f;
    o.regularization = 0.1f;
    const mf::Factors user0 = mf::initial_factors(user_items.n_rows, f, seed, mf::kUserStream, cpu_threads);
    const mf::Factors item0 = mf::initial_factors(user_items.n_cols, f, seed, mf::kItemStream, cpu_threads);
    // One iteration = users half-sweep then items half-sweep, from the same start;
    // host <-> device copies of the ratings and factors included for the GPU.
    auto iteration = [&](const mf::AlsBackend& b, mf::Factors& user, mf::Factors& item) {
      b.solve_rows(user_items, item, user, o);
      b.solve_rows(item_users, user, item, o);
    };
    mf::Factors ug = user0, ig = item0, uc = user0, ic = item0;
    t0 = Clock::now();
    iteration(*gpu, ug, ig);  // warm-up, and the result compared below
    const double first_gpu = since(t0);
    double t_gpu = INFINITY;
    for (int r = 0; r < 2; ++r) {
      mf::Factors u = user0, i = item0;
      t0 = Clock::now();
      iteration(*gpu, u, i);
      t_gpu = std::min(t_gpu, since(t0));
    }
    t0 = Clock::now();
    iteration(*cpu, uc, ic);
    const double t_cpu = since(t0);
    j["runs"].push_back({{"factors", f},
                         {"cuda_seconds_per_iteration", t_gpu},
                         {"cuda_first_iteration_seconds", first_gpu},
                         {"cpu_seconds_per_iteration", t_cpu},
                         {"cpu_threads", cpu_threads},
                         {"speedup_vs_cpu", t_cpu / t_gpu},
                         {"max_rel_diff_vs_cpu", std::max(max_rel_diff(ug.data(), uc.data(), uc.size()),
                                                          max_rel_diff(ig.data(), ic.data(), ic.size()))}});
    std::cerr << fmt::format("als: f {} cuda {:.3f}s cpu {:.3f}s\n", f, t_gpu, t_cpu);
  }
  return j;
}

void save(const json& j, const std::string& path) {
  if (path.empty()) return;
  std::ofstream f(path);
  f << j.dump(2) << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gpu_bench: the CUDA backends against the GPU's copy bandwidth, cuSPARSE and the CPU path"};
  std::vector<std::int64_t> lp_edges{std::int64_t{1} << 24, std::int64_t{1} << 28};
  std::vector<std::int64_t> als_entries{20000000, 100000000};
  std::vector<int> factors{64, 128};
  int k = 20, threads = 16, repeat = 10;
  std::int64_t cpu_lp_max_edges = std::int64_t{1} << 28;
  std::uint64_t seed = 1;
  std::string json_out;
  app.add_option("--json-out", json_out, "also write the JSON here, rewritten after every figure (a timeout keeps "
                                         "the figures done)");
  app.add_option("--lp-edges", lp_edges, "R-MAT edges drawn per label-propagation graph (list)");
  app.add_option("--k", k, "labels");
  app.add_option("--als-entries", als_entries, "stored entries of each ALS matrix (list)");
  app.add_option("--factors", factors, "ALS factor counts (list)");
  app.add_option("--threads", threads, "CPU threads of the CPU path and the generators");
  app.add_option("--repeat", repeat, "timed repetitions of a GPU iteration");
  app.add_option("--cpu-lp-max-edges", cpu_lp_max_edges, "time the CPU label propagation only up to this many edges");
  app.add_option("--seed", seed, "generator seed");
  CLI11_PARSE(app, argc, argv);
  try {
    const std::string why = core::cuda_unavailable_reason();
    if (!why.empty()) {
      std::cerr << "gpu_bench: " << why << "\n";
      return 2;
    }
    cudaDeviceProp prop{};
    core::cuda::check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    json out{{"device", prop.name}, {"device_memory_bytes", prop.totalGlobalMem}, {"cpu_threads", threads}};
    out["copy_bandwidth"] = copy_bandwidth(std::size_t{1} << 30);
    const double copy_gbs = out["copy_bandwidth"]["gb_per_s"];
    out["byte_model"] = "bench/propagation's compulsory traffic: iteration = two fused half-steps; anchors = two "
                        "plain products";
    out["label_propagation"] = json::array();
    for (std::int64_t e : lp_edges) {
      out["label_propagation"].push_back(label_propagation(e, k, threads, repeat, seed, copy_gbs, e <= cpu_lp_max_edges));
      save(out, json_out);
    }
    out["als"] = json::array();
    for (std::int64_t n : als_entries) {
      out["als"].push_back(als(n, factors, threads, seed));
      save(out, json_out);
    }
    std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "gpu_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
