// propagation_bench --temporal (temporal_end_to_end.hpp).
#include "bench/propagation/temporal_end_to_end.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include "bench/propagation/anchors.hpp"
#include "propagation/cpu/cpu_backend.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::bench {

using graph::Index;
using graph::Offset;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

std::vector<graph::CsrMatrix> split_into_periods(const graph::CsrMatrix& w, int periods, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x7e3a);
  std::vector<std::uint8_t> period(static_cast<std::size_t>(w.nnz()));
  for (auto& p : period) p = static_cast<std::uint8_t>(rng() % static_cast<std::uint64_t>(periods));
  std::vector<graph::CsrMatrix> out(static_cast<std::size_t>(periods));
  for (int s = 0; s < periods; ++s) {
    graph::CsrMatrix& m = out[static_cast<std::size_t>(s)];
    m.n_rows = w.n_rows;
    m.n_cols = w.n_cols;
    m.indptr.assign(static_cast<std::size_t>(w.n_rows) + 1, 0);
    for (Index r = 0; r < w.n_rows; ++r) {
      Offset n = 0;
      for (Offset e = w.indptr[r]; e < w.indptr[r + 1]; ++e) n += period[static_cast<std::size_t>(e)] == s;
      m.indptr[static_cast<std::size_t>(r) + 1] = m.indptr[static_cast<std::size_t>(r)] + n;
    }
    m.indices.reserve(static_cast<std::size_t>(m.nnz()));
    m.data.reserve(static_cast<std::size_t>(m.nnz()));
    for (Offset e = 0; e < w.nnz(); ++e)
      if (period[static_cast<std::size_t>(e)] == s) {
        m.indices.push_back(w.indices[static_cast<std::size_t>(e)]);
        m.data.push_back(w.data[static_cast<std::size_t>(e)]);
      }
  }
  return out;
}

json temporal_end_to_end(const std::vector<graph::CsrMatrix>& slices, int k, int threads, int iterations,
                         std::uint64_t seed, bool untiled) {
  const Index users = slices.front().n_rows, items = slices.front().n_cols;
  std::mt19937_64 rng(seed);
  std::vector<graph::Triplet> labels;
  for (Index i = 0; i < items; ++i) labels.push_back({i, static_cast<Index>(rng() % k), 1.0f});
  const graph::CsrMatrix item_labels = graph::csr_from_triplets(items, k, labels);

  propagation::TemporalOptions o;
  o.gamma = 0.5f;
  o.mu = 0.5f;
  o.propagation.tolerance = 0;
  o.propagation.max_iterations = iterations;
  o.propagation.threads = threads;
  o.propagation.low_memory = propagation::LowMemory::off;
  propagation::cpu::CpuBackend backend(threads);
  if (untiled) backend.set_tiling(propagation::cpu::CpuBackend::Tiling::off);
  o.propagation.backend = &backend;

  const std::size_t last = slices.size() - 1;
  json j{{"periods", slices.size()}, {"k", k}, {"threads", threads}, {"iterations_per_period", iterations},
         {"tiling", untiled ? "off" : "automatic"}, {"load_average_before", load_average_1min()}};
  j["triad_gb_per_s"] = triad_gbps(std::size_t{1} << 24, 10, threads);
  j["peak_reset_ok"] = reset_peak_rss();
  const double before = static_cast<double>(proc_status_bytes("VmRSS"));
  std::vector<double> period_seconds, last_iterations;
  double setup_peak = 0, iteration_peak = 0, previous = 0;
  bool reset_after_setup = false, reset_after_iterations = false;
  const auto t0 = Clock::now();
  const auto now = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  propagation::propagate_temporal_streaming(
      slices, item_labels, o,
      [&](std::size_t, propagation::PeriodResult&) {  // results dropped: the bench keeps none
        period_seconds.push_back(now() - previous);
        previous = now();
      },
      [&](const propagation::IterationProgress& p) {
        if (p.period != last) return;
        last_iterations.push_back(now());
        if (p.iteration == 1) {
          setup_peak = static_cast<double>(proc_status_bytes("VmHWM"));
          reset_after_setup = reset_peak_rss();
        }
        if (p.iteration == iterations) {
          iteration_peak = static_cast<double>(proc_status_bytes("VmHWM"));
          reset_after_iterations = reset_peak_rss();
        }
      });
  const double total = now();
  const double end_peak = static_cast<double>(proc_status_bytes("VmHWM"));
  std::vector<double> per;
  for (std::size_t i = 1; i < last_iterations.size(); ++i) per.push_back(last_iterations[i] - last_iterations[i - 1]);
  const Timing t = per.empty() ? Timing{} : summarize(per);
  // G_{P-1} has W's pattern: every entry of W lies in one period.
  Offset nnz = 0;
  for (const auto& s : slices) nnz += s.nnz();
  const double n = static_cast<double>(nnz);
  // Dense k-column matrices while the last period iterates: F_U(t-1) and its permuted
  // copy (the prior), Y_I and its permuted copy, F_U and F_I.
  const double row = 4.0 * k, dense = row * (3.0 * users + 3.0 * items);
  j["seconds_total"] = total;
  j["period_seconds"] = period_seconds;
  j["last_period_ms_per_iteration_best"] = t.best * 1e3;
  j["last_period_ms_per_iteration_median"] = t.median * 1e3;
  j["nnz_last_history"] = nnz;
  j["rss_before_bytes"] = before;
  j["dense_bytes_estimate"] = dense;
  j["peak_resets_ok"] = reset_after_setup && reset_after_iterations;
  // Up to the last period's first iteration (decay step, relabelling, graph build, tiles),
  // over its iterations, and after them (results mapped back, G_t handed back).
  j["last_setup_peak_minus_before_bytes_per_nnz"] = (setup_peak - before) / n;
  j["last_iterations_peak_minus_before_bytes_per_nnz"] = (iteration_peak - before) / n;
  j["last_iterations_peak_minus_before_and_dense_bytes_per_nnz"] = (iteration_peak - before - dense) / n;
  j["after_iterations_peak_minus_before_bytes_per_nnz"] = (end_peak - before) / n;
  j["load_average_after"] = load_average_1min();
  return j;
}

}  // namespace driftrec::bench
