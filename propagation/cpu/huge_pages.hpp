// Transparent huge pages for the big arrays of a propagation (the CSR arrays of W and W^T
// and the dense label matrices). The gathers of x rows are random over tens of MB, so with
// 4 KiB pages nearly every one misses the TLB; with 2 MiB pages the page walk mostly
// hits. On a kernel whose THP mode is "madvise" nothing is huge unless asked: this asks
// (MADV_HUGEPAGE) and, since the arrays already exist, collapses their pages in place
// (MADV_COLLAPSE, Linux 6.1+) instead of waiting for khugepaged.
#pragma once
#include <cstddef>

#include "propagation/backend.hpp"

namespace driftrec::propagation::cpu {

// Advises and collapses the whole 2 MiB pages inside [data, data + bytes). Returns the
// bytes now asked to be huge (0 where the system does not support it); never throws,
// since huge pages only change speed, never results.
std::size_t advise_huge_pages(const void* data, std::size_t bytes);

// The same for W's and W^T's three arrays and both degree vectors; returns the bytes.
std::size_t advise_huge_pages(const BipartiteGraph& g);

}  // namespace driftrec::propagation::cpu
