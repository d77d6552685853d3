// Internal to the CUDA backends (built only with DRIFTREC_HAVE_CUDA; not installed): the
// CUDA libraries that are loaded with dlopen at first use instead of being linked.
//
// Why: a linked library is mapped, relocated and initialised in every driftrec process,
// CPU runs included. cuBLAS and cuSOLVER cost about 220 MB resident that way
// (matrix_factorization/cuda/solver_libraries.hpp), cuSPARSE with the nvJitLink it needs
// about 37 MB (a program that only links them peaks at 39.8 MB, one that links neither at
// 1.2 MB), while each backend calls a handful of their entry points. Each backend names
// its entry points in a struct of function pointers and fills it on first use with these.
// (core has no fmt: messages are put together by hand.)
#pragma once

namespace driftrec::core::cuda {

// A handle on `path` (the file CMake found at configure time, a full path), or, when that
// file is not there any more, on `soname` from the loader's search path. `user` names who
// needs it in the message of the InternalError thrown when neither loads (with dlerror()'s
// reasons). The handle stays open for the life of the process.
void* open_library(const char* path, const char* soname, const char* user);

// The entry point `name` of an open library (`library` names it in messages); throws
// InternalError when it has none.
void* find_symbol(void* handle, const char* library, const char* name);

template <class F>
void resolve(void* handle, const char* library, const char* name, F& out) {
  out = reinterpret_cast<F>(find_symbol(handle, library, name));
}

}  // namespace driftrec::core::cuda
