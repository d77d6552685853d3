// Internal to io/. Reading a store's chunked, compressed datasets without HDF5's filter
// pipeline: HDF5 1.10 inflates a chunk into a buffer and then copies a whole chunk's bytes
// out of it, however short the inflated data was, so a damaged chunk holding a valid but
// shorter zlib stream made it read past its buffer (found by fuzz_store_reader; valgrind
// shows the read in H5VM_memcpyvv). Here each chunk is read raw (H5Dread_chunk) and
// inflated with libdeflate into exactly the chunk's size; a chunk that inflates to any
// other size, or not at all, is an InputError naming the dataset and the chunk.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>

#include "io/h5_handle.hpp"

namespace driftrec::io::h5 {

// Reads rows [first, first + count) of the 1-d or 2-d dataset d into out, as mem_type
// (a row: one element, or one row of every column; out holds count rows of mem_type,
// row-major). The caller has checked that the rows exist. Chunked datasets whose
// pipeline is deflate, optionally after shuffle (what driftrec writes), with chunks of
// whole rows, are read chunk by chunk as above and converted with H5Tconvert when the
// file's type differs from mem_type; any other layout or pipeline is read by H5Dread.
// Throws InputError ("<file>: dataset '<name>' ...") on failure.
void read_rows(hid_t d, const std::string& name, std::uint64_t first, std::uint64_t count, hid_t mem_type, void* out,
               const ReadContext& cx);

}  // namespace driftrec::io::h5
