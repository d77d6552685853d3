#include "pipeline/common.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/device.hpp"
#include "core/error.hpp"
#include "io/store.hpp"
#include "io/store_info.hpp"
#include "io/text.hpp"

namespace driftrec::pipeline {

DeviceBackends device_backends(const std::string& device, int threads) {
  DeviceBackends out;
  if (!core::use_cuda(core::parse_device(device, "device"), "device")) return out;
  out.propagation = propagation::make_backend("cuda", {threads});
  out.als = matrix_factorization::make_als_backend("cuda", {threads});
  return out;
}

std::size_t first_kept_period(const std::string& spec, std::size_t periods, const char* field) {
  if (spec == "all") return 0;
  std::int64_t n = 0;
  if (spec.starts_with("last:") && io::parse_int64(spec.substr(5), n) && n >= 1)
    return periods > static_cast<std::size_t>(n) ? periods - static_cast<std::size_t>(n) : 0;
  throw InputError(fmt::format("{} '{}': expected all or last:N with N >= 1", field, spec));
}

graph::Index find_id(const std::vector<std::string>& ids, const std::string& id, const char* what,
                     const std::string& store) {
  auto it = std::find(ids.begin(), ids.end(), id);
  if (it == ids.end()) throw InputError(fmt::format("{}: no {} with id '{}'", store, what, id));
  return static_cast<graph::Index>(it - ids.begin());
}

void check_slice_weights(const io::Store& store, std::size_t k, const graph::CsrMatrix& m) {
  for (graph::Index u = 0; u < m.n_rows; ++u)
    for (graph::Offset e = m.indptr[u]; e < m.indptr[u + 1]; ++e) {
      const float w = m.data[e];
      if (std::isfinite(w) && w >= 0) continue;
      // Only now read the id tables, to name what the row and column are.
      const graph::Periods periods = store.periods();
      throw InputError(fmt::format(
          "{}: user '{}', item '{}' has weight {} in period {} ({} to {}); weights must be finite and >= 0. "
          "Ingest the log again: it refuses such values naming their line (--negative drop|clip for negative ones)",
          store.path(), store.users()[static_cast<std::size_t>(u)],
          store.items()[static_cast<std::size_t>(m.indices[e])], w, k, io::format_time(periods.begin[k]),
          io::format_time(periods.end[k])));
    }
}

graph::CsrMatrix checked_slice(const io::Store& store, std::size_t k) {
  graph::CsrMatrix m = store.slice(k);
  check_slice_weights(store, k, m);
  return m;
}

std::vector<std::string> item_label_text(const graph::CsrMatrix& m, const std::vector<std::string>& names) {
  std::vector<std::string> out(static_cast<std::size_t>(m.n_rows));
  for (graph::Index i = 0; i < m.n_rows; ++i) {
    std::string& s = out[static_cast<std::size_t>(i)];
    for (graph::Offset k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
      s += (s.empty() ? "" : "|") + names[static_cast<std::size_t>(m.indices[k])];
  }
  return out;
}

}  // namespace driftrec::pipeline
