#include "graph/top_k.hpp"

#include <algorithm>
#include <cmath>

namespace driftrec::graph {

std::vector<Index> top_k_unseen(std::span<const float> scores, std::span<const std::uint8_t> candidate,
                                std::span<const Index> seen, int k) {
  const auto want = static_cast<std::size_t>(std::max(k, 0));
  const auto n = static_cast<Index>(std::min(scores.size(), candidate.size()));
  std::vector<Index> best;  // the numbers kept, best first
  std::vector<Index> nans;  // NaN items in index order, needed only while best is not full
  best.reserve(want + 1);
  if (want == 0) return best;
  std::size_t s = 0;  // merge position in `seen`
  const auto eligible = [&](Index i) {
    if (!candidate[static_cast<std::size_t>(i)]) return false;
    while (s < seen.size() && seen[s] < i) ++s;
    return !(s < seen.size() && seen[s] == i);  // the user had it
  };
  const auto insert = [&](Index i, float v) {  // after every kept score >= v: lower indices
    auto at = best.end();
    while (at != best.begin() && scores[static_cast<std::size_t>(*(at - 1))] < v) --at;
    best.insert(at, i);
  };
  // Until k numbers are kept every eligible item enters; NaN ones wait after them.
  Index i = 0;
  for (; i < n && best.size() < want; ++i) {
    if (!eligible(i)) continue;
    const float v = scores[static_cast<std::size_t>(i)];
    if (std::isnan(v)) {
      if (nans.size() < want) nans.push_back(i);
    } else {
      insert(i, v);
    }
  }
  if (best.size() == want) {
    // Full: a later item (higher index) enters only with a score strictly above the k-th
    // best (NaN never does). Blocks of kBlock scores are compared at once; an item is looked
    // at alone only in a block where some score beats the threshold.
    constexpr Index kBlock = 16;
    float threshold = scores[static_cast<std::size_t>(best.back())];
    const auto offer = [&](Index j) {
      const float v = scores[static_cast<std::size_t>(j)];
      if (!(v > threshold) || !eligible(j)) return;
      best.pop_back();
      insert(j, v);
      threshold = scores[static_cast<std::size_t>(best.back())];
    };
    for (; i < n && i % kBlock != 0; ++i) offer(i);
    for (; i + kBlock <= n; i += kBlock) {
      const float* block = scores.data() + i;
      bool any = false;
      for (Index j = 0; j < kBlock; ++j) any |= block[j] > threshold;
      if (!any) continue;
      for (Index j = i; j < i + kBlock; ++j) offer(j);
    }
    for (; i < n; ++i) offer(i);
  }
  for (std::size_t j = 0; j < nans.size() && best.size() < want; ++j) best.push_back(nans[j]);
  return best;
}

}  // namespace driftrec::graph
