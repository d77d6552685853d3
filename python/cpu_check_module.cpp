// driftrec._cpu_check: the instruction-set check of core/cpu_check.hpp for the Python
// package, as a module that reports instead of exiting. The package's __init__.py imports it
// before the extension _driftrec (compiled for DRIFTREC_ARCH, whose load-time check would end
// the interpreter on a CPU without the build's features) and raises ImportError with its
// message, so a notebook or a service that imports driftrec gets an exception it can show.
//
// This file and its copy of core/cpu_check.cpp are compiled for baseline x86-64
// (python/CMakeLists.txt) and use the plain Python C API, not nanobind: nothing the module
// runs may be an instruction the CPU lacks. core/cpu_features.cpp, compiled with the
// project's flags, contributes only a constant.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "core/cpu_check.hpp"

#if defined(__AVX__)
#error "python/cpu_check_module.cpp must be compiled for baseline x86-64 (see python/CMakeLists.txt)"
#endif

namespace {

PyObject* message_for(unsigned required, unsigned available) {
  char text[1024];
  driftrec::core::cpu_check_message(required, available, text, sizeof text);
  return PyUnicode_FromString(text);
}

// message() -> str: empty when this CPU has every feature the build uses.
PyObject* message(PyObject*, PyObject*) {
  return message_for(driftrec::core::kBuildCpuFeatures, driftrec::core::available_cpu_features());
}

// message_for(required, available) -> str: the message for those feature masks (tests).
PyObject* message_for_masks(PyObject*, PyObject* args) {
  unsigned required = 0, available = 0;
  if (!PyArg_ParseTuple(args, "II", &required, &available)) return nullptr;
  return message_for(required, available);
}

PyObject* build_features(PyObject*, PyObject*) { return PyLong_FromUnsignedLong(driftrec::core::kBuildCpuFeatures); }

PyObject* feature_names(PyObject*, PyObject*) {
  PyObject* list = PyList_New(driftrec::core::kCpuFeatureCount);
  if (list == nullptr) return nullptr;
  for (int i = 0; i < driftrec::core::kCpuFeatureCount; ++i) {
    PyObject* name = PyUnicode_FromString(driftrec::core::kCpuFeatureNames[i]);
    if (name == nullptr) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, i, name);
  }
  return list;
}

PyMethodDef methods[] = {
    {"message", message, METH_NOARGS,
     "message() -> str: why this CPU cannot run the build (empty when it can)."},
    {"message_for", message_for_masks, METH_VARARGS,
     "message_for(required, available) -> str: the message for two feature masks."},
    {"build_features", build_features, METH_NOARGS,
     "build_features() -> int: the mask of the features the build's code uses."},
    {"feature_names", feature_names, METH_NOARGS, "feature_names() -> list[str]: bit i's feature."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cpu_check",
                      "The instruction-set check of the driftrec package (reports, never exits).", -1, methods,
                      nullptr, nullptr, nullptr, nullptr};

}  // namespace

PyMODINIT_FUNC PyInit__cpu_check() { return PyModule_Create(&module); }
