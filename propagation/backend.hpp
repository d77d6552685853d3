// The seam between the propagation algorithms and the hardware that runs their products
// (label propagation: Zhou, Bousquet, Lal, Weston & Schoelkopf 2004, "Learning with local
// and global consistency", written for the bipartite user x item graph): the two products
// with W and with its stored transpose, and the fused half-step
//   F_out = alpha * D_out^-1/2 A D_in^-1/2 F_in + (1 - alpha) * seed_scale * Y_seed
// with A = W (users out) or A = W^T (items out).
//
// The shape follows faiss's GpuIndex and implicit's CPU/GPU models:
// - make_backend(name, options) is the one factory ("cpu" now; a CUDA backend (cuSPARSE)
//   or an MPI one (user rows split across ranks) registers in backend_registry.cpp and
//   reports itself unavailable where it cannot run). The CPU/OpenMP backend
//   (propagation/cpu/cpu_backend.hpp) is the default and the reference: another backend
//   must match its numbers to a stated tolerance (tests/conformance/).
// - Backend::prepare(graph) returns a PreparedGraph: the backend's own copy of the graph
//   (the CPU backend borrows or owns the host graph; a device backend would own device
//   memory). It lives for every iteration of a period, so a backend never has to
//   recognise a graph it has seen before; products take the handle, never a host graph.
// - The public entry points (prepare, multiply, half_step) check shapes, and that the
//   handle belongs to this backend, once (O(1)); then they call the backend's *_impl,
//   whose kernels never re-validate.
// A backend is injected: the algorithms take a `const Backend*` in their options (null:
// the CPU backend with the options' threads), so one backend, with its scratch or device
// context, serves a whole run. A handle must not outlive its backend.
//
// Dense operands are row-major float32 blocks with k columns (one row per user or item),
// passed as borrowed host views.
#pragma once
#include <Eigen/Core>
#include <functional>
#include <memory>
#include <string>
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
// float vectors; without the transpose (Transpose::none: the CPU backend then scatters
// from W's rows for every W^T product, see propagation/cpu/spmm.hpp) W once, 8 bytes per
// edge plus the row offsets and the two vectors.
struct BipartiteGraph {
  graph::CsrMatrix user_items;  // W, users x items
  graph::CsrMatrix item_users;  // W^T, items x users; empty (0 x 0) when not stored
  std::vector<float> user_inv_sqrt_degree;  // D_U^-1/2, one per user
  std::vector<float> item_inv_sqrt_degree;  // D_I^-1/2, one per item
  bool transpose_stored = true;             // whether item_users holds W^T

  graph::Index users() const { return user_items.n_rows; }
  graph::Index items() const { return user_items.n_cols; }
  graph::Offset nnz() const { return user_items.nnz(); }
};

// Whether make_bipartite_graph stores W^T beside W.
enum class Transpose { stored, none };

// Takes W by value (move it in to avoid a copy), checks it (the CSR invariants and
// finite, non-negative values; InputError naming `what` and the first bad entry), and
// builds the transpose (unless Transpose::none) and the degree vectors. Degrees are summed
// in double.
BipartiteGraph make_bipartite_graph(graph::CsrMatrix w, const char* what = "W",
                                    Transpose transpose = Transpose::stored);
// make_bipartite_graph's check of W's values, for W or a block of its rows: InputError
// "<what>: the value at row <row0 + r>, column <c> is <v>; edge weights must be finite and
// >= 0" for the first entry (by row, then stored order) that is not. `row0`: the global
// row of w's first row.
void check_edge_weights(const graph::CsrMatrix& w, const char* what, graph::Index row0 = 0);

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

// One full iteration: the users' half-step (from f_items, seed_users) and then the items'
// (from the new f_users, seed_items), both with the same alpha; a backend may run them in
// one pass over the graph.
struct Iteration {
  float alpha = 0;
  DenseView f_users;           // users x k, in place
  DenseView f_items;           // items x k, in place
  ConstDenseView seed_users;   // users x k, or data == nullptr
  float seed_scale_users = 1;
  ConstDenseView seed_items;   // items x k, or data == nullptr
  float seed_scale_items = 1;
};

// The max-abs change of each side in one iteration (NaN if a new value is NaN).
struct IterationChange {
  double users = 0;
  double items = 0;
};

// How half_step stores the gathered operand: float32 (the default and the reference) or
// bfloat16 (opt-in; half the bytes per gathered row, see propagation/cpu/spmm.hpp for its
// error bound). multiply always uses float32.
enum class GatherPrecision { float32, bfloat16 };

// Label propagation's iteration loop as one call, so that a device backend keeps F_U,
// F_I and the seeds on the device for the whole run (copied in once, out once) instead
// of for each half-step. Each iteration is the users half-step then the items one:
//   F_U <- alpha * S * F_I + (1 - alpha) * user_seed_scale * Y_U
//   F_I <- alpha * S^T * F_U + (1 - alpha) * Y_I
// after which after_iteration(it, change_users, change_items) (it 1-based, the changes as
// half_step returns them) says whether to stop. It may throw: the loop then ends and
// f_users, f_items hold unspecified values.
struct IterationLoop {
  float alpha = 0;
  DenseView f_users;        // users x k: F_U(0) in, F_U of the last iteration out
  DenseView f_items;        // items x k: likewise F_I
  ConstDenseView seed_users;  // users x k, or data == nullptr for a zero seed
  float user_seed_scale = 1;
  ConstDenseView seed_items;  // items x k, or data == nullptr
  int max_iterations = 1;
  std::function<bool(int iteration, double change_users, double change_items)> after_iteration;
};

struct BackendOptions {
  int threads = 0;  // host threads, >= 0; 0: OpenMP's default (omp_get_max_threads())
  GatherPrecision gather = GatherPrecision::float32;

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

class Backend;

// A graph as one backend holds it, made by that backend's prepare. The base keeps the
// shape (for the entry points' checks) and the owner; each backend derives its own.
class PreparedGraph {
 public:
  virtual ~PreparedGraph() = default;
  PreparedGraph(const PreparedGraph&) = delete;
  PreparedGraph& operator=(const PreparedGraph&) = delete;

  const Backend& backend() const { return *backend_; }
  graph::Index users() const { return users_; }
  graph::Index items() const { return items_; }
  graph::Offset nnz() const { return nnz_; }

 protected:
  PreparedGraph(const Backend& backend, const BipartiteGraph& g)
      : backend_(&backend), users_(g.users()), items_(g.items()), nnz_(g.nnz()) {}

 private:
  const Backend* backend_;
  graph::Index users_;
  graph::Index items_;
  graph::Offset nnz_;
};

class Backend {
 public:
  virtual ~Backend() = default;
  Backend(const Backend&) = delete;  // handles point at their backend: never copied or moved
  Backend& operator=(const Backend&) = delete;

  virtual std::string_view name() const = 0;

  // The backend's copy of g. Borrowing form: g must outlive the handle (the CPU backend
  // reads it in place; a device backend copies it and need not keep it). Owning form: the
  // handle keeps g (a device backend frees the host copy once it is uploaded).
  std::unique_ptr<PreparedGraph> prepare(const BipartiteGraph& g) const;
  std::unique_ptr<PreparedGraph> prepare(BipartiteGraph&& g) const;

  // y = W x (out = users: x is items x k, y users x k) or y = W^T x (out = items).
  // Throws InputError on mismatched shapes or a handle of another backend.
  void multiply(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const;

  // Runs the half-step and returns max |f_out(new) - f_out(old)| over all entries (NaN if
  // any new value is NaN). Throws InputError as multiply does, or on a seed of the wrong shape.
  double half_step(const PreparedGraph& g, const HalfStep& step) const;

  // Runs loop.max_iterations iterations at most (see IterationLoop); returns how many ran.
  // Throws InputError as half_step does, or whatever after_iteration throws.
  int iterate(const PreparedGraph& g, const IterationLoop& loop) const;

  // Both half-steps of an iteration, with results equal to half_step(users) then
  // half_step(items) (the CPU backend: bit for bit). Throws InputError as half_step does.
  IterationChange iteration(const PreparedGraph& g, const Iteration& it) const;

  // W handed back from g, a handle made by this backend's owning prepare, which it
  // consumes. Temporal propagation needs each period's W after the period (for the next
  // decay step) and would otherwise lend the graph, keeping W and W^T beside whatever the
  // backend made of them; handing the graph over lets the CPU backend replace both by
  // their tiles and rebuild W from its tiles afterwards (W^T's are freed first).
  // hands_back_user_items() says whether this backend can (a device backend frees the
  // host copy once uploaded: it cannot). std::logic_error when it cannot or g was borrowed.
  virtual bool hands_back_user_items() const { return false; }
  graph::CsrMatrix take_user_items(std::unique_ptr<PreparedGraph> g) const;

 protected:
  Backend() = default;
  // half_step_impl(users) then half_step_impl(items): the default iteration_impl, and what
  // a backend's own iteration_impl falls back to.
  IterationChange two_half_steps(const PreparedGraph& g, const Iteration& it) const;

 private:
  // Called with arguments already checked; g was made by this backend's prepare_impl.
  virtual std::unique_ptr<PreparedGraph> prepare_impl(const BipartiteGraph& g) const = 0;
  virtual std::unique_ptr<PreparedGraph> prepare_impl(BipartiteGraph&& g) const = 0;
  virtual void multiply_impl(const PreparedGraph& g, Side out, ConstDenseView x, DenseView y) const = 0;
  virtual double half_step_impl(const PreparedGraph& g, const HalfStep& step) const = 0;
  // The default: iteration_impl once per iteration on the host views.
  virtual int iterate_impl(const PreparedGraph& g, const IterationLoop& loop) const;
  // Default: the two half_step_impl calls.
  virtual IterationChange iteration_impl(const PreparedGraph& g, const Iteration& it) const;
  // Called only when hands_back_user_items(); g is destroyed on return.
  virtual graph::CsrMatrix take_user_items_impl(PreparedGraph& g) const;
};

// ---- The registry (backend_registry.cpp) ----

// The backend called `name` ("cpu"). Throws InputError on an unknown name (listing the
// registered ones) or on a registered backend that cannot run here (saying why), and on
// bad options.
std::unique_ptr<Backend> make_backend(std::string_view name, const BackendOptions& options = {});

// Every registered backend, available here or not, in registration order ("cpu" first).
std::vector<std::string> registered_backends();
// Whether `name` is registered and can run on this machine (a CUDA backend: a device is
// present). False for an unknown name.
bool backend_available(std::string_view name);
// The registered backends that can run here.
std::vector<std::string> available_backends();

// The backend to use when options name none: *chosen, or a CPU backend made into `owned`.
const Backend& backend_or_cpu(const Backend* chosen, int threads,
                              std::unique_ptr<Backend>& owned);

}  // namespace driftrec::propagation
