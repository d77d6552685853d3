#include "io/id_map.hpp"

#include <algorithm>
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

bool numbered_id(std::string_view id, std::string_view prefix, std::uint32_t& number) {
  if (id.size() <= prefix.size() || id.size() > prefix.size() + 7 || !id.starts_with(prefix)) return false;
  const std::string_view digits = id.substr(prefix.size());
  if (digits.size() > 1 && digits[0] == '0') return false;  // "u007" is not "u7"
  std::uint32_t n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  if (n >= kDenseIds) return false;
  number = n;
  return true;
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

std::uint64_t IdMap::slot_hash(const Slot& x) {
  const std::uint32_t len = x.hi >> 24;
  if (len == kLongKey) return x.lo;
  char buf[12];
  std::memcpy(buf, &x.lo, 8);
  std::memcpy(buf + 8, &x.hi, 4);
  return hash(std::string_view(buf, len));
}

Index IdMap::find(std::string_view key) const {
  if (!have_prefix_) return -1;  // empty
  std::uint32_t number = 0;
  if (numbered_id(key, prefix_, number)) return number < dense_.size() ? dense_[number] : -1;
  const std::uint64_t h = hash(key);
  const Slot want = pack(key, h);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t s = h & mask;; s = (s + 1) & mask) {
    const Slot& x = slots_[s];
    if (x.id < 0) return -1;
    if (x.lo == want.lo && x.hi == want.hi && (key.size() <= 11 || name(x.id) == key)) return x.id;
  }
}

Index IdMap::add(std::string_view key) {
  if (size() >= std::numeric_limits<Index>::max())
    throw InputError(fmt::format("more than {} distinct ids; driftrec indexes with 32 bits",
                                 std::numeric_limits<Index>::max()));
  const Index id = size();
  arena_.append(key);
  offsets_.push_back(arena_.size());
  return id;
}

Index IdMap::find_or_add(std::string_view key, const std::uint64_t h) {
  if (!have_prefix_) {
    prefix_ = std::string(key.substr(0, key.find_first_of("0123456789")));
    have_prefix_ = true;
  }
  std::uint32_t number = 0;
  if (numbered_id(key, prefix_, number)) {
    if (number >= dense_.size())
      dense_.resize(std::min<std::size_t>(kDenseIds, std::max<std::size_t>(number + 1, 2 * dense_.size())), -1);
    Index& slot = dense_[number];
    if (slot < 0) slot = add(key);
    return slot;
  }
  const Slot want = pack(key, h);
  const std::size_t mask = slots_.size() - 1;
  std::size_t s = h & mask;
  for (;; s = (s + 1) & mask) {
    const Slot& x = slots_[s];
    if (x.id < 0) break;
    if (x.lo == want.lo && x.hi == want.hi && (key.size() <= 11 || name(x.id) == key)) return x.id;
  }
  const Index id = add(key);
  slots_[s] = want;
  slots_[s].id = id;
  if (++in_slots_ * 2 > slots_.size()) grow();  // load factor at most 1/2
  return id;
}

void IdMap::grow() {
  std::vector<Slot> bigger(slots_.size() * 2, Slot{0, 0, -1});
  const std::size_t mask = bigger.size() - 1;
  for (const Slot& x : slots_) {
    if (x.id < 0) continue;
    std::size_t s = slot_hash(x) & mask;
    while (bigger[s].id >= 0) s = (s + 1) & mask;
    bigger[s] = x;
  }
  slots_.swap(bigger);
}

std::vector<std::string> IdMap::names() const {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(size()));
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
