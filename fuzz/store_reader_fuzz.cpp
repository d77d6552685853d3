// libFuzzer harness of the store reader: the input is written as a file and opened with
// io::Store::open, as every command that reads a store does; when that succeeds,
// everything the store exposes is read: ids, titles, labels, item labels, events, every
// slice, the `info` summary, and each result under /results read as every kind of result
// (label propagation with each of its periods, walk, factors with each period, sequence
// model). Each read must succeed or throw driftrec::Error; a crash, a sanitizer report or
// any other exception (std::bad_alloc from a size taken on trust included) is a bug.
// HDF5 itself is not instrumented: its code gives no coverage feedback, only ours does.
#include <functional>
#include <string>

#include "core/error.hpp"
#include "fuzz/fuzz_util.hpp"
#include "io/factors_result.hpp"
#include "io/label_result.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "io/store_info.hpp"
#include "io/walk_result.hpp"

namespace {

void attempt(const std::function<void()>& read) {
  try {
    read();
  } catch (const driftrec::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace driftrec::io;
  const std::string path = driftrec::fuzz::write_scratch("store.h5", data, size);
  attempt([&] {
    const Store store = Store::open(path);
    attempt([&] { (void)store.users(); });
    attempt([&] { (void)store.items(); });
    attempt([&] { (void)store.item_titles(); });
    attempt([&] { (void)store.labels(); });
    attempt([&] { (void)store.item_labels(); });
    attempt([&] { (void)store.events(); });
    for (std::size_t k = 0; k < store.n_slices(); ++k) {
      attempt([&] { (void)store.slice_nnz(k); });
      attempt([&] { (void)store.slice(k); });
    }
    attempt([&] { (void)store_info(store).to_json(); });
    std::vector<std::string> names;
    attempt([&] { names = store.results(); });
    for (const std::string& name : names) {
      attempt([&] {
        const LabelResultInfo info = read_label_result(store, name);
        for (std::size_t p = 0; p < info.iterations.size(); ++p)
          attempt([&] { (void)read_label_period(store, name, p); });
      });
      attempt([&] { (void)read_walk_result(store, name); });
      attempt([&] {
        for (std::size_t p = 0; p < store.n_slices(); ++p) attempt([&] { (void)read_factors(store, name, p); });
        (void)read_factors(store, name);
      });
      attempt([&] { (void)read_sequence_result(store, name); });
    }
  });
  return 0;
}
