// The data a model may see when it predicts period P: the slices, events and item labels
// strictly before P. The sequence model (sequence_fit.hpp) is fitted on one;
// evaluation::Training extends it with what the evaluation protocol adds (the summed
// history, events per item). Also the two label helpers of the interest-truth formula
// (the normalised sum of each event's item labels, an item's labels sharing weight 1),
// which the sequence model's targets and the evaluation's truth share.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "graph/csr.hpp"
#include "graph/events.hpp"

namespace driftrec::temporal {

struct History {
  graph::Index n_users = 0, n_items = 0, n_labels = 0;
  std::vector<graph::CsrMatrix> slices;   // W_0 .. W_{P-1}
  graph::EventColumns events;             // every event before P, by time
  std::vector<std::size_t> period_first;  // P + 1 offsets into `events`
  graph::CsrMatrix item_labels;           // items x labels (static metadata)
};

// The slices a temporal model is fitted on, to bound its cost on long histories: the last
// `window` slices, preceded by ONE slice holding the sum of every earlier slice (the
// history before the window, seen as one period). With window >= P - 1 that is the slices
// themselves.
std::vector<graph::CsrMatrix> windowed_slices(const History& h, int window);
// The same on bare slices (all of one shape).
std::vector<graph::CsrMatrix> windowed_slices(const std::vector<graph::CsrMatrix>& slices, int window);

// acc[l] += weight / |labels(item)| for each label l of the item.
void add_item_labels(const graph::CsrMatrix& item_labels, graph::Index item, double weight,
                     std::span<double> acc);

// acc divided by its sum; an all-zero vector stays zero. Returns whether the sum was > 0.
bool normalize(std::span<double> acc);

}  // namespace driftrec::temporal
