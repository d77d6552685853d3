// Temporal implicit ALS (see temporal_als.hpp): the decayed history G_t = gamma G_{t-1} + W_t,
// built by merging sorted rows, and the per-period fits warm-started from the previous
// period with the drift prior on the user rows (the sweep itself is implicit_als.cpp's).
#include "matrix_factorization/temporal_als.hpp"

#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "graph/decay.hpp"
#include "matrix_factorization/als_backend.hpp"

namespace driftrec::matrix_factorization {
namespace {

using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

void check_gamma(float gamma) {
  if (!(gamma >= 0 && gamma <= 1))
    throw InputError(fmt::format("temporal ALS: `gamma` must be in [0, 1] (got {})", gamma));
}

void check_slices(const std::vector<CsrMatrix>& slices) {
  for (std::size_t t = 0; t < slices.size(); ++t) {
    const std::string what = fmt::format("slices[{}]", t);
    graph::validate_csr(slices[t], what.c_str());
    if (slices[t].n_rows != slices[0].n_rows || slices[t].n_cols != slices[0].n_cols)
      throw InputError(fmt::format("{}: shape {} x {} differs from slices[0]'s {} x {}", what,
                                   slices[t].n_rows, slices[t].n_cols, slices[0].n_rows,
                                   slices[0].n_cols));
    const CsrMatrix& m = slices[t];
    for (Index r = 0; r < m.n_rows; ++r)
      for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k)
        if (!std::isfinite(m.data[k]))
          throw InputError(fmt::format("{}: the value at row {}, column {} is not finite", what, r,
                                       m.indices[k]));
  }
}

}  // namespace

void TemporalAlsOptions::validate() const {
  als.validate();
  if (!(eta >= 0) || !std::isfinite(eta))
    throw InputError(fmt::format("temporal ALS: `eta` must be finite and >= 0 (got {})", eta));
  check_gamma(gamma);
}


std::vector<CsrMatrix> decayed_history(const std::vector<CsrMatrix>& slices, float gamma) {
  check_gamma(gamma);
  check_slices(slices);
  std::vector<CsrMatrix> out;
  out.reserve(slices.size());
  for (std::size_t t = 0; t < slices.size(); ++t)
    out.push_back(t == 0 ? slices[0] : graph::decay_step(out.back(), slices[t], gamma));
  return out;
}

void fit_temporal_als(const std::vector<CsrMatrix>& slices, const TemporalAlsOptions& options,
                      const PeriodIterationCallback& on_iteration, const PeriodModelCallback& on_period) {
  options.validate();
  check_slices(slices);
  // One backend for every period (options.als.backend, or a CPU one with als.threads).
  std::unique_ptr<AlsBackend> owned;
  AlsOptions als = options.als;
  als.backend = &als_backend_or_cpu(options.als.backend, options.als.threads, owned);
  AlsModel model;  // period t-1's factors while period t is fitted; only one model is held
  CsrMatrix history;
  for (std::size_t t = 0; t < slices.size(); ++t) {
    // G_t = gamma G_{t-1} + W_t
    history = t == 0 ? slices[0] : graph::decay_step(history, slices[t], options.gamma);
    IterationCallback report;
    if (on_iteration) report = [&](const IterationReport& r) { on_iteration(t, r); };
    if (t == 0) {
      model = fit_implicit_als(history, als, report, nullptr, options.compute_loss);
    } else {
      // The slices are finite; their decayed sums can still overflow.
      for (float v : history.data)
        if (!std::isfinite(v))
          throw InputError(fmt::format("temporal ALS: the decayed history of period {} has a "
                                       "non-finite value; rescale the slices or lower `gamma`", t));
      const Factors previous_user = model.user;  // start from period t-1's factors
      const CsrMatrix item_users = graph::transpose(history);
      run_sweeps(history, item_users, model, als, DriftPrior{&previous_user, options.eta},
                 report, options.compute_loss);
    }
    on_period(t, model);
  }
}

std::vector<AlsModel> fit_temporal_als(const std::vector<CsrMatrix>& slices,
                                       const TemporalAlsOptions& options,
                                       const PeriodIterationCallback& on_iteration) {
  std::vector<AlsModel> models;
  models.reserve(slices.size());
  fit_temporal_als(slices, options, on_iteration,
                   [&](std::size_t, const AlsModel& m) { models.push_back(m); });
  return models;
}

double temporal_als_loss(const CsrMatrix& history, const AlsModel& model,
                         const Factors& previous_user, const TemporalAlsOptions& options) {
  options.validate();
  const double loss = implicit_als_loss(history, model, options.als);
  if (previous_user.rows() != model.user.rows() || previous_user.cols() != model.user.cols())
    throw InputError(fmt::format("temporal_als_loss: previous_user is {} x {}, expected {} x {}",
                                 previous_user.rows(), previous_user.cols(), model.user.rows(),
                                 model.user.cols()));
  return loss + static_cast<double>(options.eta) *
                    (model.user.cast<double>() - previous_user.cast<double>()).squaredNorm();
}

}  // namespace driftrec::matrix_factorization
