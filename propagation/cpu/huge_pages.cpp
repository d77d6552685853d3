// MADV_HUGEPAGE + MADV_COLLAPSE on the aligned interior of an array; see huge_pages.hpp.
#include "propagation/cpu/huge_pages.hpp"

#include <sys/mman.h>

#include <cstdint>

namespace driftrec::propagation::cpu {
namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;
#ifndef MADV_COLLAPSE
constexpr int MADV_COLLAPSE = 25;  // Linux 6.1; older headers lack the name
#endif

template <typename V>
std::size_t advise_vector(const V& v) {
  return advise_huge_pages(v.data(), v.size() * sizeof(v[0]));
}

}  // namespace

std::size_t advise_huge_pages(const void* data, std::size_t bytes) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + kHugePage - 1) & ~(kHugePage - 1);
  const std::uintptr_t last = (begin + bytes) & ~(kHugePage - 1);
  if (data == nullptr || last <= first) return 0;
  void* p = reinterpret_cast<void*>(first);
  const std::size_t len = last - first;
  if (madvise(p, len, MADV_HUGEPAGE) != 0) return 0;
  // Best effort: a failed collapse (no memory to compact, old kernel) leaves 4 KiB pages
  // and khugepaged may still collapse them later.
  (void)madvise(p, len, MADV_COLLAPSE);
  return len;
}

std::size_t advise_huge_pages(const BipartiteGraph& g) {
  std::size_t n = 0;
  for (const graph::CsrMatrix* m : {&g.user_items, &g.item_users})
    n += advise_vector(m->indptr) + advise_vector(m->indices) + advise_vector(m->data);
  return n + advise_vector(g.user_inv_sqrt_degree) + advise_vector(g.item_inv_sqrt_degree);
}

}  // namespace driftrec::propagation::cpu
