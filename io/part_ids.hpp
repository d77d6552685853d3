// PartIds: the ids met in one part of a log, numbered as one reader of that part would
// number them, for read_events_parallel (io/event_reader_parallel.cpp).
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/id_map.hpp"

namespace driftrec::io {

// The ids of one part of a file, numbered in two steps so that the table lookups of many
// rows overlap instead of waiting on one cache miss each: code() while the lines are read,
// then resolve() over the part's rows turns codes into local ids (in order of first
// appearance, as one IdMap would number them). Logs mostly number their ids ("u123",
// "i77", "42"): an id that is the part's first id's leading non-digits followed by a decimal
// number (numbered_id in id_map.hpp) has that number as its code and a dense table finds
// it; any other id goes through an IdMap. name() gives back an id's text.
class PartIds {
 public:
  static constexpr std::uint32_t kDense = kDenseIds;
  std::uint32_t code(std::string_view id) {
    if (!prefix_) prefix_ = std::string(id.substr(0, id.find_first_of("0123456789")));
    std::uint32_t number = 0;
    if (numbered_id(id, *prefix_, number)) {
      if (number >= dense_.size()) dense_.resize(std::min<std::size_t>(kDense, std::max<std::size_t>(number + 1, 2 * dense_.size())), -1);
      return number;
    }
    const Index j = other_.find_or_add(id);
    if (static_cast<std::size_t>(j) == other_local_.size()) other_local_.push_back(-1);
    DRIFTREC_THROW_IF_NOT(static_cast<std::uint64_t>(j) + kDense <= std::numeric_limits<Index>::max(),
                          "more distinct ids than driftrec indexes with 32 bits");
    return kDense + static_cast<std::uint32_t>(j);
  }
  void resolve(Index* codes, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
      const auto c = static_cast<std::uint32_t>(codes[k]);
      Index& slot = c < kDense ? dense_[c] : other_local_[c - kDense];
      if (slot < 0) {
        slot = size();
        what_.push_back(c < kDense ? static_cast<std::int64_t>(c) : -1 - static_cast<std::int64_t>(c - kDense));
      }
      codes[k] = slot;
    }
  }
  Index size() const { return static_cast<Index>(what_.size()); }
  std::string name(Index local) const {
    const std::int64_t w = what_[static_cast<std::size_t>(local)];
    if (w >= 0) return *prefix_ + std::to_string(w);
    return std::string(other_.name(static_cast<Index>(-1 - w)));
  }

 private:
  std::optional<std::string> prefix_;  // fixed by the first id
  std::vector<Index> dense_;           // number -> local id, -1: not seen
  IdMap other_;
  std::vector<Index> other_local_;     // other_'s index -> local id, -1: not seen
  std::vector<std::int64_t> what_;     // local id -> its number, or -1 - its index in other_
};

}  // namespace driftrec::io
