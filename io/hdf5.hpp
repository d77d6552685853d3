// Internal to io/ and pipeline/ (not installed: it includes hdf5.h). A thin RAII layer over the HDF5 C API: handles that close themselves, typed 1-d array
// and attribute I/O, and reads that check type, rank and size before allocating.
// Every failing call throws: reads throw InputError (the file is bad input), writes throw
// std::runtime_error (the environment failed us: disk full, permissions).
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "graph/types.hpp"
#include "io/h5_handle.hpp"

namespace driftrec::io::h5 {

// The handle type of the public headers is HDF5's own.
static_assert(std::is_same_v<hid_t, Hid> && std::is_same_v<herr_t, int>);

// Silences HDF5's own error printing (we report errors ourselves); call once at start.
void quiet_errors();
// The innermost message of HDF5's current error stack, or "", on one line; a failed
// system call is reduced to its error message (condense_error).
std::string last_error();
// One line of an HDF5 error record; `err` and `file` receive the errno and file name of a
// failed system call it describes (0 and "" otherwise).
std::string condense_error(const std::string& desc, int* err, std::string* file);
// Throws for a failed write: InternalError "<store>: no space left on device; the store
// is unchanged" when the disk was full (ENOSPC, EDQUOT, EFBIG), else std::runtime_error
// "HDF5: <what>: <HDF5's reason>".
[[noreturn]] void throw_write_error(const std::string& what);

template <class T> hid_t native_type() {
  if constexpr (std::is_same_v<T, std::int32_t>) return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, float>) return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>) return H5T_NATIVE_DOUBLE;
  else static_assert(sizeof(T) == 0, "unsupported HDF5 element type");
}

// --- writing -----------------------------------------------------------------------
// Creation properties of class `cls` (file, group, dataset) that record no access,
// modification or change times, so writing the same content twice gives the same bytes.
Handle untimed_creation(hid_t cls);
Handle create_file(const std::string& path);  // truncates
Handle open_file_for_update(const std::string& path);  // read-write, same format bounds
Handle create_group(hid_t loc, const std::string& name);
// A chunked, shuffled, deflate-compressed 1-d dataset of n elements of `type`. An
// extensible one has no maximum size (H5S_UNLIMITED), so `update` can append to it in
// place (append_array); its chunks hold at least kMinExtensibleChunk elements, so small
// stores that grow do not end up in thousands of tiny chunks.
enum class Extent { fixed, extensible };
inline constexpr std::uint64_t kMinExtensibleChunk = 1 << 12;
Handle create_array(hid_t loc, const std::string& name, hid_t type, std::uint64_t n, Extent extent = Extent::fixed);
// Fills a dataset made by create_array with n elements of elem_size bytes. Chunks are
// shuffled and compressed in parallel (io/plane_deflate.hpp, zlib format: exactly what
// HDF5's own shuffle + deflate filters read) and handed to HDF5 whole with H5Dwrite_chunk;
// HDF5's built-in path compresses serially with zlib and was most of ingest's write time.
// Every chunk, one that deflate does not shrink included (stored deflate blocks), is a zlib
// stream with filter mask 0, which parallel HDF5's collective reads need (docs/mpi.md).
// threads: 0 for OpenMP's default; the bytes written are the same for any count.
// `first`: the data are elements [first, first + n) of the dataset, first a multiple of its
// chunk length and n reaching the dataset's end or a multiple of it too.
void write_chunks(hid_t dset, const void* data, std::uint64_t n, std::size_t elem_size, int threads,
                  std::uint64_t first = 0);

// An array's chunks, shuffled and compressed (as write_chunks does) but not yet written:
// what a thread of a parallel region prepares for the one that talks to HDF5.
struct CompressedChunks {
  std::uint64_t n = 0;  // elements
  struct Chunk {
    std::vector<unsigned char> bytes;
    std::uint32_t mask = 0;  // HDF5's filter mask: always 0 (deflate applied), bar a test switch
  };
  std::vector<Chunk> chunks;
};
// threads 1: on the calling thread alone (from inside a parallel region).
CompressedChunks compress_chunks(const void* data, std::uint64_t n, std::size_t elem_size, int threads);
template <class T>
CompressedChunks compress_array(std::span<const T> data, int threads) {
  return compress_chunks(data.data(), data.size(), sizeof(T), threads);
}
// Creates the dataset as create_array does and writes the chunks: the same file as
// write_array on the data `c` was made from.
void write_compressed(hid_t loc, const std::string& name, hid_t type, const CompressedChunks& c);
template <class T>
void write_array(hid_t loc, const std::string& name, std::span<const T> data, int threads = 0,
                 Extent extent = Extent::fixed) {
  Handle d = create_array(loc, name, native_type<T>(), data.size(), extent);
  write_chunks(d, data.data(), data.size(), sizeof(T), threads);
}
// Whether the 1-d dataset `name` can grow (its maximum size is unlimited).
bool is_extensible(hid_t loc, const std::string& name);
// Appends `data` to the extensible 1-d dataset `name` in place: the last, partly filled
// chunk is read back and written again with the new elements after it, then the new
// chunks; earlier chunks are not touched. The caller checks is_extensible first.
template <class T>
void append_array(hid_t loc, const std::string& name, std::span<const T> data, int threads = 0);
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, int threads = 0,
                   Extent extent = Extent::fixed);
// The same for n strings given by at(i) (each view used before the next call).
void write_strings(hid_t loc, const std::string& name, std::uint64_t n,
                   const std::function<std::string_view(std::uint64_t)>& at, int threads = 0,
                   Extent extent = Extent::fixed);
// The width in bytes of the fixed-length strings of dataset `name`.
std::size_t string_width(hid_t loc, const std::string& name);
// Appends `values` to the extensible string dataset `name` when each fits its width;
// returns false (and writes nothing) when one does not.
bool append_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, int threads = 0);
void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, std::int64_t value);
void write_attr(hid_t obj, const std::string& name, double value);

// --- reading -----------------------------------------------------------------------
bool exists(hid_t loc, const std::string& path);
Handle open_file(const std::string& path);  // read-only; InputError if not HDF5 or unreadable
Handle open_group(hid_t loc, const std::string& name, const ReadContext& cx);
std::uint64_t array_size(hid_t loc, const std::string& name, const ReadContext& cx);
template <class T>
std::vector<T> read_array(hid_t loc, const std::string& name, const ReadContext& cx);
// Reads elements [offset, offset + count) of a 1-d array.
template <class T>
std::vector<T> read_range(hid_t loc, const std::string& name, std::uint64_t offset,
                          std::uint64_t count, const ReadContext& cx);
std::vector<std::string> read_strings(hid_t loc, const std::string& name, const ReadContext& cx);
std::string read_attr_string(hid_t obj, const std::string& name, const ReadContext& cx);
std::int64_t read_attr_int(hid_t obj, const std::string& name, const ReadContext& cx);
double read_attr_double(hid_t obj, const std::string& name, const ReadContext& cx);  // any float class
bool has_attr(hid_t obj, const std::string& name);

}  // namespace driftrec::io::h5
