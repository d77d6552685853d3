#include "evaluation/library_models.hpp"

#include <algorithm>

#include <Eigen/Core>
#include <fmt/format.h>

#include "matrix_factorization/implicit_als.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "propagation/temporal_propagation.hpp"

namespace driftrec::evaluation {

namespace mf = matrix_factorization;
using graph::Index;

namespace {

// Item scores y_i . x for one user's factor row x.
class FactorScores : public FittedModel {
 public:
  FactorScores(mf::Factors user, mf::Factors item) : user_(std::move(user)), item_(std::move(item)) {}
  void items(Index u, std::span<float> out) const override {
    Eigen::Map<Eigen::VectorXf> scores(out.data(), static_cast<Eigen::Index>(out.size()));
    scores.noalias() = item_ * user_.row(u).transpose();
  }

 private:
  mf::Factors user_, item_;
};

class PropagatedInterests : public FittedModel {
 public:
  PropagatedInterests(propagation::DenseMatrix f, std::string note)
      : f_(std::move(f)), note_(std::move(note)) {}
  void interest(Index u, std::span<float> out) const override {
    for (Eigen::Index l = 0; l < f_.cols(); ++l) out[static_cast<std::size_t>(l)] = f_(u, l);
  }
  std::string note() const override { return note_; }

 private:
  propagation::DenseMatrix f_;
  std::string note_;
};

}  // namespace

ModelSpec als_model(const LibraryModelOptions& o) {
  ModelSpec m;
  m.name = "als";
  m.item = true;
  m.grid.clear();
  for (double factors : {32.0, 64.0})
    for (double reg : {0.1, 10.0}) m.grid.push_back({{"factors", factors}, {"regularization", reg}});
  m.fit = [o](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    mf::AlsOptions a;
    a.factors = static_cast<int>(param(p, "factors"));
    a.regularization = static_cast<float>(param(p, "regularization"));
    a.iterations = o.als_iterations;
    a.seed = o.seed;
    a.threads = o.threads;
    a.backend = o.als_backend;
    mf::AlsModel model = mf::fit_implicit_als(t.history, a);
    return std::make_unique<FactorScores>(std::move(model.user), std::move(model.item));
  };
  return m;
}

ModelSpec temporal_als_model(const LibraryModelOptions& o) {
  ModelSpec m;
  m.name = "temporal_als";
  m.item = true;
  m.grid.clear();
  for (double gamma : {0.5, 0.9})
    for (double eta : {0.1, 1.0}) m.grid.push_back({{"gamma", gamma}, {"eta", eta}});
  m.fit = [o](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    mf::AlsModel last = fit_last_temporal_als(t, o, static_cast<float>(param(p, "gamma")),
                                              static_cast<float>(param(p, "eta")));
    return std::make_unique<FactorScores>(std::move(last.user), std::move(last.item));
  };
  return m;
}

mf::AlsModel fit_last_temporal_als(const Training& t, const LibraryModelOptions& o, float gamma, float eta) {
  mf::TemporalAlsOptions a;
  a.als.factors = 32;
  a.als.regularization = 0.1f;
  a.als.iterations = o.temporal_als_iterations;
  a.als.seed = o.seed;
  a.als.threads = o.threads;
  a.als.backend = o.als_backend;
  a.gamma = gamma;
  a.eta = eta;
  const std::vector<graph::CsrMatrix> slices = windowed_slices(t, o.window);
  mf::AlsModel last;
  mf::fit_temporal_als(slices, a, {}, [&](std::size_t period, const mf::AlsModel& model) {
    if (period + 1 == slices.size()) last = model;
  });
  return last;
}

ModelSpec label_propagation_model(const LibraryModelOptions& o) {
  ModelSpec m;
  m.name = "label_propagation";
  m.interest = true;
  m.grid.clear();
  for (double alpha : {0.5, 0.85})
    for (double gamma : {0.5, 0.9}) m.grid.push_back({{"alpha", alpha}, {"gamma", gamma}, {"mu", 0.5}});
  m.fit = [o](const Training& t, const Params& p) -> std::unique_ptr<FittedModel> {
    propagation::TemporalOptions a;
    a.propagation.alpha = static_cast<float>(param(p, "alpha"));
    a.propagation.tolerance = 1e-4;
    a.propagation.max_iterations = 100;
    a.propagation.threads = o.threads;
    a.propagation.backend = o.propagation_backend;
    a.gamma = static_cast<float>(param(p, "gamma"));
    a.mu = static_cast<float>(param(p, "mu"));
    const std::vector<graph::CsrMatrix> slices = windowed_slices(t, o.window);
    propagation::DenseMatrix last;
    std::size_t not_converged = 0;
    double worst = 0;
    propagation::propagate_temporal_streaming(
        slices, t.item_labels, a,
        [&](std::size_t period, propagation::PeriodResult& r) {
          if (!r.converged) {
            ++not_converged;
            worst = std::max(worst, r.residual);
          }
          if (period + 1 == slices.size()) last = std::move(r.interests);
        });
    std::string note;
    if (not_converged > 0)
      note = fmt::format("did not converge (tolerance {}) in {} of {} periods; largest residual {:.3g}",
                         a.propagation.tolerance, not_converged, slices.size(), worst);
    return std::make_unique<PropagatedInterests>(std::move(last), std::move(note));
  };
  return m;
}

}  // namespace driftrec::evaluation
