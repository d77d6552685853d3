// History with decay: G_t = gamma * G_{t-1} + W_t, the graph that temporal label
// propagation and temporal ALS see at period t (docs/math.md). gamma = 0 keeps the slice alone.
#pragma once
#include <limits>

#include "graph/csr.hpp"

namespace driftrec::graph {

// An old entry that decays below the smallest normal float is dropped, not kept as a
// denormal or a stored 0: it can no longer be told from 0 beside any fresh weight, and
// the reciprocal of a degree made of such entries overflows (random-walk transition
// probabilities would turn infinite). At gamma = 0.5 that takes about 126 periods.
inline constexpr float kMinDecayedWeight = std::numeric_limits<float>::min();

// gamma * history + slice over the union of both patterns (rows merged in column order);
// both must have the same shape. gamma = 0 returns the slice.
CsrMatrix decay_step(const CsrMatrix& history, const CsrMatrix& slice, float gamma);

}  // namespace driftrec::graph
