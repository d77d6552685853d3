// propagation_bench --end-to-end (end_to_end.hpp): one propagate_labels call on a large
// graph, timed per iteration through the progress callback, with its peak memory.
#include "bench/propagation/end_to_end.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <vector>

#include "bench/propagation/anchors.hpp"
#include "core/memory.hpp"
#include "propagation/cpu/cpu_backend.hpp"

namespace driftrec::bench {

using graph::Index;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

json end_to_end(const graph::CsrMatrix& w, int k, int threads, int iterations, propagation::LowMemory mode,
                std::uint64_t seed, bool untiled) {
  std::mt19937_64 rng(seed);
  std::vector<graph::Triplet> labels;
  labels.reserve(static_cast<std::size_t>(w.n_cols));
  for (Index i = 0; i < w.n_cols; ++i) labels.push_back({i, static_cast<Index>(rng() % k), 1.0f});
  const graph::CsrMatrix item_labels = graph::csr_from_triplets(w.n_cols, k, labels);
  std::vector<graph::Triplet>().swap(labels);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  propagation::DenseMatrix prior(w.n_rows, k);
  for (Eigen::Index i = 0; i < prior.size(); ++i) prior.data()[i] = unit(rng) / static_cast<float>(k);

  propagation::LabelPropagationOptions o;
  o.tolerance = 0;
  o.max_iterations = iterations;
  o.threads = threads;
  o.low_memory = mode;
  propagation::cpu::CpuBackend untiled_backend(threads);
  untiled_backend.set_tiling(propagation::cpu::CpuBackend::Tiling::off);
  if (untiled) o.backend = &untiled_backend;
  const double n = static_cast<double>(w.nnz()), u = static_cast<double>(w.n_rows), it = static_cast<double>(w.n_cols);
  const bool reordered = o.reorders(w.nnz());
  const propagation::Footprint f = propagation::estimate_footprint(w.n_rows, w.n_cols, w.nnz(), k, true, reordered);
  const std::uint64_t available = core::available_memory();
  const bool low = propagation::runs_low_memory(mode, f, available);

  json j{{"k", k}, {"threads", threads}, {"iterations", iterations}, {"nnz", w.nnz()}, {"users", w.n_rows},
         {"items", w.n_cols}, {"reordered", reordered}, {"low_memory", low},
         {"mode", mode == propagation::LowMemory::on ? "on" : mode == propagation::LowMemory::off ? "off" : "automatic"},
         {"tiling", untiled ? "off" : "automatic"},
         {"available_bytes_before", available},
         {"estimate_with_transpose_bytes", f.with_transpose}, {"estimate_low_memory_bytes", f.low_memory},
         {"automatic_chooses_low_memory", propagation::runs_low_memory(propagation::LowMemory::automatic, f, available)},
         {"load_average_before", load_average_1min()}};
  j["triad_gb_per_s"] = triad_gbps(std::size_t{1} << 24, 10, threads);
  j["peak_reset_ok"] = reset_peak_rss();
  const double before = static_cast<double>(proc_status_bytes("VmRSS"));
  std::vector<double> stamps;
  double setup_peak = 0;  // VmHWM up to the first iteration's end (relabelling, graph build, tiles)
  bool reset_after_setup = false;
  const auto t0 = Clock::now();
  const propagation::PropagationResult r = propagation::propagate_labels(
      w, item_labels, &prior, o, [&](const propagation::IterationProgress&) {
        stamps.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (stamps.size() == 1) {
          setup_peak = static_cast<double>(proc_status_bytes("VmHWM"));
          reset_after_setup = reset_peak_rss();
        }
      });
  const double total = std::chrono::duration<double>(Clock::now() - t0).count();
  // The peak from the second iteration on (and the mapping back), when the reset worked.
  const double iteration_peak = static_cast<double>(proc_status_bytes("VmHWM"));
  const double peak = std::max(setup_peak, iteration_peak);

  // Seconds of iterations 2.. (the first callback also carries the setup: relabelling,
  // graph build, seeds permuted in).
  std::vector<double> per;
  for (std::size_t i = 1; i < stamps.size(); ++i) per.push_back(stamps[i] - stamps[i - 1]);
  const Timing t = per.empty() ? Timing{} : summarize(per);
  const double row = 4.0 * k;
  // Dense k-column matrices alive while iterating: the caller's prior, Y_I, both permuted
  // seeds, F_U and F_I, and the one pass's items x k accumulators.
  const double dense = row * (u + it + (reordered ? u + it : 0) + u + it + (low ? it : 0));
  const double caller_w = 8 * n + 8 * (u + 1);
  // By formula: W alone, or W and W^T untiled; with the tiles in place of W and W^T (their
  // size is the CPU backend's: propagation_bench's memory entry reports it) only the
  // degrees are counted.
  const double w_bytes = 8 * n + 8 * (u + 1), wt_bytes = 8 * n + 8 * (it + 1);
  const double graph = 4 * (u + it) + (low ? w_bytes : untiled ? w_bytes + wt_bytes : 0.0);
  const bool tiles = !low && !untiled;
  j["iterations_run"] = r.iterations;
  j["seconds_total"] = total;
  j["seconds_to_first_iteration"] = stamps.empty() ? 0.0 : stamps[0];
  j["seconds_after_last_iteration"] = stamps.empty() ? 0.0 : total - stamps.back();  // mapping back
  j["seconds_per_iteration"] = per;
  j["ms_per_iteration_best"] = t.best * 1e3;
  j["ms_per_iteration_median"] = t.median * 1e3;
  j["setup_seconds"] = stamps.empty() ? 0.0 : stamps[0] - t.median;
  j["rss_before_bytes"] = before;
  j["peak_rss_bytes"] = peak;
  j["dense_bytes"] = dense;
  j["caller_w_bytes"] = caller_w;
  j["peak_rss_bytes_per_nnz"] = peak / n;
  j["peak_rss_minus_dense_bytes_per_nnz"] = (peak - dense) / n;
  j["peak_rss_minus_dense_and_caller_w_bytes_per_nnz"] = (peak - dense - caller_w) / n;
  j[tiles ? "graph_arrays_bytes_per_nnz_without_tiles" : "graph_arrays_bytes_per_nnz"] = graph / n;
  j["peak_reset_after_setup_ok"] = reset_after_setup;
  j["setup_peak_rss_minus_dense_and_caller_w_bytes_per_nnz"] = (setup_peak - dense - caller_w) / n;
  j["iteration_peak_rss_minus_dense_and_caller_w_bytes_per_nnz"] = (iteration_peak - dense - caller_w) / n;
  j["estimate_vs_measured_growth"] = (low ? f.low_memory : f.with_transpose) / std::max(1.0, peak - before);
  j["load_average_after"] = load_average_1min();
  return j;
}

}  // namespace driftrec::bench
