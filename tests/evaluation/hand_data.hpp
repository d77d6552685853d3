// A tiny hand-built log shared by the evaluation tests: 5 users, 6 items, 3 labels,
// periods of 10 s. Every number the tests expect is worked out in the comments here.
//   item labels: i0 {0}, i1 {1}, i2 {0, 1}, i3 {2}, i4 {} (unlabelled), i5 {2}
//   P0 [0, 10):  u0 i0, u0 i1, u1 i2, u2 i0
//   P1 [10, 20): u0 i2, u1 i3, u1 i3 (a repeat)
//   P2 [20, 30): u0 i3, u1 i0, u3 i1
//   P3 [30, 40): u0 i0 (had it), u0 i4 (unlabelled), u1 i5 (never seen: not a candidate),
//                u3 i2, u4 i0 (no history: not evaluated), u2 i4 (only unlabelled)
//   P4 [40, 50): u0 i1
#pragma once
#include "evaluation/split.hpp"

namespace driftrec::test {

inline evaluation::EvaluationData hand_data() {
  using graph::Triplet;
  const std::vector<Triplet> labels{{0, 0, 1}, {1, 1, 1}, {2, 0, 1}, {2, 1, 1}, {3, 2, 1}, {5, 2, 1}};
  graph::CsrMatrix item_labels = graph::csr_from_triplets(6, 3, labels);
  struct E { graph::Time t; graph::Index u, i; };
  const std::vector<E> raw{{1, 0, 0},  {2, 0, 1},  {3, 1, 2},  {4, 2, 0},  {11, 0, 2}, {12, 1, 3},
                           {13, 1, 3}, {21, 0, 3}, {22, 1, 0}, {23, 3, 1}, {31, 0, 0}, {32, 0, 4},
                           {33, 1, 5}, {34, 3, 2}, {35, 4, 0}, {36, 2, 4}, {41, 0, 1}};
  graph::EventColumns ev;
  for (const E& e : raw) {
    ev.time.push_back(e.t);
    ev.user.push_back(e.u);
    ev.item.push_back(e.i);
    ev.value.push_back(1.0f);
  }
  return evaluation::make_evaluation_data(5, 6, std::move(item_labels), std::move(ev),
                                          graph::Slicing::parse("10s"), graph::Aggregate::count);
}

}  // namespace driftrec::test
