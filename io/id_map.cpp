#include "io/id_map.hpp"

#include <cstring>
#include <functional>
#include <limits>

#include <fmt/format.h>

namespace driftrec::io {
namespace {
constexpr std::uint32_t kLongKey = 0xFF;
}  // namespace

std::uint64_t IdMap::hash(std::string_view key) {
  // libstdc++'s string hash (murmur-style), mixed once more so the low bits can index slots.
  std::uint64_t h = std::hash<std::string_view>{}(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

IdMap::IdMap() : slots_(1024, Slot{0, 0, -1}) {}

IdMap::Slot IdMap::pack(std::string_view key, std::uint64_t h) {
  Slot s{0, 0, -1};
  if (key.size() <= 11) {
    char buf[12] = {};
    std::memcpy(buf, key.data(), key.size());
    std::memcpy(&s.lo, buf, 8);
    std::memcpy(&s.hi, buf + 8, 4);  // byte 11 is zero: the length goes in the top byte
    s.hi |= static_cast<std::uint32_t>(key.size()) << 24;
  } else {
    s.lo = h;
    s.hi = kLongKey << 24;
  }
  return s;
}

Index IdMap::find(std::string_view key) const {
  const std::uint64_t h = hash(key);
  const Slot want = pack(key, h);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t s = h & mask;; s = (s + 1) & mask) {
    const Slot& x = slots_[s];
    if (x.id < 0) return -1;
    if (x.lo == want.lo && x.hi == want.hi && (key.size() <= 11 || name(x.id) == key)) return x.id;
  }
}

Index IdMap::find_or_add(std::string_view key, const std::uint64_t h) {
  const Slot want = pack(key, h);
  const std::size_t mask = slots_.size() - 1;
  std::size_t s = h & mask;
  for (;; s = (s + 1) & mask) {
    const Slot& x = slots_[s];
    if (x.id < 0) break;
    if (x.lo == want.lo && x.hi == want.hi && (key.size() <= 11 || name(x.id) == key)) return x.id;
  }
  if (hashes_.size() >= static_cast<std::size_t>(std::numeric_limits<Index>::max()))
    throw InputError(fmt::format("more than {} distinct ids; driftrec indexes with 32 bits",
                                 std::numeric_limits<Index>::max()));
  const auto id = static_cast<Index>(hashes_.size());
  hashes_.push_back(h);
  arena_.append(key);
  offsets_.push_back(arena_.size());
  slots_[s] = want;
  slots_[s].id = id;
  if (hashes_.size() * 2 > slots_.size()) grow();  // load factor at most 1/2
  return id;
}

void IdMap::grow() {
  std::vector<Slot> bigger(slots_.size() * 2, Slot{0, 0, -1});
  const std::size_t mask = bigger.size() - 1;
  for (const Slot& x : slots_) {
    if (x.id < 0) continue;
    std::size_t s = hashes_[static_cast<std::size_t>(x.id)] & mask;
    while (bigger[s].id >= 0) s = (s + 1) & mask;
    bigger[s] = x;
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

std::string_view IdColumn::at(std::size_t row, std::string& scratch) const {
  if (!is_integer) return strings[row];
  scratch = fmt::format_int(integers[row]).str();
  return scratch;
}

}  // namespace driftrec::io
