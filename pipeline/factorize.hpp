// factorize_store: `driftrec factorize` as a call. Temporal implicit ALS
// (matrix_factorization/temporal_als.hpp) over a store's slices; the factors of the periods
// kept are saved under /results/<name> (layout io/factors_result.hpp).
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "matrix_factorization/temporal_als.hpp"
#include "pipeline/common.hpp"

namespace driftrec::pipeline {

struct FactorizeRequest {
  std::string store;
  std::string name = "als";
  matrix_factorization::TemporalAlsOptions options;  // compute_loss: each sweep reports its loss
  std::string keep_users = "all";     // user factors saved: all | last:N periods
  std::string keep_items = "last:1";  // item factors saved: all | last:N periods
  int threads = 0;                    // 0: OpenMP's default; sets options.als.threads
  std::string device = "cpu";         // cpu | cuda | auto (the ALS half-sweeps)
  Progress progress;                  // "factorize", periods done
  matrix_factorization::PeriodIterationCallback on_iteration;  // after every sweep
};

struct FactorizedPeriod {
  std::size_t period = 0;
  bool users_saved = false, items_saved = false;
};

struct FactorizeSummary {
  std::string store, result;
  matrix_factorization::TemporalAlsOptions options;
  std::size_t periods = 0;
  std::size_t user_periods_kept = 0, item_periods_kept = 0;
  std::vector<FactorizedPeriod> saved;
  std::optional<double> final_loss;  // the last sweep's, with options.compute_loss
  double seconds = 0;

  nlohmann::json to_json() const;
};

// Throws InputError naming the field for a bad request or a store without slices;
// NumericalError (naming the parameter) when the factors stop being finite.
FactorizeSummary factorize_store(const FactorizeRequest& request);

}  // namespace driftrec::pipeline
