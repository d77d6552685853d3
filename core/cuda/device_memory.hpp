// Internal to the CUDA backends (built only with DRIFTREC_HAVE_CUDA; not installed): device
// memory owned like a std::vector, and the one check every CUDA runtime / library call goes
// through. A failed call is an InternalError naming the call and the runtime's message (a
// device that was found but then fails is not the user's to fix), except running out of
// device memory, which is an InputError telling the user to use
// --device cpu or a smaller problem.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace driftrec::core::cuda {

[[noreturn]] inline void fail(const char* call, cudaError_t e) {
  if (e == cudaErrorMemoryAllocation)
    throw InputError(std::string("CUDA: out of device memory in ") + call +
                     "; run with --device cpu (device=\"cpu\") or a smaller problem");
  throw InternalError(std::string("CUDA: ") + call + " failed: " + cudaGetErrorString(e));
}

inline void check(cudaError_t e, const char* call) {
  if (e != cudaSuccess) fail(call, e);
}

// A library call's status (cuSPARSE, cuBLAS, cuSOLVER): 0 is success in all three.
inline void check_status(int status, const char* call) {
  if (status != 0)
    throw InternalError(std::string("CUDA library call ") + call + " failed with status " + std::to_string(status));
}

// n elements of T on the device, uninitialised; freed on destruction. Moves, never copies.
template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t n) { resize(n); }
  ~DeviceArray() { release(); }
  DeviceArray(DeviceArray&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  // Reallocates (contents lost) unless the size is already n.
  void resize(std::size_t n) {
    if (n == size_) return;
    release();
    if (n > 0) check(cudaMalloc(reinterpret_cast<void**>(&data_), n * sizeof(T)), "cudaMalloc");
    size_ = n;
  }
  void upload(const T* host, std::size_t n) {
    resize(n);
    if (n > 0) check(cudaMemcpy(data_, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (to device)");
  }
  void upload(const std::vector<T>& host) { upload(host.data(), host.size()); }
  // The first n elements back to the host.
  void download(T* host, std::size_t n) const {
    if (n > 0) check(cudaMemcpy(host, data_, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (to host)");
  }
  void fill_zero() {
    if (size_ > 0) check(cudaMemset(data_, 0, size_ * sizeof(T)), "cudaMemset");
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void release() noexcept {
    if (data_) cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
  }
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

// After a kernel launch: the launch's own error, then (synchronising) the kernel's.
inline void check_kernel(const char* name) {
  check(cudaGetLastError(), name);
  check(cudaDeviceSynchronize(), name);
}

}  // namespace driftrec::core::cuda
