// What the store-level jobs of pipeline/ share. Every front end (the driftrec CLI, the
// Python module, a batch job, a benchmark) runs driftrec through these jobs: each takes a
// plain request (the store, the result name, the algorithm's options struct, threads, an
// optional progress callback), reads and writes the store as `driftrec` does (results
// added atomically: the store is copied, changed and renamed back, so a failure leaves it
// as it was), and returns a plain summary whose to_json() is what `driftrec ... --json`
// prints. Bad requests throw InputError naming the field; the jobs print nothing. A
// request's `threads` (0: OpenMP's default) goes to every options struct of the job that
// takes a thread count; none calls omp_set_num_threads.
//
// Public pipeline headers include no HDF5 or CLI11 header.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "graph/types.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "propagation/backend.hpp"

namespace driftrec::io {
class Store;
}

namespace driftrec::pipeline {

// Progress of a long step: its name, work done and total. Calls come one at a time, from
// the calling thread or (generate) a worker; keep them cheap.
using Progress = std::function<void(const char* stage, std::uint64_t done, std::uint64_t total)>;

// "all" or "last:N" (the keep fields): the first period to keep out of `periods`.
// Throws InputError naming `field` on anything else.
std::size_t first_kept_period(const std::string& spec, std::size_t periods, const char* field);

// The index of `id` in `ids`; InputError naming the store and what was looked for.
graph::Index find_id(const std::vector<std::string>& ids, const std::string& id, const char* what,
                     const std::string& store);

// Slice k of `store` with its weights checked to be finite and >= 0, as propagation,
// random walks, ALS and the sequence models assume. A store written before ingest checked
// values can hold a negative or infinite weight; the InputError names the store, the period
// and the user and item ids, where the algorithms could only name internal rows and columns.
graph::CsrMatrix checked_slice(const io::Store& store, std::size_t k);
void check_slice_weights(const io::Store& store, std::size_t k, const graph::CsrMatrix& slice);

// The backends a job's kernels run on, for a request's `device` ("cpu", "cuda" or "auto";
// core/device.hpp): both null for "cpu" (the algorithms then make their CPU backends), or
// the "cuda" backends of propagation and ALS, alive as long as this object. "auto" picks
// CUDA when it can run here. InputError "device: ..." on another word, and "device cuda:
// <why>" (no CUDA in this build, or no device on this machine) when CUDA was asked for
// and cannot run.
struct DeviceBackends {
  std::unique_ptr<propagation::Backend> propagation;
  std::unique_ptr<matrix_factorization::AlsBackend> als;
  bool cuda() const { return propagation != nullptr; }
};
DeviceBackends device_backends(const std::string& device, int threads);

// Each item's label names joined by '|' ("" for an unlabelled item), for showing what an
// item is.
std::vector<std::string> item_label_text(const graph::CsrMatrix& item_labels, const std::vector<std::string>& names);

}  // namespace driftrec::pipeline
