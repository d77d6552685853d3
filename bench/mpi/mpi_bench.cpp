// mpi_bench: one label-propagation period on an R-MAT graph split across the MPI ranks
// (mpi/distributed_graph.hpp, mpi/label_propagation.hpp), against the single process
// (propagation::propagate_labels, the COST baseline) when run on one rank with --serial.
// Prints one JSON object (rank 0): time per iteration, kernel and exchange time, bytes sent
// per iteration by every rank together against the boundary-row lower bound, and the
// load average around the run. See README.md.
#include <mpi.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "graph/rmat.hpp"
#include "mpi/comm.hpp"
#include "mpi/degree_order.hpp"
#include "mpi/distributed_graph.hpp"
#include "mpi/label_propagation.hpp"
#include "mpi/node_window.hpp"
#include "mpi/partition.hpp"
#include "propagation/cpu/spmm.hpp"
#include "propagation/label_propagation.hpp"

namespace {

using namespace driftrec;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;
using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

CsrMatrix rows_of(const CsrMatrix& w, Index r0, Index r1) {
  CsrMatrix m;
  m.n_rows = r1 - r0;
  m.n_cols = w.n_cols;
  m.indptr.resize(static_cast<std::size_t>(m.n_rows) + 1);
  for (Index r = 0; r <= m.n_rows; ++r) m.indptr[r] = w.indptr[r0 + r] - w.indptr[r0];
  m.indices.assign(w.indices.begin() + w.indptr[r0], w.indices.begin() + w.indptr[r1]);
  m.data.assign(w.data.begin() + w.indptr[r0], w.data.begin() + w.indptr[r1]);
  return m;
}

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// --probe: each half-step's kernel on this rank's rows (own + ghost operand, no exchange),
// best of `reps` in wall and process CPU ms, once with every rank computing at the same
// time and once one rank at a time (the others in a barrier). If the ranks' own copies of
// the hot rows compete for the shared L3, "together" is slower than "alone" by more than
// the single process's two threads lose against one.
// With `global`, the columns are renumbered to the single process's positions and the
// operand is every row of the other side in that order (one whole copy, as a shared window
// in the single process's layout would give).
CsrMatrix global_columns(CsrMatrix m, const mpi::Blocks& side, int rank, const std::vector<Index>& order,
                         const mpi::GhostPlan& plan, const std::vector<Index>& pos) {
  const Index own = side.rows(rank);
  for (Index& j : m.indices) {
    const Index id = j < own ? side.begin(rank) + (order.empty() ? j : order[j]) : plan.ghost_ids[j - own];
    j = pos.empty() ? id : pos[id];
  }
  m.n_cols = side.bounds.back();
  return m;
}

nlohmann::json kernel_probe(const mpi::Comm& c, const mpi::DistributedGraph& g, const mpi::GlobalOrder& order, Index k,
                            int threads, int reps, bool global, bool shared) {
  const CsrMatrix ur = global ? global_columns(g.user_rows, g.items, c.rank, g.item_order, g.item_ghosts, order.item_pos)
                              : CsrMatrix{};
  const CsrMatrix ir = global ? global_columns(g.item_rows, g.users, c.rank, g.user_order, g.user_ghosts, order.user_pos)
                              : CsrMatrix{};
  propagation::DenseMatrix fi = propagation::DenseMatrix::Ones(
      global ? g.items.bounds.back() : g.own_items() + g.item_ghosts.ghosts(), k);
  propagation::DenseMatrix fu = propagation::DenseMatrix::Ones(
      global ? g.users.bounds.back() : g.own_users() + g.user_ghosts.ghosts(), k);
  // --probe-shared: the whole operands once per node, in one MPI-3 shared window.
  MPI_Win win = MPI_WIN_NULL;
  const float* shared_fi = nullptr;
  const float* shared_fu = nullptr;
  if (shared) {
    MPI_Comm node;
    MPI_Comm_split_type(c.comm, MPI_COMM_TYPE_SHARED, c.rank, MPI_INFO_NULL, &node);
    int node_rank = 0;
    MPI_Comm_rank(node, &node_rank);
    const MPI_Aint n = node_rank == 0 ? (fi.size() + fu.size()) * MPI_Aint(sizeof(float)) : 0;
    float* base = nullptr;
    MPI_Win_allocate_shared(n, sizeof(float), MPI_INFO_NULL, node, &base, &win);
    MPI_Aint size = 0;
    int unit = 0;
    MPI_Win_shared_query(win, 0, &size, &unit, &base);
    if (node_rank == 0) {
      std::copy_n(fi.data(), fi.size(), base);
      std::copy_n(fu.data(), fu.size(), base + fi.size());
    }
    MPI_Barrier(node);
    shared_fi = base;
    shared_fu = base + fi.size();
    fi.resize(0, k);  // the private copies go
    fu.resize(0, k);
  }
  const std::vector<float> ones_i(static_cast<std::size_t>(fi.rows()), 1.0f), ones_u(static_cast<std::size_t>(fu.rows()), 1.0f);
  propagation::DenseMatrix yu(g.own_users(), k), yi(g.own_items(), k);
  propagation::cpu::FusedScales su, si;
  su.in_scale = global ? std::span<const float>(ones_i) : std::span<const float>(g.item_inv_sqrt_degree);
  si.in_scale = global ? std::span<const float>(ones_u) : std::span<const float>(g.user_inv_sqrt_degree);
  const auto run = [&](bool users) {
    const auto& a = users ? (global ? ur : g.user_rows) : (global ? ir : g.item_rows);
    auto& y = users ? yu : yi;
    const Index n = users ? (global ? g.items.bounds.back() : fi.rows()) : (global ? g.users.bounds.back() : fu.rows());
    const float* x = shared ? (users ? shared_fi : shared_fu) : (users ? fi.data() : fu.data());
    propagation::cpu::fused_spmm(a, users ? su : si, propagation::ConstDenseView{x, n, k},
                                 propagation::DenseView{y.data(), a.n_rows, k}, threads);
  };
  nlohmann::json out;
  for (bool alone : {false, true})
    for (bool users : {true, false}) {
      double wall = 1e30, cpu = 1e30;
      for (int i = 0; i < reps; ++i)
        for (int q = 0; q < c.size; ++q) {
          MPI_Barrier(c.comm);
          if (!alone || q == c.rank) {
            const auto w0 = Clock::now();
            const double c0 = cpu_seconds();
            run(users);
            cpu = std::min(cpu, 1e3 * (cpu_seconds() - c0));
            wall = std::min(wall, 1e3 * since(w0));
          }
          if (!alone) break;
        }
      out[fmt::format("{}_{}", alone ? "alone" : "together", users ? "users" : "items")] = {{"wall_ms", wall},
                                                                                            {"cpu_ms", cpu}};
    }
  if (win != MPI_WIN_NULL) MPI_Win_free(&win);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  const mpi::Comm c = mpi::Comm::world();
  CLI::App app{"Distributed label propagation on an R-MAT graph (see bench/mpi/README.md)"};
  graph::RmatConfig cfg;
  int k = 20, iterations = 10, threads = 1;
  std::string exchange = "alltoall";
  bool serial = false;
  app.add_option("--row-scale", cfg.row_scale)->capture_default_str();
  app.add_option("--col-scale", cfg.col_scale)->capture_default_str();
  app.add_option("--edges", cfg.edges)->capture_default_str();
  app.add_option("--k", k, "labels")->capture_default_str();
  app.add_option("--iterations", iterations)->capture_default_str();
  app.add_option("--threads", threads, "OpenMP threads per rank")->capture_default_str();
  app.add_option("--exchange", exchange, "alltoall | allgather | shared")->capture_default_str();
  bool reorder = true, check = false;
  int probe = 0;
  bool probe_global = false, probe_shared = false;
  app.add_flag("--probe-shared", probe_shared, "--probe-global with the operands in one shared window per node");
  app.add_flag("--probe-global", probe_global, "--probe with the columns in the single process's numbering");
  app.add_option("--probe", probe, "only time the half-step kernels N times, together and one rank at a time")
      ->capture_default_str();
  app.add_flag("--check", check, "gather the rows to rank 0 and compare them with the single process's (same order)");
  app.add_flag("--serial", serial, "one rank only: also time propagation::propagate_labels, reorder off and on");
  app.add_option("--reorder", reorder, "the distributed run in the single process's degree order (1) or in id order (0)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = c.root() ? app.exit(e) : 0;
    MPI_Finalize();
    return rc;
  }
  nlohmann::json j;
  j["load_before"] = loadavg();
  // Every rank generates the same graph (deterministic for the seed) and keeps its rows.
  const CsrMatrix w = graph::rmat_matrix(cfg, threads);
  std::mt19937_64 rng(7);
  std::vector<graph::Triplet> label_entries;
  for (Index i = 0; i < w.n_cols; ++i) label_entries.push_back({i, static_cast<Index>(rng() % k), 1.0f});
  const CsrMatrix labels = graph::csr_from_triplets(w.n_cols, k, label_entries);

  const mpi::Blocks users = mpi::balanced_blocks(w.indptr, c.size);
  std::vector<Offset> col_prefix(static_cast<std::size_t>(w.n_cols) + 1, 0);
  for (Index col : w.indices) ++col_prefix[col + 1];
  for (Index i = 0; i < w.n_cols; ++i) col_prefix[i + 1] += col_prefix[i];
  const mpi::Blocks items = mpi::balanced_blocks(col_prefix, c.size);

  propagation::LabelPropagationOptions o;
  o.tolerance = 0;
  o.max_iterations = iterations;
  o.threads = threads;
  o.reorder = reorder ? propagation::Reorder::on : propagation::Reorder::off;
  MPI_Barrier(c.comm);
  auto t0 = Clock::now();
  const CsrMatrix own_rows = rows_of(w, users.begin(c.rank), users.end(c.rank));
  mpi::GlobalOrder order;
  mpi::advance_order(c, users, items, own_rows, false, o, order);
  const mpi::DistributedGraph g = mpi::distribute(c, users, items, own_rows, order, /*interior_first=*/true);
  const propagation::DenseMatrix y_items =
      propagation::item_seed_labels(rows_of(labels, items.begin(c.rank), items.end(c.rank)));
  MPI_Barrier(c.comm);
  const double setup = since(t0);
  if (probe > 0) {
    const nlohmann::json mine = kernel_probe(c, g, order, k, threads, probe, probe_global || probe_shared, probe_shared);
    for (int q = 0; q < c.size; ++q) {
      MPI_Barrier(c.comm);
      if (q == c.rank) fmt::print("{{\"rank\": {}, \"threads\": {}, \"load\": \"{}\", \"probe\": {}}}\n", q, threads,
                                  loadavg(), mine.dump());
      std::fflush(stdout);
    }
    MPI_Finalize();
    return 0;
  }

  // One iteration first, timed as the single process's is below (1 and n iterations, the
  // difference per iteration), so the first touch of F and of the send buffers drops out
  // of both. Each run with the overlap of exchange and interior rows, then without it
  // (the same bits; same-run comparison), the overlapped one last for the byte count.
  const mpi::Exchange how = exchange == "allgather" ? mpi::Exchange::allgather
                            : exchange == "shared"  ? mpi::Exchange::shared
                                                    : mpi::Exchange::alltoall;
  struct Timed {
    double one = 0, all = 0;
    std::uint64_t sent = 0;  // bytes this rank sent in the n-iteration run
    mpi::DistributedResult r;
  };
  const auto timed = [&](bool overlap) {
    Timed t;
    propagation::LabelPropagationOptions first = o;
    first.max_iterations = 1;
    MPI_Barrier(c.comm);
    auto s0 = Clock::now();
    mpi::propagate_labels(c, g, y_items, nullptr, 1.0f, first, how, 0, overlap);
    MPI_Barrier(c.comm);
    t.one = since(s0);
    const std::uint64_t before = mpi::traffic().exchange_bytes;
    MPI_Barrier(c.comm);
    s0 = Clock::now();
    t.r = mpi::propagate_labels(c, g, y_items, nullptr, 1.0f, o, how, 0, overlap);
    MPI_Barrier(c.comm);
    t.all = since(s0);
    t.sent = mpi::traffic().exchange_bytes - before;
    return t;
  };
  const Timed plain = timed(false);
  const Timed overlapped = timed(true);
  const mpi::DistributedResult& r = overlapped.r;
  const double run = overlapped.all, run_one = overlapped.one;
  const bool same_bits = plain.r.users == r.users && plain.r.items == r.items;

  // Per rank: its rows and edges, the interior share, and its times (ms per iteration).
  const auto per_iteration = [&](double seconds) { return 1e3 * seconds / r.iterations; };
  const auto interior_edges = [](const CsrMatrix& m, Index interior) { return m.indptr[interior]; };
  double packed_rows = 0;  // rows sent that had to be packed (not one run of local rows)
  for (const mpi::GhostPlan* plan : {&g.item_ghosts, &g.user_ghosts})
    for (int q = 0; q < c.size; ++q)
      if (plan->send_run[q] < 0) packed_rows += plan->send_counts[q];
  const std::vector<double> mine{double(g.own_users()),
                                 double(g.user_rows.nnz()),
                                 double(g.interior_users),
                                 double(interior_edges(g.user_rows, g.interior_users)),
                                 double(g.own_items()),
                                 double(g.item_rows.nnz()),
                                 double(g.interior_items),
                                 double(interior_edges(g.item_rows, g.interior_items)),
                                 double(g.item_ghosts.ghosts()),
                                 double(g.user_ghosts.ghosts()),
                                 per_iteration(r.kernel_seconds),
                                 per_iteration(r.interior_seconds),
                                 per_iteration(r.exchange_seconds),
                                 per_iteration(r.wait_seconds),
                                 per_iteration(plain.r.kernel_seconds),
                                 per_iteration(plain.r.exchange_seconds),
                                 packed_rows};
  const char* names[] = {"users", "user_edges", "interior_users", "interior_user_edges", "items", "item_edges",
                         "interior_items", "interior_item_edges", "ghost_items", "ghost_users", "kernel_ms",
                         "interior_kernel_ms", "exchange_ms", "wait_ms", "no_overlap_kernel_ms",
                         "no_overlap_exchange_ms", "packed_send_rows"};
  std::vector<double> all_ranks(mine.size() * static_cast<std::size_t>(c.size));
  MPI_Gather(mine.data(), static_cast<int>(mine.size()), MPI_DOUBLE, all_ranks.data(), static_cast<int>(mine.size()),
             MPI_DOUBLE, 0, c.comm);
  nlohmann::json per_rank = nlohmann::json::array();
  for (int q = 0; q < c.size; ++q) {
    nlohmann::json e;
    for (std::size_t i = 0; i < mine.size(); ++i) e[names[i]] = all_ranks[q * mine.size() + i];
    per_rank.push_back(e);
  }
  j["per_rank"] = per_rank;
  j["overlap_bitwise_equal_to_no_overlap"] = same_bits;
  j["no_overlap_ms_per_iteration_first_removed"] = 1e3 * (plain.all - plain.one) / (plain.r.iterations - 1);
  std::uint64_t sent = overlapped.sent, sent_all = 0;
  MPI_Reduce(&sent, &sent_all, 1, MPI_UINT64_T, MPI_SUM, 0, c.comm);
  std::uint64_t pairs = static_cast<std::uint64_t>(g.item_ghosts.ghosts() + g.user_ghosts.ghosts()), pairs_all = 0;
  MPI_Reduce(&pairs, &pairs_all, 1, MPI_UINT64_T, MPI_SUM, 0, c.comm);
  // Exchange::shared sends only the pairs whose owner is on another node (ranks on one node
  // read each other's rows in place, no copy): their count is its lower bound.
  std::uint64_t cross = pairs, cross_all = 0;
  if (how == mpi::Exchange::shared) {
    const mpi::NodeGroup node(c);
    cross = static_cast<std::uint64_t>(mpi::off_node(g.item_ghosts, node).ghosts() +
                                       mpi::off_node(g.user_ghosts, node).ghosts());
  }
  MPI_Reduce(&cross, &cross_all, 1, MPI_UINT64_T, MPI_SUM, 0, c.comm);
  std::uint64_t distinct = 0, distinct_all = 0;
  for (const mpi::GhostPlan* plan : {&g.item_ghosts, &g.user_ghosts}) {
    std::vector<Index> rows = plan->send_rows;
    std::sort(rows.begin(), rows.end());
    distinct += static_cast<std::uint64_t>(std::unique(rows.begin(), rows.end()) - rows.begin());
  }
  MPI_Reduce(&distinct, &distinct_all, 1, MPI_UINT64_T, MPI_SUM, 0, c.comm);

  if (serial && c.size == 1) {  // the single process: 1 and n iterations, so setup drops out
    for (auto mode : {propagation::Reorder::off, propagation::Reorder::on}) {
      double t[2];
      propagation::PropagationResult pr;
      for (int pass = 0; pass < 2; ++pass) {
        propagation::LabelPropagationOptions s = o;
        s.reorder = mode;
        s.max_iterations = pass == 0 ? 1 : iterations;
        const auto s0 = Clock::now();
        pr = propagation::propagate_labels(w, labels, nullptr, s);
        t[pass] = since(s0);
      }
      const std::string key = mode == propagation::Reorder::on ? "serial_reorder_on" : "serial_reorder_off";
      j[key + "_ms_per_iteration"] = 1e3 * (t[1] - t[0]) / (iterations - 1);
      if (mode == o.reorder)  // the distributed rows equal the serial ones in the same order, bit for bit
        j["bitwise_equal_to_serial"] = pr.user_labels == r.users && pr.item_labels == r.items;
    }
  }
  if (check) {  // every rank's rows against one process, bit for bit
    const auto all_users = mpi::gather_rows(c, r.users.data(), r.users.rows(), k, users.rows_per_part());
    const auto all_items = mpi::gather_rows(c, r.items.data(), r.items.rows(), k, items.rows_per_part());
    if (c.root()) {
      const propagation::PropagationResult one = propagation::propagate_labels(w, labels, nullptr, o);
      j["gathered_bitwise_equal_to_serial"] =
          std::equal(all_users.begin(), all_users.end(), one.user_labels.data()) &&
          std::equal(all_items.begin(), all_items.end(), one.item_labels.data());
    }
  }
  if (c.root()) {
    // The model's communication term: with ids scrambled, a row of degree d is read by
    // about (P - 1)(1 - (1 - 1/P)^d) other ranks; summed over users and items this is the
    // expected number of (row, reading rank) pairs, i.e. ghost rows per iteration, on P
    // ranks (checked against the measured count at this run's P).
    std::vector<Offset> item_degree(static_cast<std::size_t>(w.n_cols), 0);
    for (Index col : w.indices) ++item_degree[col];
    nlohmann::json expected;
    for (int p : {c.size, 8, 64}) {
      double pairs = 0;
      const double stay = 1.0 - 1.0 / p;
      for (Index u = 0; u < w.n_rows; ++u) pairs += (p - 1) * (1 - std::pow(stay, double(w.row_length(u))));
      for (Offset d : item_degree) pairs += (p - 1) * (1 - std::pow(stay, double(d)));
      expected[std::to_string(p)] = pairs;
    }
    j["expected_boundary_pairs_by_ranks"] = expected;
    const std::uint64_t row_bytes = static_cast<std::uint64_t>(k) * sizeof(float);
    j.update({{"ranks", c.size},
              {"threads", threads},
              {"exchange", exchange},
              {"reorder", reorder},
              {"users", w.n_rows},
              {"items", w.n_cols},
              {"nnz", w.nnz()},
              {"k", k},
              {"iterations", r.iterations},
              {"setup_seconds", setup},
              {"ms_per_iteration", 1e3 * run / r.iterations},
              {"ms_per_iteration_first_removed", 1e3 * (run - run_one) / (r.iterations - 1)},
              {"rank0_kernel_ms_per_iteration", 1e3 * r.kernel_seconds / r.iterations},
              {"rank0_exchange_ms_per_iteration", 1e3 * r.exchange_seconds / r.iterations},
              {"bytes_per_iteration", sent_all / static_cast<std::uint64_t>(r.iterations)},
              {"lower_bound_bytes_per_iteration", pairs_all * row_bytes},
              {"cross_node_lower_bound_bytes_per_iteration", cross_all * row_bytes},
              {"distinct_boundary_row_bytes", distinct_all * row_bytes},
              {"boundary_pairs", pairs_all},
              {"user_blocks", users.bounds},
              {"item_blocks", items.bounds},
              {"load_after", loadavg()}});
    fmt::print("{}\n", j.dump(2));
  }
  MPI_Finalize();
  return 0;
}
