// The blocked-gather lever of propagation_bench (blocked_lever.hpp).
#include "bench/propagation/blocked_lever.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <random>

#include "bench/propagation/anchors.hpp"
#include "propagation/cpu/blocked.hpp"
#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/cpu/spmm.hpp"

namespace driftrec::bench {
namespace {

using Clock = std::chrono::steady_clock;
using graph::Index;

std::vector<float> random_values(std::size_t n, std::mt19937_64& rng, float scale) {
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng) * scale;
  return v;
}

std::vector<float> inverse_sqrt_degrees(const graph::CsrMatrix& w, bool columns) {
  std::vector<float> d(static_cast<std::size_t>(columns ? w.n_cols : w.n_rows), 0.0f);
  for (Index r = 0; r < w.n_rows; ++r)
    for (graph::Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) d[static_cast<std::size_t>(columns ? w.indices[e] : r)] += w.data[e];
  for (float& x : d) x = x > 0 ? 1.0f / std::sqrt(x) : 0.0f;
  return d;
}

// a's tiled copy for each config, and the seconds each took to build.
std::vector<propagation::cpu::BlockedMatrix> tilings(const graph::CsrMatrix& a, const std::vector<BlockedConfig>& configs,
                                                     int threads, std::vector<double>& build_s) {
  std::vector<propagation::cpu::BlockedMatrix> out;
  for (const BlockedConfig& c : configs) {
    const auto t0 = Clock::now();
    out.push_back(propagation::cpu::make_blocked(a, c.panel_bits, c.chunk_rows, threads));
    build_s.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return out;
}

// One tiling's gather against the plain one (base) of the same half-step, timed alike.
nlohmann::json tiled_gather_json(const propagation::cpu::BlockedMatrix& b, const Timing& t, const Timing& base,
                                 double half_bytes, double triad, bool bitwise_equal, double build_seconds) {
  return {{"panel_bits", b.panel_bits}, {"chunk_rows", b.chunk_rows},
          {"best_ms", t.best * 1e3}, {"median_ms", t.median * 1e3},
          {"fraction_of_triad", half_bytes / t.best / 1e9 / triad},
          {"speedup_vs_fused_spmm_best", base.best / t.best},
          {"speedup_vs_fused_spmm_median", base.median / t.median},
          {"bitwise_equal", bitwise_equal}, {"nonempty_row_panel_pairs", b.row_ids.size()},
          {"build_seconds", build_seconds}};
}

// The items' half over the stored W^T: fused_spmm on W^T (the default path) against
// blocked_fused_spmm over tiles of W^T (panels of users, chunks of items), interleaved.
nlohmann::json items_gather(const propagation::BipartiteGraph& g, int k, int threads, int iterations,
                            std::mt19937_64& rng, double triad, const std::vector<BlockedConfig>& configs) {
  namespace cpu = propagation::cpu;
  const graph::CsrMatrix& wt = g.item_users;
  const auto uk = static_cast<std::size_t>(k), rows = static_cast<std::size_t>(wt.n_rows),
             cols = static_cast<std::size_t>(wt.n_cols);
  const std::vector<float> f_users = random_values(cols * uk, rng, 1.0f / float(k));
  const std::vector<float> seed_items = random_values(rows * uk, rng, 1.0f / float(k));
  const std::vector<float> start = random_values(rows * uk, rng, 1.0f / float(k));
  const std::vector<float> out_scale = inverse_sqrt_degrees(wt, false), in_scale = inverse_sqrt_degrees(wt, true);
  const cpu::FusedScales s{.out_scale = out_scale, .in_scale = in_scale, .alpha = 0.8f,
                           .seed = propagation::ConstDenseView{seed_items.data(), wt.n_rows, k}, .seed_coef = 0.2f};
  const propagation::ConstDenseView x{f_users.data(), wt.n_cols, k};
  std::vector<double> build_s;
  const std::vector<cpu::BlockedMatrix> blocked = tilings(wt, configs, threads, build_s);
  const std::size_t n = configs.size() + 1;
  std::vector<std::vector<float>> y(n, start);
  std::vector<std::vector<double>> secs(n);
  for (int i = -1; i < iterations; ++i)
    for (std::size_t v = 0; v < n; ++v) {
      y[v] = start;
      const propagation::DenseView out{y[v].data(), wt.n_rows, k};
      const auto t0 = Clock::now();
      if (v == 0) cpu::fused_spmm(wt, s, x, out, threads);
      else cpu::blocked_fused_spmm(blocked[v - 1], s, x, out, threads);
      if (i >= 0) secs[v].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  const double nnz = double(wt.nnz());
  // The items' half of the float32 compulsory-traffic model (README "Byte model").
  const double half_bytes = nnz * 8 + double(rows + 1) * 8 + double(rows) * 4 + double(cols) * 4 +
                            double(cols) * k * 4 + 3.0 * double(rows) * k * 4;
  const Timing base = summarize(secs[0]);
  nlohmann::json j{{"items_half_model_bytes", half_bytes},
                   {"fused_spmm_on_wt", {{"best_ms", base.best * 1e3}, {"median_ms", base.median * 1e3},
                                         {"fraction_of_triad", half_bytes / base.best / 1e9 / triad}}}};
  for (std::size_t v = 1; v < n; ++v) {
    const Timing t = summarize(secs[v]);
    const cpu::BlockedMatrix& b = blocked[v - 1];
    nlohmann::json e = tiled_gather_json(b, t, base, half_bytes, triad, y[v] == y[0], build_s[v - 1]);
    e["tiles_bytes_per_nnz"] = double(b.bytes()) / nnz;
    j["tiles_of_wt"].push_back(std::move(e));
  }
  return j;
}

}  // namespace

nlohmann::json blocked_lever(const propagation::BipartiteGraph& g, int k, int threads, int iterations, std::uint64_t seed,
                             double triad, const std::vector<BlockedConfig>& configs) {
  using propagation::ConstDenseView;
  using propagation::DenseView;
  namespace cpu = propagation::cpu;
  const graph::CsrMatrix& w = g.user_items;
  std::mt19937_64 rng(seed);
  const auto uk = static_cast<std::size_t>(k), users = static_cast<std::size_t>(w.n_rows),
             items = static_cast<std::size_t>(w.n_cols);
  const std::vector<float> f_items = random_values(items * uk, rng, 1.0f / float(k));
  const std::vector<float> seed_users = random_values(users * uk, rng, 1.0f / float(k));
  const std::vector<float> start_users = random_values(users * uk, rng, 1.0f / float(k));
  const std::vector<float> seed_items = random_values(items * uk, rng, 1.0f / float(k));
  const std::vector<float> user_scale = inverse_sqrt_degrees(w, false), item_scale = inverse_sqrt_degrees(w, true);
  const cpu::FusedScales s{.out_scale = user_scale, .in_scale = item_scale, .alpha = 0.8f,
                           .seed = ConstDenseView{seed_users.data(), w.n_rows, k}, .seed_coef = 0.1f};
  const ConstDenseView x{f_items.data(), w.n_cols, k};

  std::vector<double> build_s;
  const std::vector<cpu::BlockedMatrix> blocked = tilings(w, configs, threads, build_s);
  // Variant 0: fused_spmm (the current users' gather); 1..n-1: the tiled gathers. Then the
  // whole one-pass iteration (fused_iteration), plain and over each tiled copy, each on its
  // own copy of the operands from the same start (so their results must be the same bits).
  const std::size_t n = configs.size() + 1;
  std::vector<std::vector<float>> y(n, start_users);
  std::vector<std::vector<double>> secs(n), it_secs(n);
  std::vector<std::vector<float>> it_users(n, start_users), it_items(n, f_items);
  std::vector<std::vector<double>> be_secs(n);
  std::vector<std::vector<float>> be_users(n, start_users), be_items(n, f_items);
  std::vector<std::unique_ptr<cpu::CpuBackend>> backends;
  std::vector<std::unique_ptr<propagation::PreparedGraph>> prepared;
  for (std::size_t v = 0; v < n; ++v) {
    backends.push_back(std::make_unique<cpu::CpuBackend>(threads));
    if (v == 0) backends.back()->set_tiling(cpu::CpuBackend::Tiling::off);
    else backends.back()->set_tiling(cpu::CpuBackend::Tiling::always, configs[v - 1].panel_bits, configs[v - 1].chunk_rows);
    prepared.push_back(backends.back()->prepare(g));
  }
  const std::vector<Index> column_bounds = cpu::partition_columns(w, 8 * threads);
  cpu::IterationScratch scratch;
  cpu::IterationScales is;
  is.user_scale = user_scale;
  is.item_scale = item_scale;
  is.alpha = 0.8f;
  is.user_seed = s.seed;
  is.user_seed_coef = 0.1f;
  is.item_seed = ConstDenseView{seed_items.data(), w.n_cols, k};
  is.item_seed_coef = 0.2f;
  for (int i = -1; i < iterations; ++i) {
    for (std::size_t v = 0; v < n; ++v) {
      y[v] = start_users;  // same start every time: the change is the same, so are the bits
      const DenseView out{y[v].data(), w.n_rows, k};
      const auto t0 = Clock::now();
      if (v == 0) cpu::fused_spmm(w, s, x, out, threads);
      else cpu::blocked_fused_spmm(blocked[v - 1], s, x, out, threads);
      if (i >= 0) secs[v].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    for (std::size_t v = 0; v < n; ++v) {
      is.blocked = v == 0 ? nullptr : &blocked[v - 1];
      const auto t0 = Clock::now();
      cpu::fused_iteration(w, column_bounds, is, DenseView{it_users[v].data(), w.n_rows, k},
                           DenseView{it_items[v].data(), w.n_cols, k}, threads, scratch);
      if (i >= 0) it_secs[v].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    for (std::size_t v = 0; v < n; ++v) {
      propagation::Iteration bi{0.8f, DenseView{be_users[v].data(), w.n_rows, k}, DenseView{be_items[v].data(), w.n_cols, k},
                                s.seed, 0.5f, is.item_seed, 1.0f};
      const auto t0 = Clock::now();
      backends[v]->iteration(*prepared[v], bi);
      if (i >= 0) be_secs[v].push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  }
  const double nnz = double(w.nnz());
  // The users' half of the float32 compulsory-traffic model (README "Byte model").
  const double half_bytes = nnz * 8 + double(users + 1) * 8 + double(users) * 4 + double(items) * 4 +
                            double(items) * k * 4 + 3.0 * double(users) * k * 4;
  nlohmann::json j{{"k", k}, {"threads", threads}, {"nnz", w.nnz()}, {"triad_gb_per_s", triad},
                   {"users_half_model_bytes", half_bytes}, {"load_average", load_average_1min()}};
  const Timing base = summarize(secs[0]);
  j["users_gather_fused_spmm"] = {{"best_ms", base.best * 1e3}, {"median_ms", base.median * 1e3},
                                  {"fraction_of_triad", half_bytes / base.best / 1e9 / triad}};
  // The whole iteration's float32 compulsory-traffic model (README "Byte model"): both halves.
  const double it_bytes = half_bytes + nnz * 8 + double(items + 1) * 8 + double(items) * 4 + double(users) * 4 +
                          double(users) * k * 4 + 3.0 * double(items) * k * 4;
  const Timing whole = summarize(it_secs[0]);
  j["iteration_model_bytes"] = it_bytes;
  j["fused_iteration"] = {{"best_ms", whole.best * 1e3}, {"median_ms", whole.median * 1e3},
                          {"fraction_of_triad", it_bytes / whole.best / 1e9 / triad}};
  const Timing be_plain = summarize(be_secs[0]);
  j["backend_iteration"] = {{"best_ms", be_plain.best * 1e3}, {"median_ms", be_plain.median * 1e3},
                            {"fraction_of_triad", it_bytes / be_plain.best / 1e9 / triad},
                            {"path", g.transpose_stored ? "two half-steps (W^T stored)" : "one pass over W"}};
  for (std::size_t v = 1; v < n; ++v) {
    const Timing t = summarize(secs[v]);
    float max_diff = 0;
    for (std::size_t e = 0; e < y[0].size(); ++e) max_diff = std::max(max_diff, std::fabs(y[v][e] - y[0][e]));
    const cpu::BlockedMatrix& b = blocked[v - 1];
    nlohmann::json e = tiled_gather_json(b, t, base, half_bytes, triad, y[v] == y[0], build_s[v - 1]);
    e["max_abs_diff_vs_fused_spmm"] = max_diff;
    e["blocked_copy_bytes_per_nnz"] = double(b.bytes()) / nnz;
    j["blocked"].push_back(std::move(e));
    const Timing it = summarize(it_secs[v]);
    j["blocked"].back()["fused_iteration"] = {
        {"best_ms", it.best * 1e3}, {"median_ms", it.median * 1e3},
        {"fraction_of_triad", it_bytes / it.best / 1e9 / triad},
        {"speedup_vs_plain_fused_iteration_best", whole.best / it.best},
        {"speedup_vs_plain_fused_iteration_median", whole.median / it.median},
        {"bitwise_equal", it_users[v] == it_users[0] && it_items[v] == it_items[0]}};
    const Timing bt = summarize(be_secs[v]);
    j["blocked"].back()["backend_iteration"] = {
        {"best_ms", bt.best * 1e3}, {"median_ms", bt.median * 1e3},
        {"fraction_of_triad", it_bytes / bt.best / 1e9 / triad},
        {"speedup_vs_plain_backend_best", be_plain.best / bt.best},
        {"speedup_vs_plain_backend_median", be_plain.median / bt.median},
        {"bitwise_equal", be_users[v] == be_users[0] && be_items[v] == be_items[0]}};
  }
  if (g.transpose_stored) j["items_gather"] = items_gather(g, k, threads, iterations, rng, triad, configs);
  return j;
}

}  // namespace driftrec::bench
