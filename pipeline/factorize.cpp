#include "pipeline/factorize.hpp"

#include <chrono>

#include <fmt/format.h>

#include "core/memory.hpp"
#include "core/parallel.hpp"
#include "io/factors_result.hpp"
#include "io/result_name.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;

namespace {

// Refuses, before anything is allocated, a job larger than the machine's memory. What
// fit_temporal_als holds: the model and period t-1's user factors (float32), the Gram
// matrices in double (X'X, Y'Y and one partial per thread), and the slices with their
// transposes. Factors of the periods kept are written out one period at a time, so they
// cost disk, not memory.
void check_factorize_memory(const io::Store& store, const mf::TemporalAlsOptions& o, int threads) {
  const double f = o.als.factors;
  const double rows = static_cast<double>(store.n_users()) + static_cast<double>(store.n_items());
  double nnz = 0;
  for (std::size_t k = 0; k < store.n_slices(); ++k) nnz += static_cast<double>(store.slice_nnz(k));
  const double team = core::thread_count(threads);
  const double factors = 3 * 4 * f * rows, grams = 8 * f * f * (2 + team), slices = 16 * nnz;
  core::check_memory(
      factors + grams + slices, fmt::format("--factors {}", o.als.factors), "factorize",
      fmt::format("{} factors x {} users and items x 3 copies in float32: {}; {} Gram matrices of {} x {} doubles: "
                  "{}; the slices: {}",
                  o.als.factors, store.n_users() + store.n_items(), core::format_bytes(factors), 2 + team,
                  o.als.factors, o.als.factors, core::format_bytes(grams), core::format_bytes(slices)),
      "ask for fewer --factors (or fewer --threads: each holds a Gram matrix)");
}

}  // namespace

FactorizeSummary factorize_store(const FactorizeRequest& q) {
  FactorizeSummary s;
  s.store = q.store;
  s.result = q.name;
  s.options = q.options;
  s.options.als.threads = q.threads;
  io::check_result_name(q.name);
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  s.options.validate();
  const DeviceBackends device = device_backends(q.device, q.threads);
  s.options.als.backend = device.als.get();

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
  check_factorize_memory(store, s.options, q.threads);
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t k = 0; k < n; ++k) slices.push_back(checked_slice(store, k));

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
  s.options.als.backend = nullptr;  // the summary outlives the device backends
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
