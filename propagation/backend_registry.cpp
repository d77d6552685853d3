// The propagation backends driftrec knows, by name (core/registry.hpp). A new backend adds
// one entry: its name, a probe of whether it can run here (a CUDA backend: is there a
// device; built without CUDA, a probe that says so) and a maker.
#include "core/registry.hpp"
#include "propagation/backend.hpp"
#include "propagation/cpu/cpu_backend.hpp"

namespace driftrec::propagation {
namespace {

const core::Registry<Backend, BackendOptions>& registry() {
  static const core::Registry<Backend, BackendOptions> r(
      "backend", {
                     {"cpu", [] { return std::string(); },
                      [](const BackendOptions& o) {
                        return std::make_unique<cpu::CpuBackend>(o.threads, o.gather);
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
