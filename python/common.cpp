#include "python/common.hpp"

#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::python {

NumpyArray<float> to_numpy(RowMatrix&& m) {
  auto* owner = new RowMatrix(std::move(m));
  nb::capsule capsule(owner, [](void* p) noexcept { delete static_cast<RowMatrix*>(p); });
  return NumpyArray<float>(owner->data(),
                           {static_cast<std::size_t>(owner->rows()), static_cast<std::size_t>(owner->cols())},
                           capsule);
}

graph::CsrMatrix csr_from_arrays(const Array1<std::int64_t>& indptr, const Array1<std::int32_t>& indices,
                                 const Array1<float>& data, std::int64_t rows, std::int64_t cols, const char* what,
                                 bool finite) {
  constexpr std::int64_t kMaxIndex = std::numeric_limits<graph::Index>::max();
  if (rows < 0 || cols < 0 || rows > kMaxIndex || cols > kMaxIndex)
    throw InputError(fmt::format("{}: shape {} x {} is outside [0, 2^31 - 1]", what, rows, cols));
  graph::CsrMatrix m;
  m.n_rows = static_cast<graph::Index>(rows);
  m.n_cols = static_cast<graph::Index>(cols);
  m.indptr.assign(indptr.data(), indptr.data() + indptr.shape(0));
  m.indices.assign(indices.data(), indices.data() + indices.shape(0));
  m.data.assign(data.data(), data.data() + data.shape(0));
  graph::validate_csr(m, what);
  if (finite)
    for (graph::Index r = 0; r < m.n_rows; ++r)
      for (graph::Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k)
        if (!std::isfinite(m.data[k]))
          throw InputError(
              fmt::format("{}: the value at row {}, column {} is {}, expected a finite number", what, r, m.indices[k],
                          m.data[k]));
  return m;
}

nb::tuple csr_to_arrays(graph::CsrMatrix&& m) {
  return nb::make_tuple(to_numpy(std::move(m.indptr)), to_numpy(std::move(m.indices)), to_numpy(std::move(m.data)));
}

std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace driftrec::python
