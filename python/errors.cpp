// driftrec's error classes as Python exceptions. InputError (bad input or options; the
// message names the argument, file, row or field) is a ValueError, so code that already
// catches ValueError for bad arguments catches it. NumericalError (a numerical failure the
// user fixes by changing the parameter its message names) is an ArithmeticError: it is
// about numbers, not about the arguments' types or values being malformed. InternalError
// and anything else become RuntimeError (nanobind's default for std::runtime_error),
// std::bad_alloc a MemoryError.
#include "core/error.hpp"
#include "python/common.hpp"

namespace driftrec::python {

void bind_errors(nb::module_& m) {
  nb::exception<InputError>(m, "InputError", PyExc_ValueError);
  nb::exception<NumericalError>(m, "NumericalError", PyExc_ArithmeticError);
}

}  // namespace driftrec::python
