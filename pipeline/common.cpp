#include "pipeline/common.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/text.hpp"

namespace driftrec::pipeline {

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
