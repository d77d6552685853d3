// The device choice of core/device.hpp, and the probe behind it: cudaGetDeviceCount where
// the build has CUDA (DRIFTREC_HAVE_CUDA), a fixed answer where it has not. (core has no
// fmt: messages are put together by hand.)
#include "core/device.hpp"

#include "core/error.hpp"

#ifdef DRIFTREC_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

namespace driftrec::core {

Device parse_device(std::string_view text, std::string_view what) {
  if (text == "cpu") return Device::cpu;
  if (text == "cuda") return Device::cuda;
  if (text == "auto") return Device::automatic;
  throw InputError(std::string(what) + ": expected cpu, cuda or auto, got '" + std::string(text) + "'");
}

std::string_view device_name(Device d) {
  switch (d) {
    case Device::cpu: return "cpu";
    case Device::cuda: return "cuda";
    case Device::automatic: return "auto";
  }
  return "?";
}

#ifdef DRIFTREC_HAVE_CUDA
bool built_with_cuda() { return true; }

std::string cuda_unavailable_reason() {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess)
    return std::string("no CUDA device on this machine (cudaGetDeviceCount: ") + cudaGetErrorString(e) + ")";
  if (count == 0) return "no CUDA device on this machine (cudaGetDeviceCount: 0 devices)";
  return {};
}
#else
bool built_with_cuda() { return false; }

std::string cuda_unavailable_reason() {
  return "this build of driftrec has no CUDA (configured without the CUDA toolkit or with DRIFTREC_CUDA=OFF)";
}
#endif

bool use_cuda(Device d, std::string_view what) {
  if (d == Device::cpu) return false;
  const std::string why = cuda_unavailable_reason();
  if (d == Device::automatic) return why.empty();
  if (!why.empty()) throw InputError(std::string(what) + " cuda: " + why);
  return true;
}

}  // namespace driftrec::core
