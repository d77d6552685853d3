// PlaneDeflater: one deflate block per byte plane (RFC 1951), in a zlib wrapper (RFC 1950).
// Per plane: the bytes are cut into literals and runs (a byte repeated 3 to 258 times after
// itself is a match at distance 1, as zlib's Z_RLE strategy does), the plane's Huffman code
// is built from its counts, limited to 15 bits, and the block is written with that code if
// its exact length in bits is below that of the plane stored as it is; else stored blocks.
#include "io/plane_deflate.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <queue>

#include "core/error.hpp"

namespace driftrec::io {
namespace {

constexpr int kLitLenSymbols = 286;  // 0-255 literals, 256 end of block, 257-285 lengths
constexpr int kEndOfBlock = 256;
constexpr int kMaxCodeBits = 15;
constexpr int kMaxCodeLengthBits = 7;
constexpr std::size_t kMaxStored = 65535;
constexpr std::size_t kMinRun = 3, kMaxRun = 258;

constexpr std::array<std::uint16_t, 29> kLengthBase = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,  15,  17,  19,  23, 27,
                                                       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::array<std::uint8_t, 29> kLengthExtra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
// The order the code-length code's lengths are sent in.
constexpr std::array<std::uint8_t, 19> kCodeLengthOrder = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// The length symbol (index into kLengthBase) of each run length 3..258.
struct LengthTable {
  std::array<std::uint8_t, kMaxRun + 1> code{};
  constexpr LengthTable() {
    int c = 0;
    for (std::size_t len = kMinRun; len <= kMaxRun; ++len) {
      while (c + 1 < 29 && kLengthBase[static_cast<std::size_t>(c) + 1] <= len) ++c;
      code[len] = static_cast<std::uint8_t>(c);
    }
  }
};
constexpr LengthTable kLengthCode;

// Huffman code lengths for `freq` (n symbols) of at most `limit` bits. The code is always
// complete (inflaters refuse an incomplete one): a lone used symbol gets a partner of
// length 1. Where the tree is too deep, counts are halved (kept above 0) and it is rebuilt.
void huffman_lengths(const std::uint32_t* freq, int n, int limit, std::uint8_t* len) {
  std::fill(len, len + n, std::uint8_t{0});
  std::vector<int> used;
  for (int s = 0; s < n; ++s)
    if (freq[s] > 0) used.push_back(s);
  if (used.empty()) return;
  if (used.size() == 1) {
    len[used[0]] = 1;
    len[used[0] == 0 ? 1 : 0] = 1;
    return;
  }
  std::vector<std::uint64_t> w(used.size());
  for (std::size_t k = 0; k < used.size(); ++k) w[k] = freq[used[k]];
  const std::size_t m = used.size();
  std::vector<int> parent(2 * m - 1);
  std::vector<int> depth(2 * m - 1);
  for (;;) {
    // (weight, node) pairs, the lighter first; ties by node number, so the result is fixed.
    using Node = std::pair<std::uint64_t, int>;
    std::priority_queue<Node, std::vector<Node>, std::greater<>> heap;
    for (std::size_t k = 0; k < m; ++k) heap.push({w[k], static_cast<int>(k)});
    int next = static_cast<int>(m);
    while (heap.size() > 1) {
      const Node a = heap.top();
      heap.pop();
      const Node b = heap.top();
      heap.pop();
      parent[static_cast<std::size_t>(a.second)] = parent[static_cast<std::size_t>(b.second)] = next;
      heap.push({a.first + b.first, next++});
    }
    const int root = next - 1;
    depth[static_cast<std::size_t>(root)] = 0;
    int deepest = 0;
    for (int v = root - 1; v >= 0; --v) {  // parents are numbered above their children
      depth[static_cast<std::size_t>(v)] = depth[static_cast<std::size_t>(parent[static_cast<std::size_t>(v)])] + 1;
      if (v < static_cast<int>(m)) deepest = std::max(deepest, depth[static_cast<std::size_t>(v)]);
    }
    if (deepest <= limit) break;
    for (auto& x : w) x = std::max<std::uint64_t>(1, x / 2);
  }
  for (std::size_t k = 0; k < m; ++k) len[used[k]] = static_cast<std::uint8_t>(depth[k]);
}

// Canonical codes (RFC 1951 3.2.2), bit-reversed: deflate sends a code's first bit first,
// and the bit writer fills bytes from their low bit.
void canonical_codes(const std::uint8_t* len, int n, std::uint16_t* code) {
  std::array<int, kMaxCodeBits + 1> count{};
  for (int s = 0; s < n; ++s) ++count[len[s]];
  count[0] = 0;
  std::array<int, kMaxCodeBits + 2> next{};
  int c = 0;
  for (int bits = 1; bits <= kMaxCodeBits; ++bits) {
    c = (c + count[static_cast<std::size_t>(bits) - 1]) << 1;
    next[static_cast<std::size_t>(bits)] = c;
  }
  for (int s = 0; s < n; ++s) {
    const int l = len[s];
    if (l == 0) continue;
    int v = next[static_cast<std::size_t>(l)]++, r = 0;
    for (int b = 0; b < l; ++b, v >>= 1) r = (r << 1) | (v & 1);
    code[s] = static_cast<std::uint16_t>(r);
  }
}

class BitWriter {
 public:
  explicit BitWriter(unsigned char* at) : at_(at) {}
  // count <= 32 bits; the buffer has 8 bytes of slack past the stream's end.
  void put(std::uint32_t bits, int count) {
    acc_ |= static_cast<std::uint64_t>(bits) << n_;
    n_ += count;
    if (n_ >= 32) {
      const auto low = static_cast<std::uint32_t>(acc_);
      for (int b = 0; b < 4; ++b) *at_++ = static_cast<unsigned char>(low >> (8 * b));
      acc_ >>= 32;
      n_ -= 32;
    }
  }
  void align() {
    while (n_ > 0) {
      *at_++ = static_cast<unsigned char>(acc_);
      acc_ >>= 8;
      n_ = std::max(0, n_ - 8);
    }
    acc_ = 0;
  }
  void bytes(const unsigned char* p, std::size_t n) {  // after align()
    if (n > 0) std::memcpy(at_, p, n);
    at_ += n;
  }
  unsigned char* at() const { return at_; }

 private:
  unsigned char* at_;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

void put_stored(BitWriter& w, const unsigned char* p, std::size_t n, bool final) {
  std::size_t done = 0;
  do {
    const std::size_t len = std::min(kMaxStored, n - done);
    const bool last = final && done + len == n;
    w.put(last ? 1u : 0u, 3);  // BTYPE 00
    w.align();
    const unsigned char head[4] = {static_cast<unsigned char>(len), static_cast<unsigned char>(len >> 8),
                                   static_cast<unsigned char>(~len), static_cast<unsigned char>(~len >> 8)};
    w.bytes(head, 4);
    w.bytes(p + done, len);
    done += len;
  } while (done < n);
}

std::uint64_t stored_bits(std::size_t n) {
  const std::size_t blocks = std::max<std::size_t>(1, (n + kMaxStored - 1) / kMaxStored);
  return 8 * static_cast<std::uint64_t>(n) + blocks * (3 + 7 + 32);
}

// The code-length sequence of a dynamic block header: lengths 0-15 as they are, runs of
// 3-138 zeros as symbols 17 and 18 (with their repeat counts in `extra`).
struct HeaderCodes {
  std::vector<std::uint8_t> sym, extra;
  std::array<std::uint32_t, 19> freq{};
  void add(const std::uint8_t* len, int n) {
    for (int k = 0; k < n;) {
      if (len[k] != 0) {
        push(len[k], 0);
        ++k;
        continue;
      }
      int run = 1;
      while (k + run < n && len[k + run] == 0 && run < 138) ++run;
      if (run < 3) {
        for (int r = 0; r < run; ++r) push(0, 0);
      } else if (run <= 10) {
        push(17, static_cast<std::uint8_t>(run - 3));
      } else {
        push(18, static_cast<std::uint8_t>(run - 11));
      }
      k += run;
    }
  }
  void push(std::uint8_t s, std::uint8_t x) {
    sym.push_back(s);
    extra.push_back(x);
    ++freq[s];
  }
};

constexpr int extra_bits_of_code_length(int s) { return s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0; }

}  // namespace

std::size_t PlaneDeflater::stored_bound(std::size_t bytes, std::size_t planes) {
  // Each stored block costs at most 3 + 7 + 32 bits besides its bytes; a coded block is
  // written only when shorter than the plane stored.
  return 2 + 4 + bytes + 6 * (bytes / kMaxStored + planes + 1) + 1;
}

std::size_t PlaneDeflater::compress(const unsigned char* in, std::size_t plane_bytes, std::size_t planes,
                                    std::vector<unsigned char>& out) {
  const std::size_t total = plane_bytes * planes;
  out.resize(stored_bound(total, planes) + 8);
  out[0] = 0x78;  // deflate, 32 KiB window
  out[1] = 0x01;  // fastest; (0x78 << 8 | 0x01) % 31 == 0
  BitWriter w(out.data() + 2);
  if (total == 0) put_stored(w, in, 0, true);

  std::array<std::uint32_t, kLitLenSymbols> freq{};
  std::array<std::uint8_t, kLitLenSymbols> len{};
  std::array<std::uint16_t, kLitLenSymbols> code{};
  for (std::size_t p = 0; p < planes && total > 0; ++p) {
    const std::size_t begin = p * plane_bytes, end = begin + plane_bytes;
    const bool final = p + 1 == planes;
    // Literals and runs; a run repeats the byte before it, which may end the previous plane.
    tokens_.resize(plane_bytes);
    std::size_t n_tokens = 0;
    freq.fill(0);
    for (std::size_t i = begin; i < end;) {
      const unsigned char b = in[i];
      if (i > 0 && i + kMinRun <= end && in[i - 1] == b && in[i + 1] == b && in[i + 2] == b) {
        std::size_t run = kMinRun;
        const std::size_t stop = std::min(end - i, kMaxRun);
        while (run < stop && in[i + run] == b) ++run;
        tokens_[n_tokens++] = static_cast<std::uint16_t>(256 + run);
        ++freq[257 + static_cast<std::size_t>(kLengthCode.code[run])];
        i += run;
      } else {
        tokens_[n_tokens++] = b;
        ++freq[b];
        ++i;
      }
    }
    freq[kEndOfBlock] = 1;
    huffman_lengths(freq.data(), kLitLenSymbols, kMaxCodeBits, len.data());
    int hlit = kLitLenSymbols;
    while (hlit > 257 && len[static_cast<std::size_t>(hlit) - 1] == 0) --hlit;
    // Distances: only distance 1 (code 0) is used; codes 0 and 1 of one bit each keep the
    // distance code complete.
    const std::uint8_t dist_len[2] = {1, 1};
    std::vector<std::uint8_t> all(len.begin(), len.begin() + hlit);
    all.insert(all.end(), dist_len, dist_len + 2);
    HeaderCodes header;
    header.add(all.data(), static_cast<int>(all.size()));
    std::array<std::uint8_t, 19> cl_len{};
    std::array<std::uint16_t, 19> cl_code{};
    huffman_lengths(header.freq.data(), 19, kMaxCodeLengthBits, cl_len.data());
    canonical_codes(cl_len.data(), 19, cl_code.data());
    int hclen = 19;
    while (hclen > 4 && cl_len[kCodeLengthOrder[static_cast<std::size_t>(hclen) - 1]] == 0) --hclen;

    std::uint64_t bits = 3 + 5 + 5 + 4 + 3 * static_cast<std::uint64_t>(hclen);
    for (std::size_t k = 0; k < header.sym.size(); ++k)
      bits += cl_len[header.sym[k]] + static_cast<std::uint64_t>(extra_bits_of_code_length(header.sym[k]));
    for (int s = 0; s < kLitLenSymbols; ++s) {
      std::uint64_t per = len[static_cast<std::size_t>(s)];
      if (s > kEndOfBlock) per += kLengthExtra[static_cast<std::size_t>(s) - 257] + 1;  // + the 1-bit distance
      bits += per * freq[static_cast<std::size_t>(s)];
    }
    if (bits >= stored_bits(plane_bytes)) {
      put_stored(w, in + begin, plane_bytes, final);
      continue;
    }

    canonical_codes(len.data(), kLitLenSymbols, code.data());
    w.put(final ? 1u : 0u, 1);
    w.put(2, 2);  // BTYPE 10: dynamic Huffman codes
    w.put(static_cast<std::uint32_t>(hlit - 257), 5);
    w.put(2 - 1, 5);
    w.put(static_cast<std::uint32_t>(hclen - 4), 4);
    for (int k = 0; k < hclen; ++k) w.put(cl_len[kCodeLengthOrder[static_cast<std::size_t>(k)]], 3);
    for (std::size_t k = 0; k < header.sym.size(); ++k) {
      const int s = header.sym[k];
      w.put(cl_code[static_cast<std::size_t>(s)], cl_len[static_cast<std::size_t>(s)]);
      if (const int x = extra_bits_of_code_length(s)) w.put(header.extra[k], x);
    }
    for (std::size_t k = 0; k < n_tokens; ++k) {
      const std::uint16_t t = tokens_[k];
      if (t < 256) {
        w.put(code[t], len[t]);
        continue;
      }
      const std::size_t run = t - 256u;
      const std::size_t c = kLengthCode.code[run];
      const std::size_t s = 257 + c;
      // The length's code, its extra bits, then distance code 0 (one 0 bit).
      w.put(static_cast<std::uint32_t>(code[s]) | static_cast<std::uint32_t>(run - kLengthBase[c]) << len[s],
            len[s] + kLengthExtra[c] + 1);
    }
    w.put(code[kEndOfBlock], len[kEndOfBlock]);
  }
  w.align();
  const std::uint32_t adler = libdeflate_adler32(1, in, total);
  unsigned char* at = w.at();
  for (int b = 3; b >= 0; --b) *at++ = static_cast<unsigned char>(adler >> (8 * b));
  const auto size = static_cast<std::size_t>(at - out.data());
  DRIFTREC_ASSERT(size <= stored_bound(total, planes));
  out.resize(size);
  return size;
}

}  // namespace driftrec::io
