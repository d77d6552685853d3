// The k best items of one score vector, in the order every ranking of the evaluation uses:
// higher score first, ties toward the lower index, NaN after every number.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::graph {

// The min(k, |eligible|) best of the eligible items, best first, where eligible = the items
// i with candidate[i] != 0 that are not in `seen` (ascending), without listing them: once k
// items are kept, scores are compared with the k-th best sixteen at a time, and an item is
// looked at alone only where one of its block beats it (a later item, with a higher index,
// must beat it strictly). The result is that of a partial sort of the eligible items, entry
// for entry (tests/evaluation/metrics_test.cpp compares it with evaluation::top_k_of and a
// full stable sort on random cases with ties, NaN and infinities).
std::vector<Index> top_k_unseen(std::span<const float> scores, std::span<const std::uint8_t> candidate,
                                std::span<const Index> seen, int k);

}  // namespace driftrec::graph
