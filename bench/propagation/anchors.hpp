// The anchors propagation_bench compares against in the same process: a STREAM-style
// triad (memory bandwidth), SuiteSparse:GraphBLAS GrB_mxm with PLUS_TIMES_FP32 and Eigen's
// sparse x dense product, each timing one "iteration" = the two plain products W F_I and
// W^T F_U (W^T stored, as in driftrec), and the process's memory figures.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "propagation/backend.hpp"

namespace driftrec::bench {

// Best and median seconds of a repeated measurement.
struct Timing {
  double best = 0;
  double median = 0;
};
Timing summarize(std::vector<double> seconds);

// a[i] = b[i] + s * c[i] over three arrays of `doubles` doubles, `repeats` times; GB/s of
// the best repeat counted as 24 bytes per element (STREAM's convention: no write-allocate).
double triad_gbps(std::size_t doubles, int repeats, int threads);

// GraphBLAS: A = W and A^T = stored W^T imported as sparse by row (int64 ids, as the
// library requires), B full by row, C full by row accumulated into (GrB_PLUS_FP32), the
// path GraphBLAS runs fastest. One object per graph; k and threads per call.
class GraphblasAnchor {
 public:
  static bool available();
  explicit GraphblasAnchor(const propagation::BipartiteGraph& g);
  ~GraphblasAnchor();
  GraphblasAnchor(const GraphblasAnchor&) = delete;
  GraphblasAnchor& operator=(const GraphblasAnchor&) = delete;
  // Seconds per iteration (both products), `iterations` timed after one warm-up; y_users
  // gets W f_items from a zero C (to check against driftrec's product).
  std::vector<double> time(const propagation::DenseMatrix& f_users,
                           const propagation::DenseMatrix& f_items, int threads, int iterations,
                           propagation::DenseMatrix& y_users);

 private:
  void* w_ = nullptr;   // GrB_Matrix
  void* wt_ = nullptr;  // GrB_Matrix
};

// Eigen: W and W^T mapped (no copy of ids or values; int32 row offsets) as
// SparseMatrix<float, RowMajor, int>, times row-major dense; Eigen::setNbThreads(threads).
class EigenAnchor {
 public:
  explicit EigenAnchor(const propagation::BipartiteGraph& g);
  std::vector<double> time(const propagation::DenseMatrix& f_users,
                           const propagation::DenseMatrix& f_items, int threads, int iterations,
                           propagation::DenseMatrix& y_users);

 private:
  const propagation::BipartiteGraph& g_;
  std::vector<int> w_outer_, wt_outer_;
};

// /proc/self/status fields in bytes (VmRSS, VmHWM), the peak reset (clear_refs 5), the
// bytes of anonymous huge pages (smaps_rollup) and the 1-minute load average.
std::size_t proc_status_bytes(const std::string& field);
bool reset_peak_rss();
std::size_t anon_huge_bytes();
double load_average_1min();

}  // namespace driftrec::bench
