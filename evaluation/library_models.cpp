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

constexpr double kPropagationTolerance = 1e-4;

template <class T, class F>
std::shared_ptr<const T> shared_fit(const LibraryModelOptions& o, const Training& t, const std::string& key,
                                    F&& compute) {
  if (!o.shared_fits) return std::make_shared<const T>(compute());
  return o.shared_fits->get<T>(t, key, std::function<T()>(std::forward<F>(compute)));
}

// Item scores y_i . x for one user's factor row x.
class FactorScores : public FittedModel {
 public:
  explicit FactorScores(std::shared_ptr<const mf::AlsModel> m) : m_(std::move(m)) {}
  void items(Index u, std::span<float> out) const override {
    Eigen::Map<Eigen::VectorXf> scores(out.data(), static_cast<Eigen::Index>(out.size()));
    scores.noalias() = m_->item * m_->user.row(u).transpose();
  }

 private:
  std::shared_ptr<const mf::AlsModel> m_;
};

class PropagatedInterests : public FittedModel {
 public:
  PropagatedInterests(std::shared_ptr<const PropagationFit> f, std::string note)
      : f_(std::move(f)), note_(std::move(note)) {}
  void interest(Index u, std::span<float> out) const override {
    const propagation::DenseMatrix& f = f_->interests;
    for (Eigen::Index l = 0; l < f.cols(); ++l) out[static_cast<std::size_t>(l)] = f(u, l);
  }
  std::string note() const override { return note_; }

 private:
  std::shared_ptr<const PropagationFit> f_;
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
    return std::make_unique<FactorScores>(shared_als(t, o, static_cast<int>(param(p, "factors")),
                                                     static_cast<float>(param(p, "regularization")), o.als_backend));
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
    return std::make_unique<FactorScores>(
        shared_temporal_als(t, o, static_cast<float>(param(p, "gamma")), static_cast<float>(param(p, "eta"))));
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
    auto f = shared_propagation(t, o, static_cast<float>(param(p, "alpha")), static_cast<float>(param(p, "gamma")),
                                static_cast<float>(param(p, "mu")), o.propagation_backend);
    std::string note;
    if (f->not_converged > 0)
      note = fmt::format("did not converge (tolerance {}) in {} of {} periods; largest residual {:.3g}",
                         kPropagationTolerance, f->not_converged, f->periods, f->worst_residual);
    return std::make_unique<PropagatedInterests>(std::move(f), std::move(note));
  };
  return m;
}

std::string als_key(const LibraryModelOptions& o, int factors, float regularization, const mf::AlsBackend* backend) {
  return fmt::format("als factors={} regularization={} iterations={} seed={} threads={} backend={}", factors,
                     regularization, o.als_iterations, o.seed, o.threads, fmt::ptr(backend));
}

std::shared_ptr<const mf::AlsModel> shared_als(const Training& t, const LibraryModelOptions& o, int factors,
                                               float regularization, const mf::AlsBackend* backend) {
  return shared_fit<mf::AlsModel>(o, t, als_key(o, factors, regularization, backend), [&] {
    mf::AlsOptions a;
    a.factors = factors;
    a.regularization = regularization;
    a.iterations = o.als_iterations;
    a.seed = o.seed;
    a.threads = o.threads;
    a.backend = backend;
    return mf::fit_implicit_als(t.history, a);
  });
}

std::string temporal_als_key(const LibraryModelOptions& o, float gamma, float eta) {
  return fmt::format("temporal_als gamma={} eta={} iterations={} seed={} threads={} backend={} window={}", gamma, eta,
                     o.temporal_als_iterations, o.seed, o.threads, fmt::ptr(o.als_backend), o.window);
}

std::shared_ptr<const mf::AlsModel> shared_temporal_als(const Training& t, const LibraryModelOptions& o, float gamma,
                                                        float eta) {
  return shared_fit<mf::AlsModel>(o, t, temporal_als_key(o, gamma, eta),
                                  [&] { return fit_last_temporal_als(t, o, gamma, eta); });
}

std::string propagation_key(const LibraryModelOptions& o, float alpha, float gamma, float mu,
                            const propagation::Backend* backend) {
  return fmt::format("propagation alpha={} gamma={} mu={} threads={} backend={} window={}", alpha, gamma, mu,
                     o.threads, fmt::ptr(backend), o.window);
}

std::shared_ptr<const PropagationFit> shared_propagation(const Training& t, const LibraryModelOptions& o, float alpha,
                                                         float gamma, float mu, const propagation::Backend* backend) {
  return shared_fit<PropagationFit>(o, t, propagation_key(o, alpha, gamma, mu, backend), [&] {
    propagation::TemporalOptions a;
    a.propagation.alpha = alpha;
    a.propagation.tolerance = kPropagationTolerance;
    a.propagation.max_iterations = 100;
    a.propagation.threads = o.threads;
    a.propagation.backend = backend;
    a.gamma = gamma;
    a.mu = mu;
    const std::vector<graph::CsrMatrix> slices = windowed_slices(t, o.window);
    PropagationFit f;
    f.periods = slices.size();
    propagation::propagate_temporal_streaming(slices, t.item_labels, a,
                                              [&](std::size_t period, propagation::PeriodResult& r) {
                                                if (!r.converged) {
                                                  ++f.not_converged;
                                                  f.worst_residual = std::max(f.worst_residual, r.residual);
                                                }
                                                if (period + 1 == slices.size()) {
                                                  f.interests = std::move(r.interests);
                                                  f.item_labels = std::move(r.item_labels);
                                                }
                                              });
    return f;
  });
}

}  // namespace driftrec::evaluation
