// A temporal label propagation result in a store, /results/<name> (kind
// "label_propagation"), written by `driftrec propagate`:
//   interests/NNNN     users x labels (float32): each row the user's interest distribution
//                      F_U(t), all-zero for a user with no labelled neighbourhood
//   item_labels/NNNN   items x labels (float32): the raw soft labels F_I(t)
//   (both for the periods kept), and for every period
//   iterations (int64), residual (float64), converged (int32)
//   user_scores/NNNN   users x labels (float32): the raw F_U(t) of the last two periods,
//                      the state `driftrec update` resumes from (absent in results
//                      written before update existed: update then recomputes from 0)
// with alpha, gamma, mu, tolerance, max_iterations, keep, slicing and periods as
// attributes. A long history's periods need not fit in memory together, so the writer
// takes them one at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/h5_handle.hpp"
#include "io/store.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::io {

// What the result says about each period and how it was computed.
struct LabelResultInfo {
  propagation::TemporalOptions options;  // alpha, tolerance, max_iterations; gamma, mu
  std::string keep = "all";              // the periods saved: all | last:N
  std::string slicing;                   // the store's
  std::vector<std::int64_t> iterations;  // per period
  std::vector<double> residual;          // per period
  std::vector<bool> converged;           // per period
};

class LabelResultWriter {
 public:
  // Creates /results/<name> in `w` (replacing one of that name) with empty period groups.
  LabelResultWriter(StoreWriter& w, const std::string& name);
  void write_period(std::size_t period, const propagation::DenseMatrix& interests,
                    const propagation::DenseMatrix& item_labels);
  void write_user_scores(std::size_t period, const propagation::DenseMatrix& raw_scores);
  // Writes the per-period arrays and the attributes and closes the result; the caller
  // then commits `w`.
  void finish(const LabelResultInfo& info);

 private:
  int threads_;  // w's
  h5::Handle group_, users_, items_, scores_;
};

// What finish() writes into the result group `result`: the per-period arrays and the
// attributes (driftrec-mpi writes them so after its ranks wrote the matrices).
void write_label_result_info(h5::Hid result, const LabelResultInfo& info, int threads);

// The raw F_U(t) saved for resuming; empty when the result did not save that period.
std::optional<propagation::DenseMatrix> read_user_scores(const Store& store, const std::string& name,
                                                         std::size_t period);

// Periods whose scores (interests and item_labels) the result kept, ascending.
std::vector<std::size_t> kept_label_periods(const Store& store, const std::string& name);

// Throws InputError when the result is missing, of another kind, or damaged.
LabelResultInfo read_label_result(const Store& store, const std::string& name);

struct LabelPeriod {
  propagation::DenseMatrix interests, item_labels;
};
// One saved period; InputError naming the period when it was not kept.
LabelPeriod read_label_period(const Store& store, const std::string& name, std::size_t period);

}  // namespace driftrec::io
