// als_bench: times driftrec's implicit ALS (matrix_factorization::fit_implicit_als) on one
// training matrix and prints one JSON object with the seconds of every sweep. It is the C++
// half of compare_implicit.py, which runs the `implicit` library on the same matrix in the
// same run and scores both models; see README.md beside this file.
//
// The training matrix is either
//   --store FILE   the sum of every slice of a driftrec store except the last (the temporal
//                  split: train on all periods but the last, test on the last), or
//   --synthetic    a seeded, skewed users x items matrix (>= 10^7 stored entries by default)
//                  with a held-out "next period" drawn from the same users' tastes.
// --dump-matrix DIR writes the training matrix (and the synthetic test matrix) as .npy
// (train_indptr int64, train_indices int32, train_data float32, ...); --save DIR writes
// the fitted factors as user_factors.npy and item_factors.npy (float32, row-major), so the
// Python driver can score them with the same code it uses for implicit's factors.
//
// Synthetic model (all draws from graph::Rng keyed by (seed, stream, user), so the matrix
// is identical for any thread count): items belong to kTopics topics round-robin and have
// power-law popularity (rank^-0.8) within their topic and overall; a user's activity is
// lognormal, and each of her draws comes from her primary topic (60%), a secondary topic
// (20%) or the whole catalogue (20%). Values are 1 + Poisson(1) (repeat counts).
#include <omp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "graph/csr.hpp"
#include "graph/generator.hpp"
#include "io/store.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace {

namespace fs = std::filesystem;
namespace mf = driftrec::matrix_factorization;
using driftrec::graph::CsrMatrix;
using driftrec::graph::Index;
using driftrec::graph::Offset;
using Clock = std::chrono::steady_clock;

static_assert(std::endian::native == std::endian::little, ".npy files are written little-endian");

// A float option as the double with the same shortest decimal form (0.01f -> 0.01).
double shortest(float x) { return std::stod(fmt::format("{}", x)); }

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- .npy (format 1.0), written by hand: magic, header dict padded to 64 bytes, data ----

template <typename T>
constexpr const char* npy_descr();
template <>
constexpr const char* npy_descr<float>() { return "<f4"; }
template <>
constexpr const char* npy_descr<std::int32_t>() { return "<i4"; }
template <>
constexpr const char* npy_descr<std::int64_t>() { return "<i8"; }

template <typename T>
void write_npy(const fs::path& path, const T* data, std::int64_t rows, std::int64_t cols /* -1: 1-D */) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}{}), }}",
                                 npy_descr<T>(), rows, cols < 0 ? "," : fmt::format(", {}", cols));
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic(6) version(2) len(2) dict '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  const auto header_len = static_cast<std::uint16_t>(dict.size());
  out.write("\x93NUMPY\x01\x00", 8);
  out.write(reinterpret_cast<const char*>(&header_len), 2);
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  const std::int64_t n = rows * (cols < 0 ? 1 : cols);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(T)));
  if (!out) throw std::runtime_error("failed writing " + path.string());
}

void dump_csr(const fs::path& dir, const std::string& prefix, const CsrMatrix& m) {
  write_npy(dir / (prefix + "_indptr.npy"), m.indptr.data(), static_cast<std::int64_t>(m.indptr.size()), -1);
  write_npy(dir / (prefix + "_indices.npy"), m.indices.data(), static_cast<std::int64_t>(m.indices.size()), -1);
  write_npy(dir / (prefix + "_data.npy"), m.data.data(), static_cast<std::int64_t>(m.data.size()), -1);
}

// A fingerprint both sides can recompute: shape, nnz, sum of values, sum of column ids.
nlohmann::json fingerprint(const CsrMatrix& m) {
  double value_sum = 0;
  std::int64_t index_sum = 0;
  for (float v : m.data) value_sum += v;
  for (Index c : m.indices) index_sum += c;
  return {{"rows", m.n_rows}, {"cols", m.n_cols}, {"nnz", m.nnz()},
          {"value_sum", value_sum}, {"index_sum", index_sum}};
}

// ---- training matrix from a store: the sum of all slices but the last ----

CsrMatrix train_from_store(const driftrec::io::Store& store) {
  if (store.n_slices() < 2)
    throw driftrec::InputError(fmt::format(
        "{}: has {} slice(s); the temporal split needs at least 2", store.path(), store.n_slices()));
  std::vector<driftrec::graph::Triplet> t;
  for (std::size_t k = 0; k + 1 < store.n_slices(); ++k) {
    const CsrMatrix s = store.slice(k);
    for (Index u = 0; u < s.n_rows; ++u)
      for (Offset e = s.indptr[u]; e < s.indptr[u + 1]; ++e) t.push_back({u, s.indices[e], s.data[e]});
  }
  return driftrec::graph::csr_from_triplets(store.n_users(), store.n_items(), t);  // sums repeats
}

// ---- synthetic matrix ----

struct SyntheticConfig {
  Index users = 200000;
  Index items = 50000;
  double mean_activity = 60;  // distinct training items per user before clamping
  double test_fraction = 0.05;
  std::uint64_t seed = 42;
};

constexpr int kTopics = 64;
constexpr double kZipf = 0.8;
constexpr std::uint64_t kTrainStream = 0x747261696e;  // "train"
constexpr std::uint64_t kTestStream = 0x74657374;     // "test"
constexpr std::uint64_t kTasteStream = 0x7461737465;  // "taste"

// Rank in [0, n) with density ~ (rank + 1)^-kZipf (inverse CDF of the continuous law).
Index power_law_rank(driftrec::graph::Rng& rng, Index n) {
  const double e = 1.0 - kZipf;
  const double x = std::pow(1.0 + rng.uniform() * (std::pow(static_cast<double>(n) + 1.0, e) - 1.0), 1.0 / e);
  return std::min<Index>(n - 1, static_cast<Index>(x) - 1);
}

struct Taste {
  int primary, secondary;
  Index activity;
};

Taste user_taste(const SyntheticConfig& c, Index u) {
  driftrec::graph::Rng rng(c.seed, kTasteStream, static_cast<std::uint64_t>(u));
  const double sigma = 1.0, mu = std::log(c.mean_activity) - 0.5 * sigma * sigma;
  const double a = std::exp(mu + sigma * rng.normal());
  const auto cap = std::max<Index>(5, c.items / 10);
  Taste t;
  t.primary = static_cast<int>(rng.below(kTopics));
  t.secondary = static_cast<int>(rng.below(kTopics));
  t.activity = std::clamp<Index>(static_cast<Index>(std::lround(a)), 5, cap);
  return t;
}

Index draw_item(const SyntheticConfig& c, const Taste& t, driftrec::graph::Rng& rng) {
  const double which = rng.uniform();
  if (which >= 0.8) return power_law_rank(rng, c.items);
  const int topic = which < 0.6 ? t.primary : t.secondary;
  const Index in_topic = (c.items - topic + kTopics - 1) / kTopics;  // items topic, topic+K, ...
  return topic + power_law_rank(rng, in_topic) * kTopics;
}

// Row u: `count` distinct items (fewer if the taste is too narrow), values 1 + Poisson(1).
void draw_row(const SyntheticConfig& c, const Taste& t, Index count, std::uint64_t stream, Index u,
              std::vector<Index>& cols, std::vector<float>& vals) {
  driftrec::graph::Rng rng(c.seed, stream, static_cast<std::uint64_t>(u));
  cols.clear();
  for (std::int64_t tries = 0; static_cast<Index>(cols.size()) < count && tries < 20LL * count; ++tries) {
    const Index i = draw_item(c, t, rng);
    auto pos = std::lower_bound(cols.begin(), cols.end(), i);
    if (pos == cols.end() || *pos != i) cols.insert(pos, i);
  }
  vals.resize(cols.size());
  for (auto& v : vals) v = 1.0f + static_cast<float>(rng.poisson(1.0));
}

CsrMatrix assemble(Index rows, Index cols, std::vector<std::vector<Index>>& c, std::vector<std::vector<float>>& v) {
  CsrMatrix m;
  m.n_rows = rows;
  m.n_cols = cols;
  m.indptr.assign(static_cast<std::size_t>(rows) + 1, 0);
  for (Index r = 0; r < rows; ++r) m.indptr[r + 1] = m.indptr[r] + static_cast<Offset>(c[r].size());
  m.indices.resize(static_cast<std::size_t>(m.nnz()));
  m.data.resize(static_cast<std::size_t>(m.nnz()));
#pragma omp parallel for schedule(static)
  for (Index r = 0; r < rows; ++r) {
    std::copy(c[r].begin(), c[r].end(), m.indices.begin() + m.indptr[r]);
    std::copy(v[r].begin(), v[r].end(), m.data.begin() + m.indptr[r]);
    std::vector<Index>().swap(c[r]);
    std::vector<float>().swap(v[r]);
  }
  return m;
}

std::pair<CsrMatrix, CsrMatrix> synthetic(const SyntheticConfig& c) {
  std::vector<std::vector<Index>> train_c(c.users), test_c(c.users);
  std::vector<std::vector<float>> train_v(c.users), test_v(c.users);
#pragma omp parallel for schedule(dynamic, 1024)
  for (Index u = 0; u < c.users; ++u) {
    const Taste t = user_taste(c, u);
    draw_row(c, t, t.activity, kTrainStream, u, train_c[u], train_v[u]);
    const auto n_test = std::max<Index>(1, static_cast<Index>(std::lround(c.test_fraction * t.activity)));
    draw_row(c, t, n_test, kTestStream, u, test_c[u], test_v[u]);
  }
  return {assemble(c.users, c.items, train_c, train_v), assemble(c.users, c.items, test_c, test_v)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times driftrec's implicit ALS on a store's training split or a synthetic matrix; prints JSON"};
  std::string store_path, save_dir, dump_dir, solver = "cg";
  bool use_synthetic = false, compute_loss = false;
  SyntheticConfig syn;
  mf::AlsOptions opt;
  int threads = 2;
  auto* src = app.add_option_group("source", "the training matrix");
  src->add_option("--store", store_path, "driftrec store: train on all slices but the last");
  src->add_flag("--synthetic", use_synthetic, "seeded synthetic matrix instead of a store");
  src->require_option(1);
  app.add_option("--users", syn.users, "synthetic: users")->default_val(syn.users);
  app.add_option("--items", syn.items, "synthetic: items")->default_val(syn.items);
  app.add_option("--mean-activity", syn.mean_activity, "synthetic: mean distinct items per user")->default_val(syn.mean_activity);
  app.add_option("--data-seed", syn.seed, "synthetic: generator seed")->default_val(syn.seed);
  app.add_option("--factors", opt.factors)->default_val(64);
  app.add_option("--regularization", opt.regularization)->default_val(0.01f);
  app.add_option("--alpha", opt.alpha, "confidence c = 1 + alpha * r")->default_val(1.0f);
  app.add_option("--iterations", opt.iterations)->default_val(15);
  app.add_option("--cg-steps", opt.cg_steps)->default_val(3);
  app.add_option("--solver", solver, "cg or cholesky")->check(CLI::IsMember({"cg", "cholesky"}))->default_val("cg");
  app.add_option("--seed", opt.seed, "initial factors")->default_val(0);
  app.add_option("--threads", threads, "OpenMP threads")->default_val(2)->check(CLI::PositiveNumber);
  app.add_flag("--loss", compute_loss, "report the objective after every sweep (not timed)");
  app.add_option("--save", save_dir, "write user_factors.npy and item_factors.npy into this folder");
  app.add_option("--dump-matrix", dump_dir, "write the training (and synthetic test) CSR as .npy into this folder");
  CLI11_PARSE(app, argc, argv);
  opt.solver = solver == "cg" ? mf::Solver::cg : mf::Solver::cholesky;
  opt.threads = threads;

  try {
    omp_set_num_threads(threads);  // for this program's own loops (the synthetic matrix, loading)
    nlohmann::json j;
    j["benchmark"] = "als";
    const auto t_load = Clock::now();
    CsrMatrix train, test;
    if (use_synthetic) {
      std::tie(train, test) = synthetic(syn);
      j["dataset"] = {{"kind", "synthetic"}, {"users", syn.users}, {"items", syn.items},
                      {"mean_activity", syn.mean_activity}, {"seed", syn.seed}, {"topics", kTopics},
                      {"zipf", kZipf}, {"test_fraction", syn.test_fraction}};
    } else {
      const auto store = driftrec::io::Store::open(store_path);
      train = train_from_store(store);
      j["dataset"] = {{"kind", "store"}, {"path", store_path}, {"slicing", store.slicing()},
                      {"slices", store.n_slices()}, {"train_slices", store.n_slices() - 1}};
    }
    j["load_seconds"] = seconds_since(t_load);
    j["train"] = fingerprint(train);
    if (use_synthetic) j["test"] = fingerprint(test);
    if (!dump_dir.empty()) {
      fs::create_directories(dump_dir);
      dump_csr(dump_dir, "train", train);
      if (use_synthetic) dump_csr(dump_dir, "test", test);
    }

    std::vector<mf::IterationReport> reports;
    const auto t_fit = Clock::now();
    const mf::AlsModel model = mf::fit_implicit_als(
        train, opt, [&](const mf::IterationReport& r) { reports.push_back(r); }, nullptr, compute_loss);
    const double fit_seconds = seconds_since(t_fit);

    nlohmann::json iters = nlohmann::json::array();
    std::vector<double> secs;
    for (const auto& r : reports) {
      iters.push_back({{"iteration", r.iteration}, {"seconds", r.seconds},
                       {"loss", std::isnan(r.loss) ? nlohmann::json(nullptr) : nlohmann::json(r.loss)}});
      secs.push_back(r.seconds);
    }
    std::sort(secs.begin(), secs.end());
    j["settings"] = {{"factors", opt.factors}, {"regularization", shortest(opt.regularization)},
                     {"alpha", shortest(opt.alpha)}, {"confidence", "1 + alpha * r"},
                     {"iterations", opt.iterations}, {"cg_steps", opt.cg_steps},
                     {"solver", solver}, {"seed", opt.seed}};
    j["threads"] = threads;
    j["omp_max_threads"] = omp_get_max_threads();
    j["iterations"] = iters;
    j["fit_seconds"] = fit_seconds;  // includes the transpose and the initial factors
    if (!secs.empty()) {
      j["seconds_per_iteration_mean"] = std::accumulate(secs.begin(), secs.end(), 0.0) / static_cast<double>(secs.size());
      j["seconds_per_iteration_median"] = 0.5 * (secs[(secs.size() - 1) / 2] + secs[secs.size() / 2]);
    }
    if (!save_dir.empty()) {
      fs::create_directories(save_dir);
      write_npy(fs::path(save_dir) / "user_factors.npy", model.user.data(), model.user.rows(), model.user.cols());
      write_npy(fs::path(save_dir) / "item_factors.npy", model.item.data(), model.item.rows(), model.item.cols());
    }
    std::cout << j.dump(2) << "\n";
  } catch (const driftrec::InputError& e) {
    std::cerr << "als_bench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "als_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
