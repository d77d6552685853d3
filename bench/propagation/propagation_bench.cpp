// propagation_bench: one temporal label-propagation iteration (Backend::half_step for the
// users, then for the items, both with seeds, as propagation/label_propagation.cpp runs
// it) on skewed R-MAT bipartite graphs, timed beside its anchors in the same process: a
// STREAM triad, SuiteSparse:GraphBLAS GrB_mxm (PLUS_TIMES_FP32) and Eigen's sparse x
// dense product on the same matrix and k. Prints one JSON object (and writes it to
// --json-out) with every figure, every anchor and every ratio; README.md beside this file
// states the byte model.
//
// Levers (--levers): the same iteration on a copy of the graph and the dense matrices
// whose pages are collapsed into 2 MiB huge pages, timed interleaved with the plain copy;
// and (also --blocked-lever) the tiled users' gather of blocked_lever.hpp.
#include <omp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/propagation/anchors.hpp"
#include "bench/propagation/blocked_lever.hpp"
#include "bench/propagation/end_to_end.hpp"
#include "bench/propagation/temporal_end_to_end.hpp"
#include "graph/rmat.hpp"
#include "propagation/backend.hpp"
#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/huge_pages.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/label_propagation.hpp"
#include "propagation/reorder.hpp"

namespace {

using namespace driftrec;
using bench::Timing;
using graph::Index;
using graph::Offset;
using propagation::BipartiteGraph;
using propagation::DenseMatrix;
using propagation::Side;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Operands {
  DenseMatrix f_users, f_items, y_users, y_items;  // state and seeds, float32 row-major
  std::size_t bytes() const {
    return sizeof(float) * static_cast<std::size_t>(f_users.size() + f_items.size() +
                                                    y_users.size() + y_items.size());
  }
};

DenseMatrix random_rows(Index rows, Index k, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  DenseMatrix m(rows, k);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = u(rng) / static_cast<float>(k);
  return m;
}

Operands make_operands(const BipartiteGraph& g, Index k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  Operands o;
  o.f_users = random_rows(g.users(), k, rng);
  o.f_items = random_rows(g.items(), k, rng);
  o.y_users = random_rows(g.users(), k, rng);
  o.y_items = random_rows(g.items(), k, rng);
  return o;
}

// One iteration as label propagation runs it (Backend::iteration: on the CPU backend the
// two half-steps when the graph stores W^T, else one pass over W, the users' gather and the
// items' scatter), or, with two_half_steps, half_step(users) then half_step(items) called
// one by one (over the stored W^T, or the scatter without it). Equal bit for bit.
double iteration(const propagation::PreparedGraph& g, Operands& o, bool two_half_steps = false) {
  const propagation::Backend& be = g.backend();
  const auto t0 = Clock::now();
  if (!two_half_steps) {
    propagation::Iteration it;
    it.alpha = 0.8f;
    it.f_users = propagation::view(o.f_users);
    it.f_items = propagation::view(o.f_items);
    it.seed_users = propagation::view(std::as_const(o.y_users));
    it.seed_scale_users = 0.5f;  // mu: the temporal prior
    it.seed_items = propagation::view(std::as_const(o.y_items));
    be.iteration(g, it);
    return since(t0);
  }
  propagation::HalfStep s;
  s.alpha = 0.8f;
  s.out = Side::users;
  s.f_in = propagation::view(std::as_const(o.f_items));
  s.f_out = propagation::view(o.f_users);
  s.seed = propagation::view(std::as_const(o.y_users));
  s.seed_scale = 0.5f;  // mu: the temporal prior
  be.half_step(g, s);
  s.out = Side::items;
  s.f_in = propagation::view(std::as_const(o.f_users));
  s.f_out = propagation::view(o.f_items);
  s.seed = propagation::view(std::as_const(o.y_items));
  s.seed_scale = 1.0f;
  be.half_step(g, s);
  return since(t0);
}

// The compulsory-traffic model of one fused half-step writing R rows from C input rows:
// every index and value once, the row offsets, both degree vectors, every x row once,
// every y row read (for the change) and written once, every seed row read once.
double fused_bytes(double nnz, double r, double c, double k) {
  return nnz * (4 + 4) + (r + 1) * 8 + r * 4 + c * 4 + c * k * 4 + 3 * r * k * 4;
}
// What the one-pass iteration must move at least: W once (ids, values, offsets), both
// degree vectors, the F_I rows once (gathered), F_U and Y_U (read, written, read), F_I and
// Y_I in the finish, and the items x k accumulators read and written once.
double one_pass_bytes(double nnz, double users, double items, double k) {
  return nnz * (4 + 4) + (users + 1) * 8 + (users + items) * 4 + items * k * 4 + 3 * users * k * 4 +
         3 * items * k * 4 + 2 * items * k * 4;
}
// The same model for a plain product y = A x (the anchors): no scales, no seed, no read of y.
double product_bytes(double nnz, double r, double c, double k) {
  return nnz * (4 + 4) + (r + 1) * 8 + c * k * 4 + r * k * 4;
}

// max |a - b| / (|b| + 1e-6 max|b|): the worst relative difference, floored near zero.
double max_rel_diff(const DenseMatrix& a, const DenseMatrix& b) {
  if (a.size() != b.size() || b.size() == 0) return a.size() == b.size() ? 0.0 : INFINITY;
  const double floor = 1e-6 * double(b.cwiseAbs().maxCoeff()) + 1e-30;
  double worst = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(double(a.data()[i]) - b.data()[i]) / (std::fabs(double(b.data()[i])) + floor));
  return worst;
}

// The easy tier end to end (graph build, relabelling, seeds, iterations, mapping back):
// propagate_labels on W with 1 and with n iterations (tolerance 0), reorder off and on
// interleaved, best of `repeats`; per iteration = (T_n - T_1) / (n - 1), setup = T_1 - that.
json full_path(const graph::CsrMatrix& w, int k, int threads, int repeats, std::uint64_t seed) {
  constexpr int n = 10;
  std::mt19937_64 rng(seed);
  std::vector<graph::Triplet> labels;
  for (Index i = 0; i < w.n_cols; ++i) labels.push_back({i, static_cast<Index>(rng() % k), 1.0f});
  const graph::CsrMatrix item_labels = graph::csr_from_triplets(w.n_cols, k, labels);
  const DenseMatrix prior = random_rows(w.n_rows, k, rng);
  using propagation::Reorder;
  json j{{"k", k}, {"threads", threads}, {"iterations", n}, {"load_average_before", bench::load_average_1min()}};
  propagation::PropagationResult result[2];
  for (const int its : {1, n}) {
    std::vector<double> secs[2];
    for (int r = 0; r < repeats; ++r)
      for (const Reorder mode : {Reorder::off, Reorder::on}) {
        propagation::LabelPropagationOptions o;
        o.tolerance = 0;
        o.max_iterations = its;
        o.threads = threads;
        o.reorder = mode;
        const auto t0 = Clock::now();
        result[mode == Reorder::on] = propagation::propagate_labels(w, item_labels, &prior, o);
        secs[mode == Reorder::on].push_back(since(t0));
      }
    for (const int on : {0, 1})
      j[on ? "reorder_on" : "reorder_off"][fmt::format("seconds_{}_iterations", its)] = bench::summarize(secs[on]).best;
  }
  for (const char* mode : {"reorder_off", "reorder_on"}) {
    json& m = j[mode];
    const double t1 = m["seconds_1_iterations"], tn = m[fmt::format("seconds_{}_iterations", n)];
    m["ms_per_iteration_amortised"] = tn / n * 1e3;  // setup included, spread over n
    m["ms_per_iteration"] = (tn - t1) / (n - 1) * 1e3;
    m["setup_ms"] = (t1 - (tn - t1) / (n - 1)) * 1e3;
  }
  const double on_it = j["reorder_on"]["ms_per_iteration"], off_it = j["reorder_off"]["ms_per_iteration"];
  const double extra_setup = double(j["reorder_on"]["setup_ms"]) - double(j["reorder_off"]["setup_ms"]);
  j["speedup_amortised"] = double(j["reorder_off"]["ms_per_iteration_amortised"]) / double(j["reorder_on"]["ms_per_iteration_amortised"]);
  j["speedup_per_iteration"] = off_it / on_it;
  j["break_even_iterations"] = off_it > on_it ? json(extra_setup / (off_it - on_it)) : json("never");
  j["max_rel_diff_users_on_vs_off"] = max_rel_diff(result[1].user_labels, result[0].user_labels);
  j["max_rel_diff_items_on_vs_off"] = max_rel_diff(result[1].item_labels, result[0].item_labels);
  j["load_average_after"] = bench::load_average_1min();
  return j;
}

json timing_json(const Timing& t, double bytes, double flops, double triad) {
  return {{"ms_best", t.best * 1e3},
          {"ms_median", t.median * 1e3},
          {"gb_per_s", bytes / t.best / 1e9},
          {"gflop_per_s", flops / t.best / 1e9},
          {"fraction_of_triad", bytes / t.best / 1e9 / triad}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"propagation_bench: label propagation on R-MAT graphs vs triad, GraphBLAS, Eigen"};
  std::vector<Offset> edges{Offset{1} << 24};
  std::vector<int> ks{1, 8, 20, 32}, threads_list{1, 2};
  int iterations = 5, edge_factor = 16, col_shift = 2;
  bool memory_only = false;
  int end_to_end = 0, temporal = 0;
  std::vector<std::string> low_memory_modes{"on"};
  graph::Offset block_cost = 0;
  bool large = false, no_graphblas = false, no_eigen = false, levers = false, degree_order = false,
       full = false, blocked_lever = false;
  std::vector<int> panel_bits{13, 14, 16};
  std::vector<int> chunk_rows{4096};
  std::uint64_t seed = 1;
  std::string json_out;
  app.add_option("--edges", edges, "R-MAT edges drawn per graph (list)");
  app.add_option("--edge-factor", edge_factor, "rows = 2^round(log2(edges / edge-factor))");
  app.add_option("--col-shift", col_shift, "cols = rows / 2^col-shift");
  app.add_option("--k", ks, "label counts (list)");
  app.add_option("--threads", threads_list, "thread counts (list)");
  app.add_option("--iterations", iterations, "timed iterations per figure (after one warm-up)");
  app.add_option("--seed", seed, "R-MAT seed");
  app.add_option("--json-out", json_out, "also write the JSON here");
  app.add_flag("--large", large, "add a 10^8-edge graph (needs about 3 GB plus the anchors' copies)");
  app.add_flag("--no-graphblas", no_graphblas, "skip the GraphBLAS anchor");
  app.add_flag("--no-eigen", no_eigen, "skip the Eigen anchor");
  app.add_flag("--degree-order", degree_order,
               "run everything (driftrec and the anchors) on the graph relabelled by degree");
  app.add_flag("--full-path", full,
               "also time propagate_labels end to end (1 and 10 iterations), reorder off vs on");
  app.add_flag("--memory-only", memory_only,
               "build each graph as propagate_labels holds it, measure one iteration's peak memory, stop");
  app.add_option("--end-to-end", end_to_end,
                 "only propagate_labels end to end with this many iterations per --low-memory mode, then stop");
  app.add_option("--temporal", temporal,
                 "with --end-to-end: temporal propagation over this many periods dealt from the graph's entries "
                 "(--low-memory off | off-untiled: the tiles handed back and forth, or W and W^T)");
  app.add_option("--low-memory", low_memory_modes, "modes of --end-to-end (list): on | off | auto | off-untiled (W and W^T without the tiles)");
  app.add_option("--block-cost", block_cost, "entries + rows per block of the one-pass iteration (0: default)");
  app.add_flag("--levers", levers, "also time the levers (huge pages, bf16 gather), interleaved with the plain run");
  app.add_flag("--blocked-lever", blocked_lever,
               "also time the tiled users' gather (propagation/cpu/blocked.hpp) against fused_spmm (--levers does too)");
  app.add_option("--panel-bits", panel_bits, "panel widths 2^bits of the blocked lever (list, <= 16)");
  app.add_option("--chunk-rows", chunk_rows, "rows per chunk of the blocked lever (list, <= 65536)");
  CLI11_PARSE(app, argc, argv);
  if (large) edges.push_back(100'000'000);

  json out;
  out["benchmark"] = "propagation_bench";
  out["model"] = {
      {"fused_half_step_bytes",
       "nnz*(4+4) + (R+1)*8 + R*4 + C*4 + C*k*4 + 3*R*k*4  (ids+values, offsets, out/in degree "
       "scales, x rows read once, y read for the change + written, seed read)"},
      {"iteration_bytes", "users half-step (R=users, C=items) + items half-step (R=items, C=users)"},
      {"anchor_product_bytes", "nnz*(4+4) + (R+1)*8 + C*k*4 + R*k*4, float32/int32 sizes for every method"},
      {"flops", "2*nnz*k per product, 4*nnz*k per iteration"},
      {"triad_bytes", "24 bytes per element (a = b + s*c, doubles, no write-allocate)"}};
  out["load_average_start"] = bench::load_average_1min();
  out["graphblas_available"] = bench::GraphblasAnchor::available() && !no_graphblas;
  out["runs"] = json::array();

  for (const Offset e : edges) {
    graph::RmatConfig rc;
    rc.edges = e;
    rc.row_scale = static_cast<int>(std::lround(std::log2(std::max<double>(2.0, double(e) / edge_factor))));
    rc.col_scale = std::max(0, rc.row_scale - col_shift);
    rc.seed = seed;
    const int max_threads = *std::max_element(threads_list.begin(), threads_list.end());
    auto t0 = Clock::now();
    graph::CsrMatrix w0 = graph::rmat_matrix(rc, max_threads);
    if (end_to_end > 0) {
      json g{{"edges_drawn", e}, {"nnz", w0.nnz()}, {"users", w0.n_rows}, {"items", w0.n_cols},
             {"generation_seconds", since(t0)}, {"generation_peak_rss_bytes", bench::proc_status_bytes("VmHWM")},
             {"rss_after_generation_bytes", bench::proc_status_bytes("VmRSS")}};
      std::cerr << g.dump() << "\n";
      if (temporal > 0) {
        const std::vector<graph::CsrMatrix> slices = bench::split_into_periods(w0, temporal, seed);
        w0 = graph::CsrMatrix{};
        for (const std::string& m : low_memory_modes)
          for (const int k : ks) {
            if (m != "off" && m != "off-untiled") throw std::invalid_argument("--temporal takes --low-memory off | off-untiled");
            g["temporal"].push_back(bench::temporal_end_to_end(slices, k, max_threads, end_to_end, seed, m == "off-untiled"));
            std::cerr << g["temporal"].back().dump() << "\n";
            out["graphs"] = json::array({g});
            if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
          }
        continue;
      }
      for (const std::string& m : low_memory_modes)
        for (const int k : ks) {
          using propagation::LowMemory;
          const LowMemory mode = m == "on" ? LowMemory::on : m.starts_with("off") ? LowMemory::off : LowMemory::automatic;
          g["end_to_end"].push_back(bench::end_to_end(w0, k, max_threads, end_to_end, mode, seed, m == "off-untiled"));
          std::cerr << g["end_to_end"].back().dump() << "\n";
          out["graphs"] = json::array({g});  // written after every run: a later one may not fit
          if (!json_out.empty()) std::ofstream(json_out) << out.dump(2) << "\n";
        }
      continue;
    }
    if (degree_order) {
      const propagation::VertexOrder order = propagation::degree_order(w0);
      graph::CsrMatrix relabelled = propagation::relabel(w0, order, max_threads);
      w0 = std::move(relabelled);
    }
    // The graph as propagate_labels holds it: W once, no stored transpose.
    BipartiteGraph lean = propagation::make_bipartite_graph(std::move(w0), "rmat", propagation::Transpose::none);
    const double build_s = since(t0);
    const double nnz = double(lean.nnz()), users = lean.users(), items = lean.items();
    std::cerr << fmt::format("graph {}x{} drawn {} nnz {} built in {:.1f}s\n", lean.users(), lean.items(), e,
                             lean.nnz(), build_s);

    // Memory: the peak while propagating (graph + dense operands + the scatter's items x k
    // accumulators), per edge, with the graph as propagate_labels holds it.
    json memory = json::array();
    for (const int k : ks) {
      const bool reset = bench::reset_peak_rss();
      const double before = double(bench::proc_status_bytes("VmRSS"));
      Operands o = make_operands(lean, k, seed);
      const propagation::cpu::CpuBackend be(max_threads);
      const auto t_it = Clock::now();
      iteration(*be.prepare(lean), o);
      const double it_s = since(t_it);
      const double peak = double(bench::proc_status_bytes("VmHWM"));
      const double acc = 4.0 * items * k;
      const double graph_bytes = 8.0 * nnz + 8.0 * (users + 1) + 4.0 * (users + items);
      memory.push_back({{"k", k}, {"peak_reset_ok", reset}, {"peak_rss_bytes", peak},
                        {"rss_before_operands_bytes", before},
                        {"dense_bytes", o.bytes()}, {"scatter_accumulator_bytes", acc},
                        {"graph_arrays_bytes_per_edge", graph_bytes / nnz},
                        {"first_iteration_seconds", it_s},
                        {"peak_rss_bytes_per_edge", peak / nnz},
                        {"peak_rss_minus_dense_bytes_per_edge", (peak - double(o.bytes())) / nnz},
                        {"peak_rss_minus_dense_and_accumulators_bytes_per_edge",
                         (peak - double(o.bytes()) - acc) / nnz}});
      std::cerr << memory.back().dump() << "\n";
    }
    // The default storage as propagate_labels prepares it (an owned graph with W^T: the
    // tiles replace W): its arrays, and the peak while iterating (the counter is reset once
    // the graph is prepared) beside the peak of preparing it (W, W^T and the tiles at once
    // until W is freed). lean stays resident meanwhile, so it is subtracted.
    for (const int k : ks) {
      const double lean_bytes = 8.0 * nnz + 8.0 * (users + 1) + 4.0 * (users + items);
      const bool reset = bench::reset_peak_rss();
      const double before = double(bench::proc_status_bytes("VmRSS"));
      const propagation::cpu::CpuBackend be(max_threads);
      const auto pg = be.prepare(propagation::make_bipartite_graph(lean.user_items, "rmat"));
      const double prepare_peak = double(bench::proc_status_bytes("VmHWM"));
      Operands o = make_operands(lean, k, seed);
      const bool reset_again = bench::reset_peak_rss();
      iteration(*pg, o);
      const double peak = double(bench::proc_status_bytes("VmHWM"));
      memory.push_back({{"k", k}, {"storage", "default: the tiles in place of W and W^T (owned graph)"},
                        {"peak_reset_ok", reset && reset_again}, {"rss_before_bytes", before},
                        {"dense_bytes", o.bytes()}, {"lean_graph_bytes_also_resident", lean_bytes},
                        {"graph_arrays_bytes_per_edge", double(be.resident_bytes(*pg)) / nnz},
                        {"prepare_peak_rss_minus_lean_bytes_per_edge", (prepare_peak - lean_bytes) / nnz},
                        {"iteration_peak_rss_minus_dense_and_lean_bytes_per_edge",
                         (peak - double(o.bytes()) - lean_bytes) / nnz}});
      std::cerr << memory.back().dump() << "\n";
    }
    if (memory_only) {
      out["graphs"].push_back({{"edges_drawn", e}, {"nnz", lean.nnz()}, {"users", lean.users()},
                               {"items", lean.items()}, {"degree_ordered", degree_order},
                               {"build_seconds", build_s}, {"memory", memory}});
      continue;
    }
    // The default storage of propagate_labels (the tiles in place of W and W^T: an owned
    // copy of g), the same without tiles (W and W^T: the default before the tiles), and W
    // alone (the one pass, LowMemory::on): Backend::iteration runs the two half-steps
    // whenever W^T is stored, so the one pass is timed on a graph of its own. The anchors
    // read g.
    BipartiteGraph g = propagation::make_bipartite_graph(lean.user_items, "rmat");
    const std::size_t graph_rss = bench::proc_status_bytes("VmRSS");

    std::unique_ptr<bench::GraphblasAnchor> gb;
    if (!no_graphblas && bench::GraphblasAnchor::available()) gb = std::make_unique<bench::GraphblasAnchor>(g);
    std::unique_ptr<bench::EigenAnchor> eig;
    if (!no_eigen) eig = std::make_unique<bench::EigenAnchor>(g);

    for (const int k : ks) {
      Operands o = make_operands(g, k, seed);
      const double it_bytes = fused_bytes(nnz, users, items, k) + fused_bytes(nnz, items, users, k);
      const double prod_bytes = product_bytes(nnz, users, items, k) + product_bytes(nnz, items, users, k);
      const double flops = 4 * nnz * k;
      for (const int t : threads_list) {
        json run;
        run["edges_drawn"] = e;
        run["nnz"] = g.nnz();
        run["users"] = g.users();
        run["items"] = g.items();
        run["k"] = k;
        run["threads"] = t;
        run["load_average_before"] = bench::load_average_1min();
        const double triad = bench::triad_gbps(std::size_t{1} << 24, 10, t);
        run["triad_gb_per_s"] = triad;
        propagation::cpu::CpuBackend be(t), untiled(t);
        untiled.set_tiling(propagation::cpu::CpuBackend::Tiling::off);
        if (block_cost > 0) be.set_iteration_block_cost(block_cost);
        const auto pg = be.prepare(BipartiteGraph(g));
        const auto pg_untiled = untiled.prepare(g);
        const auto pg_one_pass = be.prepare(lean);
        // Interleaved, each on its own copy of the operands from the same start: the results
        // must stay bitwise equal.
        Operands o2 = o, o3 = o;
        std::vector<double> ours, plain, one_pass;
        iteration(*pg, o);  // warm-up
        iteration(*pg_untiled, o3);
        iteration(*pg_one_pass, o2);
        for (int i = 0; i < iterations; ++i) {
          ours.push_back(iteration(*pg, o));
          plain.push_back(iteration(*pg_untiled, o3));
          one_pass.push_back(iteration(*pg_one_pass, o2));
        }
        const Timing ot = bench::summarize(ours), pt = bench::summarize(one_pass), ut = bench::summarize(plain);
        run["driftrec"] = timing_json(ot, it_bytes, flops, triad);
        run["driftrec"]["path"] =
            "Backend::iteration as propagate_labels runs it: the tiles in place of W and W^T, two half-steps";
        run["driftrec"]["graph_arrays_bytes_per_edge"] = double(be.resident_bytes(*pg)) / nnz;
        run["driftrec_untiled"] = timing_json(ut, it_bytes, flops, triad);
        run["driftrec_untiled"]["path"] = "Backend::iteration over W and W^T (Tiling::off): two half-steps";
        run["driftrec_untiled"]["graph_arrays_bytes_per_edge"] = double(untiled.resident_bytes(*pg_untiled)) / nnz;
        run["speedup_tiled_vs_untiled"] = ut.best / ot.best;
        run["driftrec_one_pass"] = timing_json(pt, it_bytes, flops, triad);
        run["driftrec_one_pass"]["path"] = "Backend::iteration over W alone (LowMemory::on): one pass";
        run["driftrec_one_pass"]["graph_arrays_bytes_per_edge"] = double(be.resident_bytes(*pg_one_pass)) / nnz;
        run["driftrec_one_pass"]["fraction_of_triad_one_pass_model"] =
            one_pass_bytes(nnz, users, items, k) / pt.best / 1e9 / triad;
        run["speedup_one_pass_vs_two_half_steps"] = ot.best / pt.best;
        run["one_pass_bitwise_equal_to_two_half_steps"] = o.f_users == o2.f_users && o.f_items == o2.f_items;
        run["tiled_bitwise_equal_to_untiled"] = o.f_users == o3.f_users && o.f_items == o3.f_items;
        run["bytes_per_iteration_one_pass_model"] = one_pass_bytes(nnz, users, items, k);
        run["bytes_per_iteration_model"] = it_bytes;
        // The anchors' check: y = W f_items by driftrec's spmm, on the state they are given.
        DenseMatrix ref(g.users(), k);
        propagation::cpu::spmm(g.user_items, propagation::view(std::as_const(o.f_items)),
                               propagation::view(ref), t);
        if (gb) {
          DenseMatrix y;
          const Timing gt = bench::summarize(gb->time(o.f_users, o.f_items, t, iterations, y));
          run["graphblas"] = timing_json(gt, prod_bytes, flops, triad);
          run["graphblas"]["max_rel_diff_vs_driftrec_spmm"] = max_rel_diff(y, ref);
          run["speedup_vs_graphblas"] = gt.best / ot.best;
        } else {
          run["graphblas"] = "unavailable";
        }
        if (eig) {
          DenseMatrix y;
          const Timing et = bench::summarize(eig->time(o.f_users, o.f_items, t, iterations, y));
          run["eigen"] = timing_json(et, prod_bytes, flops, triad);
          run["eigen"]["max_rel_diff_vs_driftrec_spmm"] = max_rel_diff(y, ref);
          run["eigen"]["threads_note"] = "Eigen runs a row-major sparse x row-major dense product on one thread";
          run["speedup_vs_eigen"] = et.best / ot.best;
        }
        if (levers || blocked_lever) {
          std::vector<bench::BlockedConfig> configs;
          for (const int b : panel_bits)
            for (const int c : chunk_rows) configs.push_back({b, c});
          run["blocked_lever"] = bench::blocked_lever(g, k, t, iterations, seed, triad, configs);
        }
        run["load_average_after"] = bench::load_average_1min();
        std::cerr << run.dump() << "\n";
        out["runs"].push_back(run);
      }
    }
    gb.reset();
    eig.reset();

    if (full && !degree_order)
      for (const int k : ks)
        for (const int t : threads_list) {
          json j = full_path(g.user_items, k, t, iterations, seed);
          j["edges_drawn"] = e;
          j["nnz"] = g.nnz();
          std::cerr << j.dump() << "\n";
          out["full_path"].push_back(j);
        }

    if (levers) {
      // Each lever on its own copy of the operands (and, for huge pages, of the graph),
      // all variants timed interleaved, iteration by iteration, in this process.
      // The one-pass variants run on graphs of W alone (with W^T stored, Backend::iteration
      // runs the two half-steps), the *_two_half_steps ones on W and W^T (borrowed graphs:
      // no tiles).
      BipartiteGraph huge = lean;
      const std::size_t graph_advised = propagation::cpu::advise_huge_pages(huge);
      const auto t_order = Clock::now();
      const propagation::VertexOrder order = propagation::degree_order(g);
      const BipartiteGraph sorted =
          propagation::make_bipartite_graph(propagation::relabel(g.user_items, order, max_threads), "sorted");
      const double reorder_s = since(t_order);
      const BipartiteGraph sorted_lean =
          propagation::make_bipartite_graph(sorted.user_items, "sorted", propagation::Transpose::none);
      BipartiteGraph sorted_huge = sorted_lean;
      propagation::cpu::advise_huge_pages(sorted_huge);
      using propagation::GatherPrecision;
      struct Variant {
        const char* name;
        const BipartiteGraph* graph;
        GatherPrecision gather;
        bool huge_dense;
        bool reordered;
        bool halves = false;  // the two half-steps over W^T instead of the one-pass iteration
      };
      const Variant variants[] = {
          {"float32", &lean, GatherPrecision::float32, false, false},
          {"float32_huge_pages", &huge, GatherPrecision::float32, true, false},
          {"bf16_gather", &lean, GatherPrecision::bfloat16, false, false},
          {"float32_degree_order", &sorted_lean, GatherPrecision::float32, false, true},
          {"bf16_degree_order", &sorted_lean, GatherPrecision::bfloat16, false, true},
          {"float32_degree_order_huge_pages", &sorted_huge, GatherPrecision::float32, true, true},
          {"bf16_degree_order_huge_pages", &sorted_huge, GatherPrecision::bfloat16, true, true},
          {"float32_two_half_steps", &g, GatherPrecision::float32, false, false, true},
          {"float32_degree_order_two_half_steps", &sorted, GatherPrecision::float32, false, true, true}};
      for (const int k : ks) {
        const double it_bytes = fused_bytes(nnz, users, items, k) + fused_bytes(nnz, items, users, k);
        for (const int t : threads_list) {
          std::vector<Operands> ops;
          std::vector<std::unique_ptr<propagation::cpu::CpuBackend>> backends;
          std::vector<std::unique_ptr<propagation::PreparedGraph>> prepared;
          std::vector<std::vector<double>> secs(std::size(variants));
          for (const Variant& v : variants) {
            ops.push_back(make_operands(g, k, seed));
            if (v.reordered) {
              Operands& o = ops.back();
              o.f_users = propagation::to_order(propagation::view(std::as_const(o.f_users)), order.user_old);
              o.f_items = propagation::to_order(propagation::view(std::as_const(o.f_items)), order.item_old);
              o.y_users = propagation::to_order(propagation::view(std::as_const(o.y_users)), order.user_old);
              o.y_items = propagation::to_order(propagation::view(std::as_const(o.y_items)), order.item_old);
            }
            if (v.huge_dense)
              for (DenseMatrix* m : {&ops.back().f_users, &ops.back().f_items, &ops.back().y_users, &ops.back().y_items})
                propagation::cpu::advise_huge_pages(m->data(), sizeof(float) * m->size());
            backends.push_back(std::make_unique<propagation::cpu::CpuBackend>(t, v.gather));
            if (block_cost > 0) backends.back()->set_iteration_block_cost(block_cost);
            prepared.push_back(backends.back()->prepare(*v.graph));
          }
          const double triad = bench::triad_gbps(std::size_t{1} << 24, 10, t);
          for (int i = -1; i < iterations; ++i)
            for (std::size_t v = 0; v < std::size(variants); ++v) {
              const double s = iteration(*prepared[v], ops[v], variants[v].halves);
              if (i >= 0) secs[v].push_back(s);
            }
          for (std::size_t v = 0; v < std::size(variants); ++v)
            if (variants[v].reordered) {  // back to the original ids for the comparison
              Operands& o = ops[v];
              DenseMatrix u(o.f_users.rows(), o.f_users.cols()), it(o.f_items.rows(), o.f_items.cols());
              propagation::from_order(propagation::view(std::as_const(o.f_users)), order.user_old, propagation::view(u));
              propagation::from_order(propagation::view(std::as_const(o.f_items)), order.item_old, propagation::view(it));
              o.f_users = std::move(u);
              o.f_items = std::move(it);
            }
          json lever{{"edges_drawn", e}, {"reorder_seconds", reorder_s}, {"k", k}, {"threads", t}, {"triad_gb_per_s", triad},
                     {"graph_advised_bytes", graph_advised}, {"anon_huge_bytes", bench::anon_huge_bytes()},
                     {"load_average", bench::load_average_1min()}};
          const Timing base = bench::summarize(secs[0]);
          for (std::size_t v = 0; v < std::size(variants); ++v) {
            const Timing tv = bench::summarize(secs[v]);
            json j = timing_json(tv, it_bytes, 4 * nnz * k, triad);
            j["speedup_vs_float32_best"] = base.best / tv.best;
            j["speedup_vs_float32_median"] = base.median / tv.median;
            // After the same iterations from the same state: the worst entry's difference
            // relative to the largest entry of its matrix, and whether it is bitwise equal.
            const double scale_u = ops[0].f_users.cwiseAbs().maxCoeff(), scale_i = ops[0].f_items.cwiseAbs().maxCoeff();
            j["max_abs_diff_rel_to_max_users"] = (ops[v].f_users - ops[0].f_users).cwiseAbs().maxCoeff() / scale_u;
            j["max_abs_diff_rel_to_max_items"] = (ops[v].f_items - ops[0].f_items).cwiseAbs().maxCoeff() / scale_i;
            j["max_rel_diff_users"] = max_rel_diff(ops[v].f_users, ops[0].f_users);
            j["bitwise_equal_to_float32"] = ops[v].f_users == ops[0].f_users && ops[v].f_items == ops[0].f_items;
            lever[variants[v].name] = j;
          }
          std::cerr << lever.dump() << "\n";
          out["levers"].push_back(lever);
        }
      }
    }
    out["graphs"].push_back({{"edges_drawn", e}, {"nnz", g.nnz()}, {"users", g.users()},
                             {"items", g.items()}, {"row_scale", rc.row_scale},
                             {"col_scale", rc.col_scale}, {"a", rc.a}, {"b", rc.b}, {"c", rc.c},
                             {"scrambled_ids", rc.scramble_ids}, {"degree_ordered", degree_order},
                             {"build_seconds", build_s},
                             {"rss_after_build_bytes", graph_rss}, {"memory", memory}});
  }
  out["load_average_end"] = bench::load_average_1min();
  out["process_peak_rss_bytes"] = bench::proc_status_bytes("VmHWM");
  const std::string text = out.dump(2);
  std::cout << text << "\n";
  if (!json_out.empty()) std::ofstream(json_out) << text << "\n";
  return 0;
}
