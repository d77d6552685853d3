// Temporal implicit ALS: one factor model per period, tied across time.
//
// Period t fits the Hu-Koren-Volinsky objective (Hu, Koren & Volinsky 2008) on the
// history-decayed matrix G_t = sum_{s <= t} gamma^(t-s) W_s (gamma in [0, 1]; gamma = 0 is
// the slice alone), starting from period t-1's factors, plus a drift penalty on the users
//   eta * sum_u |x_u(t) - x_u(t-1)|^2
// so that a user's factor trajectory is smooth (the time-tied factors of Koren 2009,
// "Collaborative filtering with temporal dynamics", as a random-walk prior). Each user row
// then solves (... + (lambda + eta) I) x = ... + eta x_u(t-1); items are unpenalised. The
// first period starts from the seeded initialisation and has no penalty.
#pragma once
#include <cstddef>
#include <functional>
#include <vector>

#include "graph/csr.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace driftrec::matrix_factorization {

struct TemporalAlsOptions {
  AlsOptions als;             // als.iterations sweeps per period; als.threads and
                              // als.backend serve every period
  float eta = 0;              // drift penalty on user factors, >= 0
  float gamma = 0;            // history decay, in [0, 1]
  bool compute_loss = false;  // fill IterationReport::loss (including the drift term)

  // Throws InputError naming the option.
  void validate() const;
};

using PeriodIterationCallback = std::function<void(std::size_t period, const IterationReport&)>;

// G_0 .. G_{T-1}. Throws InputError on a bad gamma or slices of different shapes.
std::vector<graph::CsrMatrix> decayed_history(const std::vector<graph::CsrMatrix>& slices,
                                              float gamma);

// One model per slice (all slices users x items of the same shape). Deterministic for a
// seed, for any thread count. Throws InputError on bad options or slices,
// NumericalError when the factors stop being finite.
std::vector<AlsModel> fit_temporal_als(const std::vector<graph::CsrMatrix>& slices,
                                       const TemporalAlsOptions& options,
                                       const PeriodIterationCallback& on_iteration = {});

// The same, handing each period's model to `on_period` as soon as it is fitted and holding
// only one model: for long histories whose factors do not fit in memory together.
using PeriodModelCallback = std::function<void(std::size_t period, const AlsModel& model)>;
void fit_temporal_als(const std::vector<graph::CsrMatrix>& slices, const TemporalAlsOptions& options,
                      const PeriodIterationCallback& on_iteration, const PeriodModelCallback& on_period);

// The objective of a period after the first: implicit_als_loss on `history` plus
// eta |X - previous_user|^2.
double temporal_als_loss(const graph::CsrMatrix& history, const AlsModel& model,
                         const Factors& previous_user, const TemporalAlsOptions& options);

}  // namespace driftrec::matrix_factorization
