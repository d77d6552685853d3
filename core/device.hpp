// Where the heavy kernels run: the CPU (OpenMP) or a CUDA GPU. `--device cpu|cuda|auto`
// on the CLI and `device=` in Python are parsed here, and the one probe of whether CUDA
// can run on this machine lives here, so every front end says the same thing:
// - a build without CUDA (no toolkit at configure time, or DRIFTREC_CUDA=OFF) never can;
// - a CUDA build can when the runtime reports at least one device (cudaGetDeviceCount).
// Device::automatic picks CUDA exactly when it can run; asking for Device::cuda where it
// cannot is an InputError (exit 2) whose one line says which of the two is missing.
#pragma once
#include <string>
#include <string_view>

namespace driftrec::core {

enum class Device { cpu, cuda, automatic };

// "cpu", "cuda" or "auto"; InputError naming `what` (the option) otherwise.
Device parse_device(std::string_view text, std::string_view what = "--device");
std::string_view device_name(Device d);

// Whether this build contains the CUDA backends.
bool built_with_cuda();

// Empty when CUDA can run here; otherwise why not, in a few words ("this build has no
// CUDA (configured without the CUDA toolkit)", "no CUDA device on this machine (...)").
std::string cuda_unavailable_reason();

// Whether to run on CUDA: cpu -> false; automatic -> whether CUDA can run here; cuda ->
// true, or InputError "<what> cuda: <reason>" where it cannot.
bool use_cuda(Device d, std::string_view what = "--device");

}  // namespace driftrec::core
