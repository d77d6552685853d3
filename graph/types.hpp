// Index types shared by every module: 32-bit ids for users, items and labels,
// 64-bit offsets for edges (a graph may hold more than 2^31 edges), 64-bit times.
#pragma once
#include <cstdint>

#include "core/error.hpp"  // InputError, NumericalError: every module throws them

namespace driftrec::graph {

using Index = std::int32_t;   // dense user / item / label id, in order of first appearance
using Offset = std::int64_t;  // position in an edge array (CSR indptr)
using Time = std::int64_t;    // Unix seconds, UTC

}  // namespace driftrec::graph
