// The propagation backends driftrec knows, by name (core/registry.hpp): "cpu" and "cuda"
// (propagation/cuda/, built with DRIFTREC_HAVE_CUDA). A new backend adds one entry: its
// name, a probe of whether it can run here and a maker.
#include "core/device.hpp"
#include "core/registry.hpp"
#include "propagation/backend.hpp"
#include "propagation/cpu/cpu_backend.hpp"
#ifdef DRIFTREC_HAVE_CUDA
#include "propagation/cuda/cuda_backend.hpp"
#endif

namespace driftrec::propagation {
namespace {

const core::Registry<Backend, BackendOptions>& registry() {
  static const core::Registry<Backend, BackendOptions> r(
      "backend", {
                     {"cpu", [] { return std::string(); },
                      [](const BackendOptions& o) {
                        return std::make_unique<cpu::CpuBackend>(o.threads, o.gather);
                      }},
                     // Registered in every build; available where core/device.hpp says
                     // CUDA can run (never in a build without it).
                     {"cuda", [] { return core::cuda_unavailable_reason(); },
                      [](const BackendOptions& o) -> std::unique_ptr<Backend> {
#ifdef DRIFTREC_HAVE_CUDA
                        if (o.gather != GatherPrecision::float32)
                          throw InputError("gather: the cuda backend gathers float32 only");
                        return std::make_unique<cuda::CudaBackend>(o.threads);
#else
                        (void)o;
                        throw InternalError("the cuda backend was made in a build without CUDA");
#endif
                      }},
                 });
  return r;
}

}  // namespace

std::unique_ptr<Backend> make_backend(std::string_view name, const BackendOptions& options) {
  options.validate();
  return registry().make(name, options);
}

std::vector<std::string> registered_backends() { return registry().registered(); }
bool backend_available(std::string_view name) { return registry().available(name); }
std::vector<std::string> available_backends() { return registry().available(); }

}  // namespace driftrec::propagation
