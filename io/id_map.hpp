// External string ids -> dense int32 indices in order of first appearance.
// An open-addressing table over one string arena: std::unordered_map<std::string, ...>
// allocates a node and a string per id and made id lookup the slowest step of ingest;
// here a lookup is one hash, one probe sequence over int32 slots and one memcmp.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::io {

using graph::Index;
using graph::InputError;

class IdMap {
 public:
  IdMap();
  // The index of `key`, adding it if new. Throws InputError past 2^31 - 1 ids.
  Index find_or_add(std::string_view key);
  // The index of `key`, or -1.
  Index find(std::string_view key) const;
  Index size() const { return static_cast<Index>(hashes_.size()); }
  std::string_view name(Index i) const {
    return std::string_view(arena_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }
  std::vector<std::string> names() const;
  static IdMap from_names(const std::vector<std::string>& names);  // throws on duplicates

 private:
  void grow();
  std::uint64_t hash(std::string_view key) const;
  std::string arena_;
  std::vector<std::uint64_t> offsets_{0};
  std::vector<std::uint64_t> hashes_;  // per id, for rehashing and cheap mismatch checks
  std::vector<Index> slots_;           // -1: empty; size is a power of two
};

}  // namespace driftrec::io
