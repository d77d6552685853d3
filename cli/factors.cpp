#include "cli/factors.hpp"

#include <fmt/format.h>

namespace driftrec::cli {
namespace mf = matrix_factorization;

void write_factors(hid_t group, std::size_t period, const mf::Factors& f) {
  io::write_matrix(group, fmt::format("{:04d}", period), f.data(), static_cast<std::uint64_t>(f.rows()),
                   static_cast<std::uint64_t>(f.cols()));
}

LoadedModel load_factors(const io::Store& store, const std::string& name, std::optional<std::size_t> period) {
  io::h5::Handle g = io::open_result(store, name);
  auto has = [&](const char* side, std::size_t p) { return io::h5::exists(g, fmt::format("{}/{:04d}", side, p)); };
  LoadedModel out;
  if (period) {
    if (!has("user_factors", *period) || !has("item_factors", *period))
      throw InputError(fmt::format("{}: result '{}' has no user and item factors for period {} (factorize "
                                          "with --keep-items all to keep every period's item factors)",
                                          store.path(), name, *period));
    out.period = *period;
  } else {
    bool found = false;
    for (std::size_t p = store.n_slices(); p-- > 0;)
      if (has("user_factors", p) && has("item_factors", p)) {
        out.period = p;
        found = true;
        break;
      }
    if (!found)
      throw InputError(fmt::format("{}: result '{}' has no period with both user and item factors", store.path(), name));
  }
  auto load = [&](const char* side, std::int64_t rows) {
    io::Matrix m = io::read_matrix(g, fmt::format("{}/{:04d}", side, out.period), store.context());
    if (static_cast<std::int64_t>(m.rows) != rows)
      throw InputError(fmt::format("{}: {} of result '{}' have {} rows, the store has {}", store.path(), side,
                                          name, m.rows, rows));
    return mf::Factors(Eigen::Map<const mf::Factors>(m.data.data(), static_cast<Eigen::Index>(m.rows),
                                                     static_cast<Eigen::Index>(m.cols)));
  };
  out.model.user = load("user_factors", store.n_users());
  out.model.item = load("item_factors", store.n_items());
  if (out.model.user.cols() != out.model.item.cols())
    throw InputError(fmt::format("{}: result '{}' has user and item factors of different widths", store.path(), name));
  return out;
}

}  // namespace driftrec::cli
