// Temporal label propagation over a sequence of user x item slices W_0 .. W_{T-1}
// (docs/math.md, "Temporal label propagation"): label propagation (Zhou, Bousquet, Lal,
// Weston & Schoelkopf 2004, "Learning with local and global consistency", in the
// bipartite form of label_propagation.hpp) run once per period t on the decayed history
//   G_t = sum_{s <= t} gamma^(t-s) W_s      (gamma = 0: the slice alone)
// with item seeds Y_I (row-normalised item labels, zero rows for unlabelled items) and
// the user seed
//   Y_U(t) = mu * F_U(t-1)                   (Y_U(0) = 0)
// where F_U(t-1) is the previous period's RAW user scores, not its normalised interests:
// they are on the same scale as the fresh evidence alpha * S_t F_I, so mu weighs old
// against new evidence equally for every user, whatever the degrees; a normalised prior
// (mass 1 per row) would swamp the propagated term of users of popular items. The whole
// chain stays linear in Y_I. A user inactive in G_t keeps (1 - alpha) mu F_U(t-1), and so
// keeps the previous interests.
//
// Output per period: `interests`, F_U(t) row-normalised (users x labels; a user whose
// row is all zero -- no edge into labelled territory and no prior -- stays all zero, see
// row_normalized), and `item_labels`, F_I(t) (items x labels soft labels, raw), with the
// period's iterations, residual and convergence. Each period starts from F = Y.
//
// G_t is built incrementally, G_t = gamma G_{t-1} + W_t, in float, one row merge per
// period (graph::decay_step, shared with temporal ALS).
//
// Degree order (options.propagation.reorder, see label_propagation.hpp): when G_t has at
// least LabelPropagationOptions::kReorderMinNonzeros entries (Reorder::automatic) or
// always (Reorder::on), G_t is relabelled by its own degrees each period and the seeds
// permuted in; results, and F_U(t-1) between periods, stay in the original ids. G_{t-1}
// stays in its order: W_t is relabelled into it for the decay step, then the sum is
// ordered again (so once G is ordered with gamma > 0 it stays ordered). Results equal
// the unordered run up to float rounding.
//
// Backend (options.propagation.backend, null: the CPU backend with
// options.propagation.threads threads): G_t is prepared on it once per period, and that
// handle serves every iteration of the period.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/backend.hpp"
#include "propagation/label_propagation.hpp"

namespace driftrec::propagation {

struct TemporalOptions {
  LabelPropagationOptions propagation;  // alpha, tolerance, max_iterations, threads, backend
  float gamma = 0.5f;                   // history decay, in [0, 1]
  float mu = 0.5f;                      // memory of the previous period's F_U, in [0, 1]

  // Throws InputError naming the option and what was expected.
  void validate() const;
};

struct PeriodResult {
  DenseMatrix interests;    // users x labels: F_U(t) row-normalised (zero rows stay zero)
  DenseMatrix user_scores;  // users x labels: the raw F_U(t), the next period's prior
  DenseMatrix item_labels;  // items x labels: F_I(t)
  int iterations = 0;
  double residual = 0;      // max-abs change in the period's last iteration
  bool converged = false;
};

// Called once per period, in order; the callee may move from `result`.
using PeriodCallback = std::function<void(std::size_t period, PeriodResult& result)>;

// Resuming a run at `first_period` (an incremental update, pipeline/update.hpp): the
// periods before it only advance the decayed history G (and its degree order), which is
// cheap beside propagating, and period first_period starts from the stored raw
// F_U(first_period - 1). The arithmetic is the uninterrupted run's, so the periods from
// first_period on are bitwise those of a run from period 0.
struct TemporalResume {
  std::size_t first_period = 0;
  DenseMatrix previous_user_scores;  // raw F_U(first_period - 1), users x labels; unused at 0
};

// Streams the periods to on_period (from resume->first_period when given) without keeping them (for long sequences of large
// graphs). Memory: G_{t-1} and G_t while the decay step makes G_t; while G_t propagates,
// G_t as the backend holds it: the CPU backend (Backend::hands_back_user_items) is handed
// G_t, keeps the tiles of G_t and its transpose in their place (about 13 bytes per entry;
// G_t alone, about 9, when W^T would not fit, LabelPropagationOptions::low_memory) and
// hands G_t back for the next decay step; another backend is lent G_t, which the host
// keeps with its transpose. Also F_U(t-1), F_U(t), F_I(t), Y_I (in degree order also W_t
// relabelled, and the permuted seeds and results).
// Throws InputError on bad options (naming the option), slices of different
// shapes, a broken slice or a negative / non-finite weight (naming the slice), or
// item_labels whose row count is not the item count.
void propagate_temporal_streaming(const std::vector<graph::CsrMatrix>& slices,
                                  const graph::CsrMatrix& item_labels,
                                  const TemporalOptions& options,
                                  const PeriodCallback& on_period,
                                  const ProgressCallback& progress = {},
                                  const TemporalResume* resume = nullptr);

// Every period's result.
std::vector<PeriodResult> propagate_temporal(const std::vector<graph::CsrMatrix>& slices,
                                             const graph::CsrMatrix& item_labels,
                                             const TemporalOptions& options,
                                             const ProgressCallback& progress = {});

}  // namespace driftrec::propagation
