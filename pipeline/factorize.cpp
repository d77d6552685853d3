#include "pipeline/factorize.hpp"

#include <chrono>

#include <fmt/format.h>

#include "io/factors_result.hpp"
#include "io/result_name.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;

FactorizeSummary factorize_store(const FactorizeRequest& q) {
  FactorizeSummary s;
  s.store = q.store;
  s.result = q.name;
  s.options = q.options;
  s.options.als.threads = q.threads;
  io::check_result_name(q.name);
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  s.options.validate();

  // The writer (and the store's writer lock) before reading: what this job computes from
  // is the store it amends, whatever other writers do meanwhile.
  io::StoreWriter writer(q.store, io::StoreWriter::Amend{}, q.threads);
  const io::Store store = io::Store::open(q.store);
  const std::size_t n = s.periods = store.n_slices();
  if (n == 0) throw InputError(fmt::format("{}: the store has no slices", q.store));
  const std::size_t first_user = first_kept_period(q.keep_users, n, "keep_users");
  const std::size_t first_item = first_kept_period(q.keep_items, n, "keep_items");
  s.user_periods_kept = n - first_user;
  s.item_periods_kept = n - first_item;
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t k = 0; k < n; ++k) slices.push_back(store.slice(k));

  io::FactorsResultWriter result(writer, q.name);
  const auto t0 = std::chrono::steady_clock::now();
  mf::fit_temporal_als(
      slices, s.options,
      [&](std::size_t period, const mf::IterationReport& r) {
        if (s.options.compute_loss) s.final_loss = r.loss;
        if (q.on_iteration) q.on_iteration(period, r);
      },
      [&](std::size_t period, const mf::AlsModel& m) {
        if (period >= first_user) result.write_user(period, m.user);
        if (period >= first_item) result.write_item(period, m.item);
        s.saved.push_back({period, period >= first_user, period >= first_item});
        if (q.progress) q.progress("factorize", period + 1, n);
      });
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  result.finish(s.options, store.slicing(), n);
  writer.commit();
  return s;
}

nlohmann::json FactorizeSummary::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const FactorizedPeriod& p : saved)
    list.push_back({{"period", p.period}, {"users_saved", p.users_saved}, {"items_saved", p.items_saved}});
  return {{"store", store},
          {"result", result},
          {"periods", periods},
          {"seconds", seconds},
          {"final_loss", final_loss ? nlohmann::json(*final_loss) : nlohmann::json(nullptr)},
          {"saved", list}};
}

}  // namespace driftrec::pipeline
