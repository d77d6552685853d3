// A zlib-format compressor for the chunks of the store: HDF5's shuffle filter has cut each
// chunk into byte planes (byte j of every element, then byte j + 1, ...), and the planes
// of numeric columns are of three kinds: near-random (the low bytes of ids and times),
// skewed (the high bytes of ids: a few values), and long runs (zero high bytes, sorted
// times, constant values). A general deflate (libdeflate level 1) spends most of its time
// looking for matches that only the runs have. Here each plane is one deflate block:
// runs become distance-1 matches (zlib's Z_RLE), the rest Huffman-coded literals with the
// plane's own code, and a plane that coding would not shrink is a stored block (a copy).
// The output is an ordinary zlib stream (RFC 1950/1951) that HDF5's deflate filter, zlib
// and libdeflate read; it is a function of the input bytes alone, so chunks compressed on
// any number of threads give the same file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace driftrec::io {

class PlaneDeflater {
 public:
  // Compresses `planes` planes of `plane_bytes` bytes each, contiguous in `in`, into `out`
  // (resized to the stream's length) and returns that length. The stream is never longer
  // than stored_bound(planes * plane_bytes).
  std::size_t compress(const unsigned char* in, std::size_t plane_bytes, std::size_t planes,
                       std::vector<unsigned char>& out);

  // The length of `bytes` stored uncompressed in zlib format (2-byte header, a 5-byte header
  // per stored block of at most 65535 bytes, 4-byte Adler-32), plus the per-plane slack.
  static std::size_t stored_bound(std::size_t bytes, std::size_t planes);

 private:
  std::vector<std::uint16_t> tokens_;  // a plane's literals (< 256) and run lengths (256 + length)
};

}  // namespace driftrec::io
