// What io/'s public headers need of HDF5 without including hdf5.h: the handle type (HDF5's
// hid_t, a 64-bit integer since HDF5 1.10; io/hdf5.hpp checks that they are the same), a
// handle that closes itself, and the context readers word their errors with. A consumer of
// the installed package compiles against these without HDF5's headers.
#pragma once
#include <cstdint>
#include <string>

namespace driftrec::io::h5 {

using Hid = std::int64_t;

class Handle {
 public:
  Handle() = default;
  Handle(Hid id, int (*close)(Hid)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) { reset(); id_ = o.id_; close_ = o.close_; o.id_ = -1; }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Hid get() const { return id_; }
  // Gives up ownership (the caller closes and checks the result).
  Hid release() {
    Hid id = id_;
    id_ = -1;
    return id;
  }
  operator Hid() const { return id_; }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }

 private:
  Hid id_ = -1;
  int (*close_)(Hid) = nullptr;
};


// What a reader needs to word its errors and cap its allocations.
struct ReadContext {
  std::string file;
  std::uint64_t max_bytes;  // larger datasets are rejected as corrupt
};

}  // namespace driftrec::io::h5
