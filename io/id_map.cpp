#include "io/id_map.hpp"

#include <functional>
#include <limits>

#include <fmt/format.h>

namespace driftrec::io {

IdMap::IdMap() : slots_(1024, -1) {}

std::uint64_t IdMap::hash(std::string_view key) const {
  // libstdc++'s string hash (murmur-style) mixed once more so low bits are usable
  // as a slot index.
  std::uint64_t h = std::hash<std::string_view>{}(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

Index IdMap::find(std::string_view key) const {
  const std::uint64_t h = hash(key);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t s = h & mask;; s = (s + 1) & mask) {
    Index id = slots_[s];
    if (id < 0) return -1;
    if (hashes_[id] == h && name(id) == key) return id;
  }
}

Index IdMap::find_or_add(std::string_view key) {
  const std::uint64_t h = hash(key);
  std::size_t mask = slots_.size() - 1;
  std::size_t s = h & mask;
  for (;; s = (s + 1) & mask) {
    Index id = slots_[s];
    if (id < 0) break;
    if (hashes_[id] == h && name(id) == key) return id;
  }
  if (hashes_.size() >= static_cast<std::size_t>(std::numeric_limits<Index>::max()))
    throw InputError(fmt::format("more than {} distinct ids; driftrec indexes with 32 bits",
                                 std::numeric_limits<Index>::max()));
  const auto id = static_cast<Index>(hashes_.size());
  hashes_.push_back(h);
  arena_.append(key);
  offsets_.push_back(arena_.size());
  slots_[s] = id;
  if (hashes_.size() * 2 > slots_.size()) grow();  // load factor at most 1/2
  return id;
}

void IdMap::grow() {
  std::vector<Index> bigger(slots_.size() * 2, -1);
  const std::size_t mask = bigger.size() - 1;
  for (std::size_t id = 0; id < hashes_.size(); ++id) {
    std::size_t s = hashes_[id] & mask;
    while (bigger[s] >= 0) s = (s + 1) & mask;
    bigger[s] = static_cast<Index>(id);
  }
  slots_.swap(bigger);
}

std::vector<std::string> IdMap::names() const {
  std::vector<std::string> out;
  out.reserve(hashes_.size());
  for (Index i = 0; i < size(); ++i) out.emplace_back(name(i));
  return out;
}

IdMap IdMap::from_names(const std::vector<std::string>& names) {
  IdMap m;
  for (const auto& n : names) {
    Index before = m.size();
    if (m.find_or_add(n) != before)
      throw InputError(fmt::format("id '{}' appears twice in an id list", n));
  }
  return m;
}

}  // namespace driftrec::io
