// See shared_library.hpp.
#include "core/cuda/shared_library.hpp"

#include <dlfcn.h>

#include <string>

#include "core/error.hpp"

namespace driftrec::core::cuda {

void* open_library(const char* path, const char* soname, const char* user) {
  if (void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) return handle;
  const char* why = dlerror();
  const std::string first = why ? why : "";
  if (void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) return handle;
  const char* second = dlerror();
  throw InternalError(std::string(user) + " needs " + soname + " (found at build time at " + path +
                      "), which could not be loaded: " + (second ? second : "") +
                      (first.empty() ? "" : " / " + first));
}

void* find_symbol(void* handle, const char* library, const char* name) {
  dlerror();
  void* symbol = dlsym(handle, name);
  if (!symbol) {
    const char* why = dlerror();
    throw InternalError(std::string(library) + " has no entry point " + name + ": " + (why ? why : "null symbol"));
  }
  return symbol;
}

}  // namespace driftrec::core::cuda
