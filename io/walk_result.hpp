// A random-walk result in a store, /results/<name> (kind: the method, p3alpha | rp3beta |
// ppr), written by `driftrec propagate --method p3alpha|rp3beta|ppr` on the decayed history
// G of the store's last period:
//   similarity/{indptr,indices,data}   p3alpha, rp3beta: items x items, top `neighbours` per row
//   top_items (int32), top_scores      users x top: each user's best items not yet had
//                                      (item -1 / score -inf where fewer candidates)
// with the parameters as attributes: gamma, top, and alpha, beta, neighbours (p3alpha,
// rp3beta) or restart_probability, tolerance, max_iterations, iterations, residual,
// converged (ppr); slicing and periods.
#pragma once
#include <cstdint>
#include <string>

#include "graph/csr.hpp"
#include "io/h5_handle.hpp"
#include "io/store.hpp"
#include "propagation/random_walk.hpp"

namespace driftrec::io {

struct WalkResult {
  std::string method;        // p3alpha | rp3beta | ppr
  std::string slicing;       // the store's
  std::int64_t periods = 0;  // the store's
  double gamma = 0;          // history decay of G
  propagation::TopItems top; // top.k is the `top` attribute
  // p3alpha, rp3beta
  graph::CsrMatrix similarity;
  double alpha = 0, beta = 0;
  int neighbours = 0;
  // ppr
  double restart_probability = 0, tolerance = 0, residual = 0;
  int max_iterations = 0, iterations = 0;
  bool converged = true;

  bool is_pagerank() const { return method == "ppr"; }
};

// Creates /results/<name> in `w` (replacing one of that name); the caller commits `w`.
void write_walk_result(StoreWriter& w, const std::string& name, const WalkResult& r);
// What write_walk_result writes after the datasets: the attributes, into the result group
// `result` (driftrec-mpi writes them so after its ranks wrote the datasets; r.top.k is read,
// not r.top's rows).
void write_walk_result_attributes(h5::Hid result, const WalkResult& r);

// Throws InputError when the result is missing, of another kind, or does not fit the store.
WalkResult read_walk_result(const Store& store, const std::string& name);

}  // namespace driftrec::io
