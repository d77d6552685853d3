// `driftrec-mpi evaluate` (mpi/evaluate_job.hpp): the static assignment of the rows to
// ranks, each rank's fits, and the gather of every model's outcome to rank 0, which
// assembles the report.
#include "mpi/evaluate_job.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "evaluation/evaluate.hpp"
#include "mpi/clock.hpp"
#include "pipeline/evaluate_steps.hpp"

namespace driftrec::mpi {

namespace ev = evaluation;

namespace {

// CPU seconds of each row in `driftrec evaluate --threads 1` on MovieLens by year, 3 test
// periods (bench/mpi/README.md); what matters is their ratio. One thread, since a rank
// usually runs few: at 2 threads the threaded rows (ALS, temporal ALS, the sequence rows)
// cost 1.5-5x the CPU for the same work on this data, the baselines and the ranker less.
// The ranker fits its six sources per training period; sequence_gru carries the sequence
// rows' shared features.
const std::map<std::string, double>& cost_table() {
  static const std::map<std::string, double> t{
      {"ranker", 11.6},          {"item_knn", 3.9},      {"sequence_gru", 3.7},         {"rp3beta", 2.5},
      {"label_propagation", 1.8}, {"sequence_lstm", 1.6}, {"temporal_als", 1.45},       {"sequence_attention", 1.2},
      {"als", 0.66},             {"mixture", 0.11},      {"hybrid", 0.02},              {"ewma", 0.01},
      {"popularity", 0.01},      {"last_period", 0.004}, {"recent_popularity", 0.004}};
  return t;
}

// A byte buffer for the outcomes rank 0 gathers: sizes as u64, values as their bytes
// (doubles travel bit for bit), JSON as CBOR (lossless for doubles).
class Writer {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    put<std::uint64_t>(v.size());
    const auto* p = reinterpret_cast<const char*>(v.data());
    bytes_.insert(bytes_.end(), p, p + v.size() * sizeof(T));
  }
  void put_string(const std::string& s) { put_array(std::vector<char>(s.begin(), s.end())); }
  void put_json(const nlohmann::json& j) { put_array(nlohmann::json::to_cbor(j)); }
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

class Reader {
 public:
  Reader(const char* data, std::size_t size) : p_(data), end_(data + size) {}
  template <class T>
  T get() {
    T v;
    take(&v, sizeof(T));
    return v;
  }
  template <class T>
  std::vector<T> get_array() {
    const auto n = get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(end_ - p_) / sizeof(T)) throw InternalError("evaluate: a gathered outcome is cut short");
    std::vector<T> v(n);
    take(v.data(), n * sizeof(T));
    return v;
  }
  std::string get_string() {
    const std::vector<char> v = get_array<char>();
    return {v.begin(), v.end()};
  }
  nlohmann::json get_json() { return nlohmann::json::from_cbor(get_array<std::uint8_t>()); }
  bool done() const { return p_ == end_; }

 private:
  void take(void* out, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_)) throw InternalError("evaluate: a gathered outcome is cut short");
    std::memcpy(out, p_, n);
    p_ += n;
  }
  const char* p_;
  const char* end_;
};

void put_outcome(Writer& w, std::uint64_t model, const ev::ModelOutcome& o) {
  w.put(model);
  w.put<std::uint64_t>(o.chosen.size());
  for (const auto& [name, value] : o.chosen) {
    w.put_string(name);
    w.put(value);
  }
  w.put_json(o.validation);
  w.put_string(o.validation_note);
  w.put<std::uint64_t>(o.period_notes.size());
  for (const std::string& note : o.period_notes) w.put_string(note);
  w.put<std::uint64_t>(o.series.size());
  for (const ev::Series& s : o.series) {
    w.put_array(s.value);
    w.put_array(s.defined);
  }
  w.put(o.fallbacks);
  w.put(o.seconds);
  w.put(o.cpu_seconds);
}

// Reads one outcome into `outcomes` (at the model index it carries).
void get_outcome(Reader& r, std::vector<ev::ModelOutcome>& outcomes) {
  const auto model = r.get<std::uint64_t>();
  if (model >= outcomes.size()) throw InternalError(fmt::format("evaluate: a gathered outcome for model {}", model));
  ev::ModelOutcome& o = outcomes[model];
  o.evaluated = true;
  const auto params = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < params; ++i) {
    std::string name = r.get_string();
    o.chosen[name] = r.get<double>();
  }
  o.validation = r.get_json();
  o.validation_note = r.get_string();
  o.period_notes.resize(r.get<std::uint64_t>());
  for (std::string& note : o.period_notes) note = r.get_string();
  o.series.resize(r.get<std::uint64_t>());
  for (ev::Series& s : o.series) {
    s.value = r.get_array<double>();
    s.defined = r.get_array<std::uint8_t>();
  }
  o.fallbacks = r.get<std::int64_t>();
  o.seconds = r.get<double>();
  o.cpu_seconds = r.get<double>();
}

// Every rank's bytes to rank 0, in rank order (MPI_Gatherv).
std::vector<std::vector<char>> gather_bytes(const Comm& c, const std::vector<char>& mine) {
  const auto n = static_cast<long long>(mine.size());
  std::vector<long long> sizes(static_cast<std::size_t>(c.size));
  MPI_Gather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, c.comm);
  std::vector<int> counts(static_cast<std::size_t>(c.size));
  run_phase(c, [&] {
    if (!c.root()) return;
    long long total = 0;
    for (int q = 0; q < c.size; ++q) {
      total += sizes[q];
      if (total > INT_MAX)
        throw InputError(fmt::format("evaluate: the per-pair values of the ranks' models exceed MPI's int count ({} "
                                     "bytes by rank {}); evaluate fewer test periods or models at a time",
                                     total, q));
      counts[q] = static_cast<int>(sizes[q]);
    }
  });
  const std::vector<int> d = displacements(counts);
  std::vector<char> all;
  if (c.root()) all.resize(static_cast<std::size_t>(d.back() + counts.back()));
  MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, all.data(), counts.data(), d.data(), MPI_CHAR, 0,
              c.comm);
  std::vector<std::vector<char>> out;
  if (c.root())
    for (int q = 0; q < c.size; ++q) out.emplace_back(all.begin() + d[q], all.begin() + d[q] + counts[q]);
  return out;
}

// The chosen sequence settings, from rank 0 to every rank.
ev::Params broadcast_params(const Comm& c, const ev::Params& p) {
  std::vector<std::uint8_t> bytes;
  if (c.root()) bytes = nlohmann::json::to_cbor(nlohmann::json(p));
  auto n = static_cast<long long>(bytes.size());
  MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, c.comm);
  bytes.resize(static_cast<std::size_t>(n));
  MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, 0, c.comm);
  return nlohmann::json::from_cbor(bytes).get<ev::Params>();
}

}  // namespace

double model_cost(const std::string& name) {
  const auto& t = cost_table();
  if (auto it = t.find(name); it != t.end()) return it->second;
  std::vector<double> costs;
  for (const auto& [n, cost] : t) costs.push_back(cost);
  std::sort(costs.begin(), costs.end());
  return costs[costs.size() / 2];
}

std::string model_group(const std::string& name) {
  for (const char* row : {"sequence_gru", "sequence_lstm", "sequence_attention", "hybrid", "mixture"})
    if (name == row) return "sequence";
  return "";
}

std::vector<int> assign_models(const std::vector<std::string>& names, int ranks) {
  // Groups: the rows of one key together, a row without a key alone; by first row.
  struct Group {
    std::vector<std::size_t> rows;
    double cost = 0;
  };
  std::vector<Group> groups;
  std::map<std::string, std::size_t> by_key;
  for (std::size_t m = 0; m < names.size(); ++m) {
    const std::string key = model_group(names[m]);
    std::size_t g = groups.size();
    if (!key.empty()) {
      auto [it, added] = by_key.emplace(key, groups.size());
      g = it->second;
      if (!added) {
        groups[g].rows.push_back(m);
        groups[g].cost += model_cost(names[m]);
        continue;
      }
    }
    groups.push_back({{m}, model_cost(names[m])});
  }
  // Longest first, each to the least loaded rank (stable: ties keep the row order).
  std::vector<std::size_t> order(groups.size());
  for (std::size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return groups[a].cost > groups[b].cost; });
  std::vector<double> load(static_cast<std::size_t>(std::max(ranks, 1)), 0.0);
  std::vector<int> owner(names.size(), 0);
  for (std::size_t g : order) {
    const auto r = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[r] += groups[g].cost;
    for (std::size_t m : groups[g].rows) owner[m] = static_cast<int>(r);
  }
  return owner;
}

EvaluateJobSummary evaluate_store(const Comm& c, const pipeline::EvaluateRequest& request) {
  EvaluateJobSummary out;
  out.ranks = c.size;
  pipeline::EvaluateRequest q = request;
  if (!c.root()) q.progress = nullptr;  // rank 0 reports its own fits
  pipeline::EvaluationSetup setup;
  run_phase(c, [&] { pipeline::load_evaluation(q, setup); });

  std::optional<ev::TuneResult> tuned;
  if (q.tune_budget > 0) {
    run_phase(c, [&] {
      if (c.root()) tuned = pipeline::tune_evaluation(setup, q);
    });
    const ev::Params chosen = broadcast_params(c, c.root() ? tuned->chosen : ev::Params{});
    if (!c.root()) tuned = ev::TuneResult{chosen, {}, 0, 0, 0};
  }
  run_phase(c, [&] { pipeline::choose_models(setup, q, std::move(tuned)); });

  std::vector<std::string>& names = out.models;
  for (const ev::ModelSpec& m : setup.models) names.push_back(m.name);
  out.owner = assign_models(names, c.size);
  std::vector<bool> mine(names.size());
  for (std::size_t m = 0; m < names.size(); ++m) mine[m] = out.owner[m] == c.rank;

  const auto t0 = Clock::now();
  ev::ModelOutcomes outcomes;
  double my_seconds = 0;
  run_phase(c, [&] {
    inject_fault(c, 0);
    outcomes = ev::evaluate_models(setup.data, setup.models, setup.options, mine);
    my_seconds = since(t0);
  });

  // Every rank's outcomes to rank 0; rank 0 keeps its own in place.
  Writer w;
  w.put(my_seconds);
  if (!c.root())
    for (std::size_t m = 0; m < names.size(); ++m)
      if (mine[m]) put_outcome(w, m, outcomes.models[m]);
  const std::vector<std::vector<char>> gathered = gather_bytes(c, w.bytes());
  run_phase(c, [&] {
    if (!c.root()) return;
    for (int r = 0; r < c.size; ++r) {
      Reader in(gathered[r].data(), gathered[r].size());
      out.rank_seconds.push_back(in.get<double>());
      while (!in.done()) get_outcome(in, outcomes.models);
    }
    const ev::EvaluationReport report = ev::assemble_report(setup.data, setup.models, setup.options, std::move(outcomes));
    out.summary = pipeline::summarize_evaluation(setup, report, since(t0));
  });
  return out;
}

}  // namespace driftrec::mpi
