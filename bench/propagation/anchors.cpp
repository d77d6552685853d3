// Anchors of propagation_bench: triad, GraphBLAS, Eigen, /proc figures. See anchors.hpp.
#include "bench/propagation/anchors.hpp"

#include <omp.h>

#include <Eigen/SparseCore>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#ifdef DRIFTREC_HAVE_GRAPHBLAS
extern "C" {
#include <GraphBLAS.h>
}
#endif

namespace driftrec::bench {
namespace {

using Clock = std::chrono::steady_clock;
using propagation::DenseMatrix;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

#ifdef DRIFTREC_HAVE_GRAPHBLAS
void check(GrB_Info info, const char* what) {
  if (info != GrB_SUCCESS && info != GrB_NO_VALUE)
    throw std::runtime_error(fmt::format("GraphBLAS {} failed: {}", what, static_cast<int>(info)));
}

template <typename T>
T* malloc_array(std::size_t n) {
  void* p = std::malloc(std::max<std::size_t>(n, 1) * sizeof(T));
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

GrB_Matrix import_csr(const graph::CsrMatrix& m) {
  auto* ap = malloc_array<GrB_Index>(m.indptr.size());
  auto* aj = malloc_array<GrB_Index>(m.indices.size());
  auto* ax = malloc_array<float>(m.data.size());
  std::copy(m.indptr.begin(), m.indptr.end(), ap);
  std::copy(m.indices.begin(), m.indices.end(), aj);
  std::copy(m.data.begin(), m.data.end(), ax);
  GrB_Matrix a = nullptr;
  check(GxB_Matrix_import_CSR(&a, GrB_FP32, m.n_rows, m.n_cols, &ap, &aj, reinterpret_cast<void**>(&ax),
                              m.indptr.size() * sizeof(GrB_Index),
                              std::max<std::size_t>(m.indices.size(), 1) * sizeof(GrB_Index),
                              std::max<std::size_t>(m.data.size(), 1) * sizeof(float), false, false,
                              nullptr),
        "import CSR");
  return a;
}

GrB_Matrix import_full(const float* src, GrB_Index rows, GrB_Index cols) {
  const std::size_t n = static_cast<std::size_t>(rows * cols);
  float* x = malloc_array<float>(n);
  if (src) std::copy(src, src + n, x);
  else std::fill(x, x + n, 0.0f);
  GrB_Matrix m = nullptr;
  check(GxB_Matrix_import_FullR(&m, GrB_FP32, rows, cols, reinterpret_cast<void**>(&x),
                                std::max<std::size_t>(n, 1) * sizeof(float), false, nullptr),
        "import FullR");
  return m;
}
#endif

}  // namespace

Timing summarize(std::vector<double> s) {
  if (s.empty()) return {};
  std::sort(s.begin(), s.end());
  return {s.front(), s[s.size() / 2]};
}

double triad_gbps(std::size_t n, int repeats, int threads) {
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::size_t i = 0; i < n; ++i) {  // first touch by the thread that will use it
    a[i] = 0;
    b[i] = 1.0 + static_cast<double>(i % 7);
    c[i] = 2.0;
  }
  double best = 1e30;
  const double s = 3.0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
    best = std::min(best, since(t0));
  }
  volatile double sink = a[n / 2];
  (void)sink;
  return 24.0 * static_cast<double>(n) / best / 1e9;
}

#ifdef DRIFTREC_HAVE_GRAPHBLAS
bool GraphblasAnchor::available() { return true; }

GraphblasAnchor::GraphblasAnchor(const propagation::BipartiteGraph& g) {
  static const bool initialised = [] {
    check(GrB_init(GrB_NONBLOCKING), "init");
    return true;
  }();
  (void)initialised;
  w_ = import_csr(g.user_items);
  wt_ = import_csr(g.item_users);
}

GraphblasAnchor::~GraphblasAnchor() {
  auto w = static_cast<GrB_Matrix>(w_), wt = static_cast<GrB_Matrix>(wt_);
  GrB_Matrix_free(&w);
  GrB_Matrix_free(&wt);
}

std::vector<double> GraphblasAnchor::time(const DenseMatrix& f_users, const DenseMatrix& f_items,
                                          int threads, int iterations, DenseMatrix& y_users) {
  check(GxB_Global_Option_set(GxB_GLOBAL_NTHREADS, threads), "set threads");
  auto w = static_cast<GrB_Matrix>(w_), wt = static_cast<GrB_Matrix>(wt_);
  const GrB_Index users = f_users.rows(), items = f_items.rows(), k = f_users.cols();
  GrB_Matrix b_items = import_full(f_items.data(), items, k);
  GrB_Matrix b_users = import_full(f_users.data(), users, k);
  GrB_Matrix c_users = import_full(nullptr, users, k);
  GrB_Matrix c_items = import_full(nullptr, items, k);
  // The check product from a zero C, read back by unpacking C's array.
  check(GrB_mxm(c_users, nullptr, GrB_PLUS_FP32, GrB_PLUS_TIMES_SEMIRING_FP32, w, b_items, nullptr),
        "mxm");
  check(GrB_Matrix_wait(c_users, GrB_MATERIALIZE), "wait");
  {
    void* x = nullptr;
    GrB_Index size = 0;
    bool iso = false;
    check(GxB_Matrix_unpack_FullR(c_users, &x, &size, &iso, nullptr), "unpack");
    y_users.resize(static_cast<Eigen::Index>(users), static_cast<Eigen::Index>(k));
    if (iso) y_users.setConstant(users * k > 0 ? static_cast<float*>(x)[0] : 0.0f);
    else if (users * k > 0) std::memcpy(y_users.data(), x, users * k * sizeof(float));
    check(GxB_Matrix_pack_FullR(c_users, &x, size, iso, nullptr), "pack");
  }
  std::vector<double> seconds;
  for (int it = -1; it < iterations; ++it) {
    const auto t0 = Clock::now();
    check(GrB_mxm(c_users, nullptr, GrB_PLUS_FP32, GrB_PLUS_TIMES_SEMIRING_FP32, w, b_items, nullptr),
          "mxm W");
    check(GrB_Matrix_wait(c_users, GrB_MATERIALIZE), "wait");
    check(GrB_mxm(c_items, nullptr, GrB_PLUS_FP32, GrB_PLUS_TIMES_SEMIRING_FP32, wt, b_users, nullptr),
          "mxm W^T");
    check(GrB_Matrix_wait(c_items, GrB_MATERIALIZE), "wait");
    if (it >= 0) seconds.push_back(since(t0));
  }
  for (GrB_Matrix* m : {&b_items, &b_users, &c_users, &c_items}) GrB_Matrix_free(m);
  return seconds;
}
#else
bool GraphblasAnchor::available() { return false; }
GraphblasAnchor::GraphblasAnchor(const propagation::BipartiteGraph&) {}
GraphblasAnchor::~GraphblasAnchor() = default;
std::vector<double> GraphblasAnchor::time(const DenseMatrix&, const DenseMatrix&, int, int, DenseMatrix&) {
  return {};
}
#endif

EigenAnchor::EigenAnchor(const propagation::BipartiteGraph& g) : g_(g) {
  if (g.nnz() > 0x7FFFFFFF) throw std::runtime_error("Eigen anchor: nnz does not fit int32 offsets");
  w_outer_.assign(g.user_items.indptr.begin(), g.user_items.indptr.end());
  wt_outer_.assign(g.item_users.indptr.begin(), g.item_users.indptr.end());
}

std::vector<double> EigenAnchor::time(const DenseMatrix& f_users, const DenseMatrix& f_items,
                                      int threads, int iterations, DenseMatrix& y_users) {
  using Sparse = Eigen::SparseMatrix<float, Eigen::RowMajor, int>;
  const Eigen::Map<const Sparse> w(g_.users(), g_.items(), static_cast<Eigen::Index>(g_.nnz()),
                                   w_outer_.data(), g_.user_items.indices.data(),
                                   g_.user_items.data.data());
  const Eigen::Map<const Sparse> wt(g_.items(), g_.users(), static_cast<Eigen::Index>(g_.nnz()),
                                    wt_outer_.data(), g_.item_users.indices.data(),
                                    g_.item_users.data.data());
  Eigen::setNbThreads(threads);
  DenseMatrix y_items(f_items.rows(), f_items.cols());
  y_users.resize(f_users.rows(), f_users.cols());
  std::vector<double> seconds;
  for (int it = -1; it < iterations; ++it) {
    const auto t0 = Clock::now();
    y_users.noalias() = w * f_items;
    y_items.noalias() = wt * f_users;
    if (it >= 0) seconds.push_back(since(t0));
  }
  return seconds;
}

std::size_t proc_status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream s(line.substr(field.size() + 1));
      std::size_t kb = 0;
      s >> kb;
      return kb * 1024;
    }
  return 0;
}

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  return static_cast<bool>(out.flush());
}

std::size_t anon_huge_bytes() {
  std::ifstream in("/proc/self/smaps_rollup");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("AnonHugePages:", 0) == 0) {
      std::istringstream s(line.substr(14));
      std::size_t kb = 0;
      s >> kb;
      return kb * 1024;
    }
  return 0;
}

double load_average_1min() {
  std::ifstream in("/proc/loadavg");
  double l = -1;
  in >> l;
  return l;
}

}  // namespace driftrec::bench
