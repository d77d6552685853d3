#include "graph/csr.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

#include <fmt/format.h>

namespace driftrec::graph {

CsrMatrix csr_from_triplets(Index n_rows, Index n_cols, std::span<const Triplet> triplets) {
  CsrMatrix m;
  m.n_rows = n_rows;
  m.n_cols = n_cols;
  std::vector<Offset> count(static_cast<std::size_t>(n_rows) + 1, 0);
  for (const Triplet& t : triplets) {
    if (t.row < 0 || t.row >= n_rows || t.col < 0 || t.col >= n_cols)
      throw InputError(fmt::format("csr_from_triplets: entry ({}, {}) outside a {} x {} matrix",
                                   t.row, t.col, n_rows, n_cols));
    ++count[static_cast<std::size_t>(t.row) + 1];
  }
  std::partial_sum(count.begin(), count.end(), count.begin());

  // Counting sort by row into (col, value) pairs, then sort and merge within each row.
  std::vector<std::pair<Index, float>> entries(triplets.size());
  std::vector<Offset> fill(count.begin(), count.end() - 1);
  for (const Triplet& t : triplets) entries[fill[t.row]++] = {t.col, t.value};

  m.indptr.assign(static_cast<std::size_t>(n_rows) + 1, 0);
  m.indices.reserve(entries.size());
  m.data.reserve(entries.size());
  for (Index r = 0; r < n_rows; ++r) {
    auto first = entries.begin() + count[r];
    auto last = entries.begin() + count[r + 1];
    std::sort(first, last, [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto it = first; it != last; ++it) {
      if (static_cast<Offset>(m.indices.size()) > m.indptr[r] && m.indices.back() == it->first)
        m.data.back() += it->second;
      else {
        m.indices.push_back(it->first);
        m.data.push_back(it->second);
      }
    }
    m.indptr[r + 1] = static_cast<Offset>(m.indices.size());
  }
  return m;
}

CsrMatrix transpose(const CsrMatrix& m) {
  CsrMatrix t;
  t.n_rows = m.n_cols;
  t.n_cols = m.n_rows;
  t.indptr.assign(static_cast<std::size_t>(m.n_cols) + 1, 0);
  for (Index c : m.indices) ++t.indptr[static_cast<std::size_t>(c) + 1];
  std::partial_sum(t.indptr.begin(), t.indptr.end(), t.indptr.begin());
  t.indices.resize(m.indices.size());
  t.data.resize(m.data.size());
  std::vector<Offset> fill(t.indptr.begin(), t.indptr.end() - 1);
  for (Index r = 0; r < m.n_rows; ++r)
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      Offset dst = fill[m.indices[k]]++;
      t.indices[dst] = r;
      t.data[dst] = m.data[k];
    }
  return t;
}

void validate_csr(const CsrMatrix& m, const char* what) {
  auto fail = [&](const std::string& why) { throw InputError(fmt::format("{}: {}", what, why)); };
  if (m.n_rows < 0 || m.n_cols < 0) fail("negative shape");
  if (m.indptr.size() != static_cast<std::size_t>(m.n_rows) + 1)
    fail(fmt::format("indptr has {} entries, expected rows + 1 = {}", m.indptr.size(),
                     static_cast<std::size_t>(m.n_rows) + 1));
  if (m.indptr.front() != 0) fail("indptr does not start at 0");
  if (m.indices.size() != m.data.size())
    fail(fmt::format("{} indices but {} values", m.indices.size(), m.data.size()));
  if (m.indptr.back() != static_cast<Offset>(m.indices.size()))
    fail(fmt::format("indptr ends at {} but there are {} entries", m.indptr.back(),
                     m.indices.size()));
  // Offsets first: entries are read only once every row's range is known to lie inside.
  for (Index r = 0; r < m.n_rows; ++r)
    if (m.indptr[r + 1] < m.indptr[r] || m.indptr[r + 1] > m.indptr.back())
      fail(fmt::format("indptr decreases or overshoots at row {}", r));
  for (Index r = 0; r < m.n_rows; ++r) {
    for (Offset k = m.indptr[r]; k < m.indptr[r + 1]; ++k) {
      Index c = m.indices[k];
      if (c < 0 || c >= m.n_cols)
        fail(fmt::format("row {} has column {} outside [0, {})", r, c, m.n_cols));
      if (k > m.indptr[r] && m.indices[k - 1] >= c)
        fail(fmt::format("row {} has columns out of order or repeated", r));
    }
  }
}

}  // namespace driftrec::graph
