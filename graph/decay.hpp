// History with decay: G_t = gamma * G_{t-1} + W_t, the graph that temporal label
// propagation and temporal ALS see at period t (DESIGN.md). gamma = 0 keeps the slice alone.
#pragma once
#include "graph/csr.hpp"

namespace driftrec::graph {

// gamma * history + slice over the union of both patterns (rows merged in column order);
// both must have the same shape. gamma = 0 returns the slice.
CsrMatrix decay_step(const CsrMatrix& history, const CsrMatrix& slice, float gamma);

}  // namespace driftrec::graph
