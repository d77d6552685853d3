#include "pipeline/propagate.hpp"

#include <chrono>
#include <utility>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "io/label_result.hpp"
#include "io/result_name.hpp"
#include "io/walk_result.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::pipeline {
namespace pr = propagation;

namespace {

// Temporal label propagation, streamed period by period into the result.
void run_label(const io::Store& store, io::StoreWriter& writer, const PropagateRequest& q, PropagateSummary& s) {
  const std::size_t n = store.n_slices();
  if (store.n_labels() == 0)
    throw InputError(fmt::format("{}: the store has no item labels; ingest with --labels to propagate them", q.store));
  const std::size_t first = first_kept_period(q.keep, n, "keep");
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t k = 0; k < n; ++k) slices.push_back(checked_slice(store, k));
  const graph::CsrMatrix labels = store.item_labels();

  io::LabelResultWriter result(writer, s.result);
  io::LabelResultInfo info;
  info.options = s.label;
  info.keep = q.keep;
  info.slicing = store.slicing();
  pr::propagate_temporal_streaming(
      slices, labels, s.label,
      [&](std::size_t t, pr::PeriodResult& r) {
        if (t >= first) result.write_period(t, r.interests, r.item_labels);
        if (t + 2 >= n) result.write_user_scores(t, r.user_scores);  // what `update` resumes from
        info.iterations.push_back(r.iterations);
        info.residual.push_back(r.residual);
        info.converged.push_back(r.converged);
        s.label_periods.push_back({t, store.periods().begin[t], r.iterations, r.residual, r.converged, t >= first});
      },
      [&](const pr::IterationProgress& p) {
        if (q.progress) q.progress("propagate", p.period, n);
      });
  result.finish(info);
  for (const PropagatedPeriod& p : s.label_periods) {
    if (!p.converged) ++s.not_converged;
    if (p.residual > s.label_periods[s.worst_period].residual) s.worst_period = p.period;
  }
}

// A random-walk method on G = the decayed history up to the last period.
void run_walk(const io::Store& store, io::StoreWriter& writer, const PropagateRequest& q, PropagateSummary& s) {
  graph::CsrMatrix history;
  const std::size_t n = store.n_slices();
  for (std::size_t t = 0; t < n; ++t) {
    history = t == 0 ? checked_slice(store, 0) : graph::decay_step(history, checked_slice(store, t), s.walk.gamma);
    if (q.progress) q.progress("history", t + 1, n);
  }
  const pr::BipartiteGraph graph = pr::make_bipartite_graph(std::move(history), kWalkGraphName);
  const pr::RecommendOptions r = top_options(s.walk, q.threads);
  s.counts.graph_nnz = graph.nnz();

  io::WalkResult w = walk_result_info(q.method, s.walk, store.slicing(), static_cast<std::int64_t>(n));
  if (q.method == "ppr") {
    const pr::PageRankOptions o = pagerank_options(s.walk, q.threads);
    pr::PageRankTopItems p = pr::pagerank_top_items(graph, o, r, [&](graph::Index done, graph::Index all) {
      if (q.progress) q.progress("pagerank", static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(all));
    });
    w.top = std::move(p.top);
    record_pagerank(p.iterations, p.residual, p.converged, w, s.counts);
  } else {
    const pr::WalkSimilarityOptions o = similarity_options(q.method, s.walk, q.threads);
    s.walk.beta = o.beta;
    w.similarity = pr::walk_similarity(graph, o);
    w.top = pr::recommend_all(graph.user_items, w.similarity, r);
    s.counts.similarity_nnz = w.similarity.nnz();
  }
  io::write_walk_result(writer, s.result, w);
}

}  // namespace

pr::Reorder parse_reorder(const std::string& text, const char* field) {
  if (text == "auto") return pr::Reorder::automatic;
  if (text == "on") return pr::Reorder::on;
  if (text == "off") return pr::Reorder::off;
  throw InputError(fmt::format("{}: expected 'auto', 'on' or 'off', found '{}'", field, text));
}

const char* reorder_name(pr::Reorder reorder) {
  switch (reorder) {
    case pr::Reorder::automatic: return "auto";
    case pr::Reorder::on: return "on";
    case pr::Reorder::off: return "off";
  }
  DRIFTREC_ASSERT(false);
  return "";
}

pr::LowMemory low_memory_mode(std::optional<bool> flag) {
  if (!flag) return pr::LowMemory::automatic;
  return *flag ? pr::LowMemory::on : pr::LowMemory::off;
}

std::optional<bool> low_memory_flag(pr::LowMemory mode) {
  if (mode == pr::LowMemory::automatic) return std::nullopt;
  return mode == pr::LowMemory::on;
}

PropagateSummary propagate_store(const PropagateRequest& q) {
  PropagateSummary s;
  s.store = q.store;
  s.method = q.method;
  s.result = q.name.empty() ? q.method : q.name;
  s.label = q.label;
  s.label.propagation.threads = q.threads;
  s.walk = q.walk;
  if (q.method != "label" && !is_walk_method(q.method))
    throw InputError(fmt::format("method: expected label, p3alpha, rp3beta or ppr, found '{}'", q.method));
  io::check_result_name(s.result);
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  if (s.is_label()) s.label.validate();
  else validate_walk(q.method, s.walk);
  // The random walks have no CUDA path: only label propagation takes the backend.
  const DeviceBackends device = device_backends(q.device, q.threads);
  s.label.propagation.backend = device.propagation.get();

  // The writer (and the store's writer lock) before reading: what this job computes from
  // is the store it amends, whatever other writers do meanwhile.
  io::StoreWriter writer(q.store, io::StoreWriter::Amend{}, q.threads);
  const io::Store store = io::Store::open(q.store);
  s.periods = store.n_slices();
  if (s.periods == 0) throw InputError(fmt::format("{}: the store has no slices", q.store));
  if (s.is_label()) first_kept_period(q.keep, s.periods, "keep");  // before computing
  const auto t0 = std::chrono::steady_clock::now();
  if (s.is_label()) run_label(store, writer, q, s);
  else run_walk(store, writer, q, s);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.label.propagation.backend = nullptr;  // the summary outlives the device backends
  writer.commit();
  return s;
}

std::int64_t PropagateSummary::total_iterations() const {
  std::int64_t total = 0;
  for (const PropagatedPeriod& p : label_periods) total += p.iterations;
  return total;
}

nlohmann::json PropagateSummary::to_json() const {
  nlohmann::json j{{"store", store}, {"result", result}, {"method", method}, {"seconds", seconds}};
  if (is_label()) {
    nlohmann::json list = nlohmann::json::array();
    for (const PropagatedPeriod& p : label_periods)
      list.push_back({{"period", p.period},
                      {"begin", p.begin},
                      {"iterations", p.iterations},
                      {"residual", p.residual},
                      {"converged", p.converged},
                      {"saved", p.saved}});
    j["periods"] = list;
    j["not_converged"] = not_converged;
    return j;
  }
  j.update(walk_json(method, walk, counts));
  return j;
}

}  // namespace driftrec::pipeline
