#include "io/hdf5.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <memory>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "io/chunk_read.hpp"
#include "io/plane_deflate.hpp"
#include "io/write_guard.hpp"

namespace driftrec::io::h5 {
namespace {

constexpr std::uint64_t kChunkElements = 1 << 18;

// Two tiers: a bad file is the user's input; a failed write is ours to report as internal.
[[noreturn]] void read_fail(const ReadContext& cx, const std::string& what) {
  std::string detail = last_error();
  throw InputError(fmt::format("{}: {}{}{}", cx.file, what, detail.empty() ? "" : ": ", detail));
}
[[noreturn]] void write_fail(const std::string& what) { throw_write_error(what); }

herr_t walk_innermost(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

Handle open_dataset(hid_t loc, const std::string& name, const ReadContext& cx) {
  if (!exists(loc, name)) read_fail(cx, fmt::format("missing dataset '{}' (not a complete driftrec store?)", name));
  hid_t d = H5Dopen2(loc, name.c_str(), H5P_DEFAULT);
  if (d < 0) read_fail(cx, fmt::format("cannot open dataset '{}'", name));
  return Handle(d, H5Dclose);
}

// Checks a dataset is 1-d with elements of `cls`; returns its length.
std::uint64_t checked_length(hid_t d, const std::string& name, H5T_class_t cls, std::size_t elem,
                             const ReadContext& cx) {
  Handle type(H5Dget_type(d), H5Tclose);
  if (type < 0 || H5Tget_class(type) != cls)
    read_fail(cx, fmt::format("dataset '{}' has an unexpected element type", name));
  Handle space(H5Dget_space(d), H5Sclose);
  if (space < 0 || H5Sget_simple_extent_ndims(space) != 1)
    read_fail(cx, fmt::format("dataset '{}' is not one-dimensional", name));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  if (n > cx.max_bytes / std::max<std::size_t>(elem, 1))
    read_fail(cx, fmt::format("dataset '{}' claims {} elements, more than the file could hold "
                              "(corrupt store?)",
                              name, static_cast<std::uint64_t>(n)));
  return n;
}

template <class T> H5T_class_t class_of() {
  return std::is_floating_point_v<T> ? H5T_FLOAT : H5T_INTEGER;
}

}  // namespace

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

namespace {
thread_local int t_last_errno = 0;
thread_local std::string t_last_file;

// The text between `key` and the next `end` in `s`, or "".
std::string field(const std::string& s, const std::string& key, char end) {
  const auto p = s.find(key);
  if (p == std::string::npos) return {};
  const auto q = s.find(end, p + key.size());
  return s.substr(p + key.size(), q == std::string::npos ? std::string::npos : q - p - key.size());
}
}  // namespace

std::string condense_error(const std::string& desc, int* err, std::string* file) {
  // HDF5's file driver describes a failed system call in one long record: "file write
  // failed: time = <ctime, with its newline>, filename = '...', file descriptor = 3,
  // errno = 28, error message = 'No space left on device', buf = ..., bytes actually
  // written = 18446744073709551615, ...". Keep what a user can act on.
  if (err) *err = 0;
  if (file) file->clear();
  const std::string code = field(desc, "errno = ", ',');
  std::string out = desc;
  if (!code.empty() && code.find_first_not_of("0123456789") == std::string::npos) {
    if (err) *err = std::stoi(code);
    if (file) *file = field(desc, "filename = '", '\'');
    const std::string head = desc.substr(0, desc.find(':'));
    out = fmt::format("{}: {}", head, field(desc, "error message = '", '\''));
  }
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::string last_error() {
  std::string msg;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &msg);
  H5Eclear2(H5E_DEFAULT);
  return condense_error(msg, &t_last_errno, &t_last_file);
}

void throw_write_error(const std::string& what) {
  const std::string detail = last_error();
  const std::string full = no_space_message(t_last_file, t_last_errno);
  if (!full.empty()) throw InternalError(full);
  throw std::runtime_error(fmt::format("HDF5: {}{}{}", what, detail.empty() ? "" : ": ", detail));
}

namespace {
// The 1.10 file format checksums every object header, chunk index and the superblock,
// so a damaged store is reported by HDF5 instead of being followed into wild reads.
Handle format_1_10_access() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (fapl < 0 || H5Pset_libver_bounds(fapl, H5F_LIBVER_V110, H5F_LIBVER_LATEST) < 0)
    write_fail("cannot set the file format version");
  return fapl;
}
}  // namespace

Handle open_file_for_update(const std::string& path) {
  quiet_errors();
  Handle fapl = format_1_10_access();
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, fapl);
  if (f < 0) write_fail(fmt::format("cannot open {} for writing", path));
  return Handle(f, H5Fclose);
}

Handle untimed_creation(hid_t cls) {
  Handle plist(H5Pcreate(cls), H5Pclose);
  if (plist < 0 || H5Pset_obj_track_times(plist, 0) < 0) write_fail("cannot set up object creation properties");
  return plist;
}

Handle create_file(const std::string& path) {
  quiet_errors();
  Handle fapl = format_1_10_access();
  Handle fcpl = untimed_creation(H5P_FILE_CREATE);  // the root group's header
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (f < 0) write_fail(fmt::format("cannot create {}", path));
  return Handle(f, H5Fclose);
}

Handle create_group(hid_t loc, const std::string& name) {
  Handle gcpl = untimed_creation(H5P_GROUP_CREATE);
  hid_t g = H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT);
  if (g < 0) write_fail(fmt::format("cannot create group '{}'", name));
  return Handle(g, H5Gclose);
}

Handle create_array(hid_t loc, const std::string& name, hid_t type, std::uint64_t n, Extent extent) {
  const bool grows = extent == Extent::extensible;
  hsize_t dims = n, maxdims = grows ? H5S_UNLIMITED : n;
  Handle space(H5Screate_simple(1, &dims, &maxdims), H5Sclose);
  Handle dcpl = untimed_creation(H5P_DATASET_CREATE);
  hsize_t chunk = std::clamp<std::uint64_t>(n, grows ? kMinExtensibleChunk : 1, kChunkElements);
  if (space < 0 || H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
      H5Pset_deflate(dcpl, 1) < 0)
    write_fail(fmt::format("cannot set up dataset '{}'", name));
  hid_t d = H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d < 0) write_fail(fmt::format("cannot create dataset '{}'", name));
  return Handle(d, H5Dclose);
}

namespace {

// HDF5's shuffle filter: byte j of every element, then byte j + 1, ... (`chunk` bytes a
// plane; the tail of a short last chunk stays as the caller left it). One pass over the
// source for the 4- and 8-byte types of the store's columns.
void shuffle(const unsigned char* src, std::uint64_t count, std::size_t elem, std::uint64_t chunk, unsigned char* dst) {
  if (elem == 4) {
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint32_t v;
      std::memcpy(&v, src + 4 * i, 4);
      for (std::size_t j = 0; j < 4; ++j) dst[j * chunk + i] = static_cast<unsigned char>(v >> (8 * j));
    }
  } else if (elem == 8) {
    for (std::uint64_t i = 0; i < count; ++i) {
      std::uint64_t v;
      std::memcpy(&v, src + 8 * i, 8);
      for (std::size_t j = 0; j < 8; ++j) dst[j * chunk + i] = static_cast<unsigned char>(v >> (8 * j));
    }
  } else {
    for (std::size_t j = 0; j < elem; ++j)
      for (std::uint64_t i = 0; i < count; ++i) dst[j * chunk + i] = src[i * elem + j];
  }
}

// Per thread: a compressor and the shuffled chunk.
struct ChunkScratch {
  PlaneDeflater deflater;
  std::vector<unsigned char> shuffled, packed;
};

// DRIFTREC_TEST_RAW_CHUNKS=1 (tests only): write a chunk that deflate does not shrink raw,
// with the filter mask bit that skips deflate, as stores written before mask-0 chunks were;
// tests/mpi makes such an old-style store with it. Read once.
bool raw_chunks_for_tests() {
  static const bool raw = [] {
    const char* v = std::getenv("DRIFTREC_TEST_RAW_CHUNKS");
    return v && std::string_view(v) == "1";
  }();
  return raw;
}

// Chunk c (of `chunk` elements; the last one padded with zeros) of `n` elements at `in`,
// shuffled and compressed into `out`. Every chunk is a zlib stream with filter mask 0, even
// one that deflate does not shrink (then stored deflate blocks: the bytes plus 5 per 64 KiB
// and a few per plane): HDF5 1.10's collective reads of filtered datasets ignore the mask
// and would inflate a raw chunk (driftrec-mpi, docs/mpi.md).
void compress_chunk(const unsigned char* in, std::uint64_t n, std::size_t elem, std::uint64_t chunk, std::uint64_t c,
                    ChunkScratch& s, CompressedChunks::Chunk& out) {
  constexpr std::uint32_t kSkipDeflate = 1u << 1;  // filter mask bit of the 2nd filter
  const std::size_t raw_bytes = chunk * elem;
  const std::uint64_t count = std::min(chunk, n - c * chunk);
  if (s.shuffled.size() != raw_bytes || count < chunk) s.shuffled.assign(raw_bytes, 0);
  shuffle(in + c * chunk * elem, count, elem, chunk, s.shuffled.data());
  const std::size_t size = s.deflater.compress(s.shuffled.data(), chunk, elem, s.packed);
  if (size >= raw_bytes && raw_chunks_for_tests()) {
    out.bytes.assign(s.shuffled.begin(), s.shuffled.end());
    out.mask = kSkipDeflate;
    return;
  }
  out.bytes.assign(s.packed.begin(), s.packed.begin() + static_cast<std::ptrdiff_t>(size));
  out.mask = 0;
}

std::uint64_t chunk_length(std::uint64_t n) { return std::clamp<std::uint64_t>(n, 1, kChunkElements); }

// The chunk length create_array gave `dset`.
std::uint64_t chunk_length_of(hid_t dset) {
  Handle dcpl(H5Dget_create_plist(dset), H5Pclose);
  hsize_t chunk = 0;
  if (dcpl < 0 || H5Pget_chunk(dcpl, 1, &chunk) != 1 || chunk == 0) write_fail("cannot read a dataset's chunk length");
  return chunk;
}

void write_chunk(hid_t dset, std::uint64_t offset, const CompressedChunks::Chunk& c) {
  hsize_t at = offset;
  if (H5Dwrite_chunk(dset, H5P_DEFAULT, c.mask, &at, c.bytes.size(), c.bytes.data()) < 0) write_fail("chunk write failed");
}

}  // namespace

void write_chunks(hid_t dset, const void* data, std::uint64_t n, std::size_t elem, int threads, std::uint64_t first) {
  if (n == 0) return;
  const std::uint64_t chunk = chunk_length_of(dset);
  DRIFTREC_ASSERT(first % chunk == 0);
  const std::uint64_t n_chunks = (n + chunk - 1) / chunk;
  const auto* in = static_cast<const unsigned char*>(data);
  // Batches bound the memory: at most kBatch compressed chunks wait for their write.
  constexpr std::uint64_t kBatch = 8;
  std::vector<CompressedChunks::Chunk> out(std::min(kBatch, n_chunks));
  for (std::uint64_t b0 = 0; b0 < n_chunks; b0 += kBatch) {
    const auto batch = static_cast<std::int64_t>(std::min(kBatch, n_chunks - b0));
    core::ParallelFor per_chunk{threads, core::Schedule::dynamic};
    per_chunk.parallel = batch > 1;
    core::parallel_for_with_state(
        batch, per_chunk, [] { return ChunkScratch{}; },
        [&](std::int64_t b, ChunkScratch& scratch) {
          compress_chunk(in, n, elem, chunk, b0 + static_cast<std::uint64_t>(b), scratch, out[static_cast<std::size_t>(b)]);
        });
    for (std::int64_t b = 0; b < batch; ++b)
      write_chunk(dset, first + (b0 + static_cast<std::uint64_t>(b)) * chunk, out[static_cast<std::size_t>(b)]);
  }
}

CompressedChunks compress_chunks(const void* data, std::uint64_t n, std::size_t elem, int threads) {
  CompressedChunks c;
  c.n = n;
  const std::uint64_t chunk = chunk_length(n);
  c.chunks.resize(n == 0 ? 0 : (n + chunk - 1) / chunk);
  core::ParallelFor per_chunk{threads, core::Schedule::dynamic};
  per_chunk.parallel = c.chunks.size() > 1 && threads != 1;
  const auto* in = static_cast<const unsigned char*>(data);
  core::parallel_for_with_state(
      static_cast<std::int64_t>(c.chunks.size()), per_chunk, [] { return ChunkScratch{}; },
      [&](std::int64_t k, ChunkScratch& scratch) {
        compress_chunk(in, n, elem, chunk, static_cast<std::uint64_t>(k), scratch, c.chunks[static_cast<std::size_t>(k)]);
      });
  return c;
}

void write_compressed(hid_t loc, const std::string& name, hid_t type, const CompressedChunks& c) {
  Handle d = create_array(loc, name, type, c.n);
  const std::uint64_t chunk = chunk_length(c.n);
  for (std::size_t k = 0; k < c.chunks.size(); ++k) write_chunk(d, k * chunk, c.chunks[k]);
}

namespace {
// Fixed-length, NUL-padded UTF-8 strings (docs/store.md). The design had variable-length strings,
// but HDF5 keeps those in its global heap, which has no checksum: one damaged length there
// crashed HDF5 1.10 inside H5HG_read (SIGSEGV) instead of failing the read. Fixed-length
// strings live in checksummed structures (attributes) or ordinary compressed chunks (ids),
// and h5py reads them as bytes like any string array.
Handle fixed_string_type(std::size_t width) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  if (type < 0 || H5Tset_size(type, std::max<std::size_t>(width, 1)) < 0 ||
      H5Tset_strpad(type, H5T_STR_NULLPAD) < 0 || H5Tset_cset(type, H5T_CSET_UTF8) < 0)
    write_fail("cannot make a string type");
  return type;
}
}  // namespace

namespace {
// Fills [first, first + n) of the string dataset d (width bytes a string), first a multiple
// of its chunk length, one chunk at a time (padded to the width), compressed on `threads`
// threads like the numeric arrays; HDF5's own path would hold a whole chunk as well.
void write_string_chunks(hid_t d, std::size_t width, std::uint64_t first, std::uint64_t n,
                         const std::function<std::string_view(std::uint64_t)>& at, int threads) {
  const std::uint64_t slab = chunk_length_of(d);
  std::vector<char> buf;
  for (std::uint64_t k0 = 0; k0 < n; k0 += slab) {
    const std::uint64_t count = std::min<std::uint64_t>(slab, n - k0);
    buf.assign(count * width, '\0');
    for (std::uint64_t k = 0; k < count; ++k) {
      const std::string_view v = at(k0 + k);
      std::copy(v.begin(), v.end(), buf.begin() + static_cast<std::ptrdiff_t>(k * width));
    }
    write_chunks(d, buf.data(), count, width, threads, first + k0);
  }
}

// Element count and maximum of a 1-d dataset.
std::pair<hsize_t, hsize_t> extent_of(hid_t dset) {
  Handle space(H5Dget_space(dset), H5Sclose);
  hsize_t n = 0, max = 0;
  if (space < 0 || H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &n, &max) < 0)
    write_fail("cannot read a dataset's extent");
  return {n, max};
}

Handle open_dataset(hid_t loc, const std::string& name) {
  Handle d(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (d < 0) write_fail(fmt::format("cannot open dataset '{}'", name));
  return d;
}

// Grows the extensible dataset d by `added` elements of elem bytes and returns the first
// element to write again, the start of its last, partly filled chunk, with that chunk's
// stored elements read into `tail` (as `type`).
std::uint64_t grow(hid_t d, const std::string& name, hid_t type, std::size_t elem, std::uint64_t added,
                   std::vector<unsigned char>& tail) {
  const auto [n, max] = extent_of(d);
  DRIFTREC_ASSERT(max == H5S_UNLIMITED);
  const std::uint64_t chunk = chunk_length_of(d);
  const std::uint64_t start = n / chunk * chunk;
  tail.assign((n - start) * elem, 0);
  if (n > start) {
    // The stored end is read like any read of a store: a damaged chunk is an InputError.
    const ssize_t len = H5Fget_name(d, nullptr, 0);
    std::string file(len > 0 ? static_cast<std::size_t>(len) : 0, '\0');
    if (len > 0) H5Fget_name(d, file.data(), file.size() + 1);
    read_rows(d, name, start, n - start, type, tail.data(), ReadContext{file, std::uint64_t{1} << 40});
  }
  const hsize_t grown = n + added;
  if (H5Dset_extent(d, &grown) < 0) write_fail(fmt::format("cannot extend '{}'", name));
  return start;
}
}  // namespace

void write_strings(hid_t loc, const std::string& name, std::uint64_t n,
                   const std::function<std::string_view(std::uint64_t)>& at, int threads, Extent extent) {
  std::size_t width = 1;
  for (std::uint64_t k = 0; k < n; ++k) width = std::max(width, at(k).size());
  Handle type = fixed_string_type(width);
  Handle d = create_array(loc, name, type, n, extent);
  write_string_chunks(d, width, 0, n, at, threads);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, int threads,
                   Extent extent) {
  write_strings(
      loc, name, values.size(), [&](std::uint64_t i) { return std::string_view(values[i]); }, threads, extent);
}

bool is_extensible(hid_t loc, const std::string& name) {
  return extent_of(open_dataset(loc, name)).second == H5S_UNLIMITED;
}

std::size_t string_width(hid_t loc, const std::string& name) {
  Handle d = open_dataset(loc, name);
  Handle type(H5Dget_type(d), H5Tclose);
  if (type < 0 || H5Tget_class(type) != H5T_STRING || H5Tis_variable_str(type) != 0)
    write_fail(fmt::format("'{}' is not a fixed-length string dataset", name));
  return H5Tget_size(type);
}

bool append_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values, int threads) {
  const std::size_t width = string_width(loc, name);
  for (const std::string& v : values)
    if (v.size() > width) return false;
  if (values.empty()) return true;
  Handle d = open_dataset(loc, name);
  Handle type = fixed_string_type(width);
  std::vector<unsigned char> tail;
  const std::uint64_t start = grow(d, name, type, width, values.size(), tail);
  const std::uint64_t kept = tail.size() / width;
  write_string_chunks(
      d, width, start, kept + values.size(),
      [&](std::uint64_t i) {
        if (i >= kept) return std::string_view(values[i - kept]);
        const char* p = reinterpret_cast<const char*>(tail.data()) + i * width;
        return std::string_view(p, strnlen(p, width));
      },
      threads);
  return true;
}

template <class T>
void append_array(hid_t loc, const std::string& name, std::span<const T> data, int threads) {
  if (data.empty()) return;
  Handle d = open_dataset(loc, name);
  std::vector<unsigned char> tail;
  const std::uint64_t start = grow(d, name, native_type<T>(), sizeof(T), data.size(), tail);
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  tail.insert(tail.end(), bytes, bytes + data.size_bytes());
  write_chunks(d, tail.data(), tail.size() / sizeof(T), sizeof(T), threads, start);
}

template void append_array(hid_t, const std::string&, std::span<const std::int32_t>, int);
template void append_array(hid_t, const std::string&, std::span<const std::int64_t>, int);
template void append_array(hid_t, const std::string&, std::span<const float>, int);

namespace {
void write_scalar_attr(hid_t obj, const std::string& name, hid_t type, const void* value) {
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (a < 0 || H5Awrite(a, type, value) < 0) write_fail(fmt::format("cannot write attribute '{}'", name));
}
}  // namespace

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = fixed_string_type(value.size());
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  write_scalar_attr(obj, name, type, padded.data());
}
void write_attr(hid_t obj, const std::string& name, std::int64_t value) {
  write_scalar_attr(obj, name, H5T_NATIVE_INT64, &value);
}
void write_attr(hid_t obj, const std::string& name, double value) {
  write_scalar_attr(obj, name, H5T_NATIVE_DOUBLE, &value);
}

bool exists(hid_t loc, const std::string& path) {
  // H5Lexists needs every parent to exist; check each prefix.
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix != "/" && H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

Handle open_file(const std::string& path) {
  quiet_errors();
  ReadContext cx{path, 0};
  htri_t is = H5Fis_hdf5(path.c_str());
  if (is == 0) read_fail(cx, "not an HDF5 file (expected a store written by `driftrec ingest`)");
  if (is < 0) read_fail(cx, "cannot open");
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) read_fail(cx, "cannot open as HDF5 (truncated or damaged?)");
  return Handle(f, H5Fclose);
}

Handle open_group(hid_t loc, const std::string& name, const ReadContext& cx) {
  if (!exists(loc, name)) read_fail(cx, fmt::format("missing group '{}' (not a complete driftrec store?)", name));
  hid_t g = H5Gopen2(loc, name.c_str(), H5P_DEFAULT);
  if (g < 0) read_fail(cx, fmt::format("cannot open group '{}'", name));
  return Handle(g, H5Gclose);
}

std::uint64_t array_size(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  Handle space(H5Dget_space(d), H5Sclose);
  hsize_t n = 0;
  if (space < 0 || H5Sget_simple_extent_ndims(space) != 1 || H5Sget_simple_extent_dims(space, &n, nullptr) < 0)
    read_fail(cx, fmt::format("dataset '{}' is not one-dimensional", name));
  return n;
}

template <class T>
std::vector<T> read_range(hid_t loc, const std::string& name, std::uint64_t offset,
                          std::uint64_t count, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  std::uint64_t n = checked_length(d, name, class_of<T>(), sizeof(T), cx);
  if (offset > n || count > n - offset)
    read_fail(cx, fmt::format("dataset '{}' has {} elements, fewer than needed ({})", name, n, offset + count));
  std::vector<T> out(count);
  read_rows(d, name, offset, count, native_type<T>(), out.data(), cx);
  return out;
}

template <class T>
std::vector<T> read_array(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  std::uint64_t n = checked_length(d, name, class_of<T>(), sizeof(T), cx);
  d.reset();
  return read_range<T>(loc, name, 0, n, cx);
}

template std::vector<std::int32_t> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<std::int64_t> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<float> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<double> read_array(hid_t, const std::string&, const ReadContext&);
template std::vector<std::int64_t> read_range(hid_t, const std::string&, std::uint64_t, std::uint64_t, const ReadContext&);
template std::vector<std::int32_t> read_range(hid_t, const std::string&, std::uint64_t, std::uint64_t, const ReadContext&);
template std::vector<float> read_range(hid_t, const std::string&, std::uint64_t, std::uint64_t, const ReadContext&);

namespace {
// The width of a fixed-length string type, or a read failure for anything else.
std::size_t fixed_string_width(hid_t stored, const std::string& what, const ReadContext& cx) {
  if (H5Tget_class(stored) != H5T_STRING || H5Tis_variable_str(stored) != 0)
    read_fail(cx, fmt::format("{} is not a fixed-length string", what));
  std::size_t width = H5Tget_size(stored);
  if (width == 0 || width > (std::size_t{1} << 20)) read_fail(cx, fmt::format("{} has a string width of {} bytes", what, width));
  return width;
}
// Whether attribute a holds exactly one element (a scalar, or a simple space of one point).
bool single_element(hid_t a) {
  Handle space(H5Aget_space(a), H5Sclose);
  return space >= 0 && H5Sget_simple_extent_npoints(space) == 1;
}
std::string unpad(const char* p, std::size_t width) {
  std::size_t n = 0;
  while (n < width && p[n] != '\0') ++n;
  return std::string(p, n);
}
}  // namespace

// Strings are read in slabs of this many, so one long id among millions of short ones costs
// slab x width bytes of memory, not count x width.
constexpr std::uint64_t kStringSlab = 1 << 16;

std::vector<std::string> read_strings(hid_t loc, const std::string& name, const ReadContext& cx) {
  Handle d = open_dataset(loc, name, cx);
  Handle stored(H5Dget_type(d), H5Tclose);
  if (stored < 0) read_fail(cx, fmt::format("cannot read the type of '{}'", name));
  const std::size_t width = fixed_string_width(stored, fmt::format("dataset '{}'", name), cx);
  const std::uint64_t n = checked_length(d, name, H5T_STRING, width, cx);
  std::vector<std::string> out;
  if (n == 0) return out;
  Handle type = fixed_string_type(width);
  std::vector<char> buf;
  out.reserve(n);
  for (std::uint64_t first = 0; first < n; first += kStringSlab) {
    hsize_t start = first, count = std::min<std::uint64_t>(kStringSlab, n - first);
    buf.resize(count * width);
    read_rows(d, name, start, count, type, buf.data(), cx);
    for (std::uint64_t k = 0; k < count; ++k) out.push_back(unpad(buf.data() + k * width, width));
  }
  return out;
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_attr_string(hid_t obj, const std::string& name, const ReadContext& cx) {
  if (!has_attr(obj, name)) read_fail(cx, fmt::format("missing attribute '{}'", name));
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  if (a < 0) read_fail(cx, fmt::format("cannot open attribute '{}'", name));
  Handle stored(H5Aget_type(a), H5Tclose);
  if (stored < 0 || !single_element(a))
    read_fail(cx, fmt::format("attribute '{}' is not a single string", name));
  const std::size_t width = fixed_string_width(stored, fmt::format("attribute '{}'", name), cx);
  std::vector<char> buf(width);
  Handle type = fixed_string_type(width);
  if (H5Aread(a, type, buf.data()) < 0) read_fail(cx, fmt::format("cannot read attribute '{}'", name));
  return unpad(buf.data(), width);
}

std::int64_t read_attr_int(hid_t obj, const std::string& name, const ReadContext& cx) {
  if (!has_attr(obj, name)) read_fail(cx, fmt::format("missing attribute '{}'", name));
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle stored(H5Aget_type(a), H5Tclose);
  std::int64_t v = 0;
  // H5Aread writes every element: an attribute of more than one would overrun v.
  if (a < 0 || stored < 0 || !single_element(a) || H5Tget_class(stored) != H5T_INTEGER ||
      H5Aread(a, H5T_NATIVE_INT64, &v) < 0)
    read_fail(cx, fmt::format("attribute '{}' is not an integer", name));
  return v;
}

double read_attr_double(hid_t obj, const std::string& name, const ReadContext& cx) {
  if (!has_attr(obj, name)) read_fail(cx, fmt::format("missing attribute '{}'", name));
  Handle a(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose);
  Handle stored(H5Aget_type(a), H5Tclose);
  double v = 0;
  if (a < 0 || stored < 0 || !single_element(a) || H5Tget_class(stored) != H5T_FLOAT ||
      H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0)
    read_fail(cx, fmt::format("attribute '{}' is not a number", name));
  return v;
}

}  // namespace driftrec::io::h5
