// External string ids -> dense int32 indices in order of first appearance.
// An open-addressing table over one string arena: std::unordered_map<std::string, ...>
// allocates a node and a string per id and made id lookup the slowest step of ingest.
// Here each 16-byte slot holds the id and, for keys of up to 11 bytes (nearly every id in
// real logs), the key itself, so a lookup touches one cache line; longer keys keep their
// hash in the slot and are compared against the arena.
//
// Logs mostly number their ids ("u123", "i77", "42"). An id that is the map's first id's
// leading non-digits followed by a decimal number below kDenseIds (numbered_id below) is
// looked up by that number in a plain array instead: 4 bytes per number up to the largest
// met, where the table takes 32-64 bytes per id at its load factor of 1/4 to 1/2. Which
// of the two holds a key depends only on the key and the first id, so no key is in both.
// Ingest's maps (alive at its peak) for the 10^7-event bench log: about 15 MB, not 42 MB.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::io {

using graph::Index;

// Numbers below this are looked up in IdMap's (and PartIds') array: at most 16 MB.
inline constexpr std::uint32_t kDenseIds = 1u << 22;

// True when `id` is `prefix` followed by a decimal number below kDenseIds without leading
// zeros ("u7", not "u007"), which goes in `number`.
bool numbered_id(std::string_view id, std::string_view prefix, std::uint32_t& number);

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
  Index size() const { return static_cast<Index>(offsets_.size() - 1); }
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
  static std::uint64_t slot_hash(const Slot& x);  // the hash of the key x holds
  Index add(std::string_view key);
  void grow();
  std::string arena_;
  std::vector<std::uint64_t> offsets_{0};
  std::vector<Slot> slots_;    // the other keys; size is a power of two
  std::size_t in_slots_ = 0;   // keys in slots_
  bool have_prefix_ = false;   // prefix_ is set (by the first key)
  std::string prefix_;
  std::vector<Index> dense_;   // number -> index of a numbered key, -1: none
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
