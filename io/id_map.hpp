// External string ids -> dense int32 indices in order of first appearance.
// An open-addressing table over one string arena: std::unordered_map<std::string, ...>
// allocates a node and a string per id and made id lookup the slowest step of ingest.
// Here each 16-byte slot holds the id and, for keys of up to 11 bytes (nearly every id in
// real logs), the key itself, so a lookup touches one cache line; longer keys keep a hash
// tag in the slot and are compared against the arena.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::io {

using graph::Index;

class IdMap {
 public:
  IdMap();
  // The index of `key`, adding it if new. Throws InputError past 2^31 - 1 ids.
  Index find_or_add(std::string_view key) { return find_or_add(key, hash(key)); }
  // The same with the key's hash(), computed earlier (see prefetch).
  Index find_or_add(std::string_view key, std::uint64_t h);
  static std::uint64_t hash(std::string_view key);
  // Starts loading the slot where a key with hash h would sit. Readers hash a batch of
  // keys, prefetch them all, then look them up: the cache misses of random ids overlap
  // instead of queueing (the table of a large log does not fit in cache).
  void prefetch(std::uint64_t h) const { __builtin_prefetch(&slots_[h & (slots_.size() - 1)]); }
  // The index of `key`, or -1.
  Index find(std::string_view key) const;
  Index size() const { return static_cast<Index>(hashes_.size()); }
  std::string_view name(Index i) const {
    return std::string_view(arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  std::vector<std::string> names() const;
  static IdMap from_names(const std::vector<std::string>& names);  // throws on duplicates

 private:
  struct Slot {
    std::uint64_t lo;  // key bytes 0..7, or the hash for long keys
    std::uint32_t hi;  // key bytes 8..10 and the length (0xFF: long key)
    Index id;          // -1: empty
  };
  static Slot pack(std::string_view key, std::uint64_t h);
  void grow();
  std::string arena_;
  std::vector<std::uint64_t> offsets_{0};
  std::vector<std::uint64_t> hashes_;  // per id, for rehashing
  std::vector<Slot> slots_;            // size is a power of two
};

// A column of ids held in memory (the Python module's arrays): integers, which become the
// decimal strings a log would hold (42 -> "42"), or borrowed strings.
struct IdColumn {
  std::span<const std::int64_t> integers;  // used when is_integer
  std::vector<std::string_view> strings;
  bool is_integer = false;

  std::size_t size() const { return is_integer ? integers.size() : strings.size(); }
  // Row `row` as text; an integer is formatted into `scratch`, which the view then borrows.
  std::string_view at(std::size_t row, std::string& scratch) const;
};

}  // namespace driftrec::io
