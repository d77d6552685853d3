// The _driftrec extension module: the C++ engine for driftrec's Python package. Each topic
// binds itself (errors.cpp, store.cpp, propagate.cpp, als.cpp, and jobs.cpp: the pipeline's
// store-level jobs); the package driftrec/ re-exports these and adds the conversions of
// numpy, scipy and pandas inputs.
#include "core/version.hpp"
#include "python/common.hpp"

NB_MODULE(_driftrec, m) {
  m.doc() = "driftrec's C++ engine (use the driftrec package, which converts inputs)";
  m.attr("__version__") = DRIFTREC_VERSION;  // CMakeLists.txt project(): one place
  driftrec::python::bind_errors(m);
  driftrec::python::bind_store(m);
  driftrec::python::bind_propagate(m);
  driftrec::python::bind_als(m);
  driftrec::python::bind_jobs(m);
}
