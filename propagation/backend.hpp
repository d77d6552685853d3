// The kernel interface of label propagation (Zhou, Bousquet, Lal, Weston & Schoelkopf
// 2004, "Learning with local and global consistency", written for the bipartite user x
// item graph): the two products with W and with its stored transpose, and the fused
// half-step
//   F_out = alpha * D_out^-1/2 A D_in^-1/2 F_in + (1 - alpha) * seed_scale * Y_seed
// with A = W (users out) or A = W^T (items out).
//
// The CPU/OpenMP backend (propagation/cpu/spmm.hpp) is the reference and the default;
// CUDA (cuSPARSE) and MPI (user rows split across ranks) backends are to implement the
// same class and must match the CPU numbers to a stated tolerance. A backend borrows the
// host-side BipartiteGraph for every call; a device backend keeps its copies in its own
// state (the graph's address and nnz identify it).
//
// Dense operands are row-major float32 blocks with k columns (one row per user or item),
// passed as borrowed views. The public entry points check shapes once (O(1)); the kernels
// behind them never re-validate.
#pragma once
#include <Eigen/Core>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

#include "graph/csr.hpp"
#include "graph/types.hpp"

namespace driftrec::propagation {

using DenseMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A borrowed row-major block: rows x cols values, row r starting at data[r * cols].
// data == nullptr with the right shape stands for an all-zero operand where allowed.
template <typename T>
struct DenseBlock {
  T* data = nullptr;
  graph::Index rows = 0;
  graph::Index cols = 0;

  // A mutable view converts to a read-only one.
  operator DenseBlock<const T>() const
    requires(!std::is_const_v<T>)
  {
    return {data, rows, cols};
  }
};
using DenseView = DenseBlock<float>;
using ConstDenseView = DenseBlock<const float>;

inline DenseView view(DenseMatrix& m) {
  return {m.data(), static_cast<graph::Index>(m.rows()), static_cast<graph::Index>(m.cols())};
}
inline ConstDenseView view(const DenseMatrix& m) {
  return {m.data(), static_cast<graph::Index>(m.rows()), static_cast<graph::Index>(m.cols())};
}

// The user x item matrix W with what every kernel needs, computed once per graph: the
// stored transpose (so W^T X is a row-parallel product too, never a scatter) and the
// inverse square roots of the weighted degrees (0 for an isolated vertex, whose row of
// S = D_U^-1/2 W D_I^-1/2 is then empty). Memory: W twice (16 bytes per edge) plus two
// float vectors.
struct BipartiteGraph {
  graph::CsrMatrix user_items;  // W, users x items
  graph::CsrMatrix item_users;  // W^T, items x users
  std::vector<float> user_inv_sqrt_degree;  // D_U^-1/2, one per user
  std::vector<float> item_inv_sqrt_degree;  // D_I^-1/2, one per item

  graph::Index users() const { return user_items.n_rows; }
  graph::Index items() const { return user_items.n_cols; }
  graph::Offset nnz() const { return user_items.nnz(); }
};

// Takes W by value (move it in to avoid a copy), checks it (the CSR invariants and
// finite, non-negative values; InputError naming `what` and the first bad entry), and
// builds the transpose and the degree vectors. Degrees are summed in double.
BipartiteGraph make_bipartite_graph(graph::CsrMatrix w, const char* what = "W");

// Which side of the bipartite graph a product writes: users (A = W) or items (A = W^T).
enum class Side { users, items };

// One fused half-step of label propagation, writing the `out` side:
//   f_out <- alpha * D_out^-1/2 A D_in^-1/2 f_in + (1 - alpha) * seed_scale * seed
// f_out is overwritten in place (its old values give the change); seed.data == nullptr
// means a zero seed.
struct HalfStep {
  Side out = Side::users;
  float alpha = 0;
  ConstDenseView f_in;   // the other side's rows x k
  DenseView f_out;       // this side's rows x k
  ConstDenseView seed;   // this side's rows x k, or data == nullptr
  float seed_scale = 1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;

  // y = W x (out = users: x is items x k, y users x k) or y = W^T x (out = items).
  // Throws InputError on mismatched shapes.
  virtual void multiply(const BipartiteGraph& g, Side out, ConstDenseView x, DenseView y) const = 0;

  // Runs the half-step and returns max |f_out(new) - f_out(old)| over all entries (NaN if
  // any new value is NaN). Throws InputError on mismatched shapes.
  virtual double half_step(const BipartiteGraph& g, const HalfStep& step) const = 0;
};

// The CPU/OpenMP backend with `threads` threads (0: OpenMP's default,
// omp_get_max_threads()). Its results are identical, bit for bit, for any thread count.
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);

}  // namespace driftrec::propagation
