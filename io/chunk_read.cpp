#include "io/chunk_read.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"

namespace driftrec::io::h5 {
namespace {

[[noreturn]] void fail(const ReadContext& cx, const std::string& name, const std::string& what) {
  throw InputError(fmt::format("{}: dataset '{}' {}", cx.file, name, what));
}

// The chunked layout this reader handles: chunks of whole rows, deflate last in the
// pipeline, shuffle (of `shuffle_size`-byte elements) before it or nothing.
struct Pipeline {
  std::uint64_t chunk_rows = 0;
  int shuffle_index = -1, deflate_index = -1;
  std::size_t shuffle_size = 0;
};

// The dataset's pipeline when it is one this reader decodes, else nothing (H5Dread reads it).
std::optional<Pipeline> own_pipeline(hid_t d, int rank, const hsize_t* dims) {
  Handle dcpl(H5Dget_create_plist(d), H5Pclose);
  if (dcpl < 0 || H5Pget_layout(dcpl) != H5D_CHUNKED) return std::nullopt;
  unsigned opts = 0;
  if (H5Pget_chunk_opts(dcpl, &opts) < 0 || (opts & H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS) != 0) return std::nullopt;
  hsize_t chunk[2] = {0, 0};
  if (H5Pget_chunk(dcpl, 2, chunk) != rank || chunk[0] == 0 || (rank == 2 && chunk[1] != dims[1])) return std::nullopt;
  Pipeline p;
  p.chunk_rows = chunk[0];
  const int n = H5Pget_nfilters(dcpl);
  if (n < 1 || n > 2) return std::nullopt;
  for (int k = 0; k < n; ++k) {
    unsigned flags = 0, cd[4] = {0, 0, 0, 0};
    std::size_t cd_n = 4;
    const H5Z_filter_t id = H5Pget_filter2(dcpl, static_cast<unsigned>(k), &flags, &cd_n, cd, 0, nullptr, nullptr);
    if (id == H5Z_FILTER_SHUFFLE && k == 0 && n == 2 && cd_n >= 1 && cd[0] >= 1) {
      p.shuffle_index = k;
      p.shuffle_size = cd[0];
    } else if (id == H5Z_FILTER_DEFLATE && k == n - 1) {
      p.deflate_index = k;
    } else {
      return std::nullopt;
    }
  }
  return p;
}

// HDF5's shuffle filter undone: byte j of element i was at j * n + i (n elements of
// `size` bytes); bytes past the last whole element were left in place.
void unshuffle(const unsigned char* in, std::size_t bytes, std::size_t size, unsigned char* out) {
  const std::size_t n = bytes / size;
  for (std::size_t j = 0; j < size; ++j) {
    const unsigned char* plane = in + j * n;
    for (std::size_t i = 0; i < n; ++i) out[i * size + j] = plane[i];
  }
  std::memcpy(out + n * size, in + n * size, bytes - n * size);
}

struct DecompressorFree {
  void operator()(libdeflate_decompressor* p) const { libdeflate_free_decompressor(p); }
};

void read_all(hid_t d, const std::string& name, int rank, std::uint64_t first, std::uint64_t count,
              std::uint64_t cols, hid_t mem_type, void* out, const ReadContext& cx) {
  hsize_t start[2] = {first, 0}, cnt[2] = {count, cols};
  Handle file_space(H5Dget_space(d), H5Sclose);
  Handle mem_space(H5Screate_simple(rank, cnt, nullptr), H5Sclose);
  if (file_space < 0 || mem_space < 0 ||
      H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, cnt, nullptr) < 0 ||
      H5Dread(d, mem_type, mem_space, file_space, H5P_DEFAULT, out) < 0)
    fail(cx, name, "cannot be read (damaged?)");
}

}  // namespace

void read_rows(hid_t d, const std::string& name, std::uint64_t first, std::uint64_t count, hid_t mem_type, void* out,
               const ReadContext& cx) {
  if (count == 0) return;
  Handle space(H5Dget_space(d), H5Sclose);
  const int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
  hsize_t dims[2] = {0, 0};
  if ((rank != 1 && rank != 2) || H5Sget_simple_extent_dims(space, dims, nullptr) < 0)
    fail(cx, name, "is not a 1-d or 2-d array");
  const std::uint64_t row_elems = rank == 2 ? dims[1] : 1;
  if (row_elems == 0) return;  // rows of no columns
  const std::optional<Pipeline> p = own_pipeline(d, rank, dims);
  if (!p) return read_all(d, name, rank, first, count, row_elems, mem_type, out, cx);

  Handle file_type(H5Dget_type(d), H5Tclose);
  if (file_type < 0) fail(cx, name, "has an unreadable type");
  const std::size_t fsize = H5Tget_size(file_type), msize = H5Tget_size(mem_type);
  const std::uint64_t row_bytes = row_elems * fsize;
  if (fsize == 0 || p->chunk_rows > cx.max_bytes / row_bytes)
    fail(cx, name, fmt::format("claims chunks of {} rows of {} bytes (corrupt?)", p->chunk_rows, row_bytes));
  const std::uint64_t chunk_bytes = p->chunk_rows * row_bytes;
  // Deflate never grows data by more than a few bytes per 64 KiB; a chunk that deflate
  // does not shrink is stored raw. So more than this is a damaged chunk index.
  const std::uint64_t max_stored = chunk_bytes + chunk_bytes / 16 + 1024;

  // Rows are decoded as the file stores them, straight into `out` when that is the type
  // asked for, else into `staged` (room for either type) and converted at the end.
  const bool same = H5Tequal(file_type, mem_type) > 0;
  std::vector<unsigned char> staged;
  if (!same) staged.resize(count * row_elems * std::max(fsize, msize));
  unsigned char* rows = same ? static_cast<unsigned char*>(out) : staged.data();

  static thread_local std::unique_ptr<libdeflate_decompressor, DecompressorFree> inflater(
      libdeflate_alloc_decompressor());
  if (!inflater) throw std::bad_alloc();
  std::vector<unsigned char> stored, inflated, unshuffled;
  const std::uint64_t last = first + count;
  for (std::uint64_t c = first / p->chunk_rows; c * p->chunk_rows < last; ++c) {
    const std::uint64_t begin = c * p->chunk_rows;
    hsize_t offset[2] = {begin, 0};
    hsize_t n_stored = 0;
    if (H5Dget_chunk_storage_size(d, offset, &n_stored) < 0 || n_stored == 0)
      fail(cx, name, fmt::format("has no chunk at row {} (damaged?)", begin));
    if (n_stored > max_stored)
      fail(cx, name, fmt::format("stores {} bytes for the chunk at row {}, more than a chunk of {} bytes can take "
                                 "(damaged?)", n_stored, begin, chunk_bytes));
    stored.resize(n_stored);
    std::uint32_t skipped = 0;
    if (H5Dread_chunk(d, H5P_DEFAULT, offset, &skipped, stored.data()) < 0)
      fail(cx, name, fmt::format("cannot read the chunk at row {} (damaged?)", begin));
    const unsigned char* bytes = stored.data();
    if ((skipped >> p->deflate_index & 1u) == 0) {
      inflated.resize(chunk_bytes);
      // No actual-size argument: libdeflate then fails unless the output fills exactly.
      const libdeflate_result r =
          libdeflate_zlib_decompress(inflater.get(), stored.data(), n_stored, inflated.data(), chunk_bytes, nullptr);
      if (r != LIBDEFLATE_SUCCESS)
        fail(cx, name, fmt::format("has a chunk at row {} that does not inflate to its {} bytes ({}; damaged?)", begin,
                                   chunk_bytes,
                                   r == LIBDEFLATE_SHORT_OUTPUT         ? "too short"
                                   : r == LIBDEFLATE_INSUFFICIENT_SPACE ? "too long"
                                                                        : "not a zlib stream"));
      bytes = inflated.data();
    } else if (n_stored != chunk_bytes) {
      fail(cx, name, fmt::format("has an uncompressed chunk at row {} of {} bytes, expected {} (damaged?)", begin,
                                 n_stored, chunk_bytes));
    }
    if (p->shuffle_index >= 0 && (skipped >> p->shuffle_index & 1u) == 0) {
      unshuffled.resize(chunk_bytes);
      unshuffle(bytes, chunk_bytes, p->shuffle_size, unshuffled.data());
      bytes = unshuffled.data();
    }
    const std::uint64_t from = std::max(first, begin), to = std::min(last, begin + p->chunk_rows);
    std::memcpy(rows + (from - first) * row_bytes, bytes + (from - begin) * row_bytes, (to - from) * row_bytes);
  }
  if (!same) {
    if (H5Tconvert(file_type, mem_type, count * row_elems, staged.data(), nullptr, H5P_DEFAULT) < 0)
      fail(cx, name, "cannot be converted to the type read");
    std::memcpy(out, staged.data(), count * row_elems * msize);
  }
}

}  // namespace driftrec::io::h5
