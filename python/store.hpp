// The store as the extension holds it: an open io::Store behind the HDF5 lock, closed on
// close() or when Python drops it.
#pragma once
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "io/store.hpp"
#include "python/common.hpp"

namespace driftrec::python {

class PyStore {
 public:
  explicit PyStore(const std::string& path);
  ~PyStore();
  PyStore(const PyStore&) = delete;
  PyStore& operator=(const PyStore&) = delete;

  // The open store; InputError once closed. Metadata (counts, periods) needs no lock.
  const io::Store& get() const;
  const std::string& path() const { return path_; }
  bool closed() const { return !store_.has_value(); }
  void close();

  // f(store) with the GIL released and the HDF5 lock held; f must not touch Python.
  template <class F>
  auto read(F&& f) const {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    return std::forward<F>(f)(get());
  }

 private:
  std::string path_;
  std::optional<io::Store> store_;
};

}  // namespace driftrec::python
