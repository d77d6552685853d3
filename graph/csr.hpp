// Compressed sparse row matrix with 32-bit column ids and 64-bit row offsets.
// Used for every slice (users x items) and for the item -> label table.
#pragma once
#include <span>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::graph {

struct CsrMatrix {
  Index n_rows = 0;
  Index n_cols = 0;
  std::vector<Offset> indptr{0};  // n_rows + 1
  std::vector<Index> indices;     // column of each stored value, increasing within a row
  std::vector<float> data;

  Offset nnz() const { return indptr.empty() ? 0 : indptr.back(); }
  Offset row_length(Index r) const { return indptr[r + 1] - indptr[r]; }
};

struct Triplet {
  Index row;
  Index col;
  float value;
};

// Builds a CSR matrix; duplicate (row, col) entries are summed. Triplets may come in any
// order. Throws InputError if a row or column is out of range.
CsrMatrix csr_from_triplets(Index n_rows, Index n_cols, std::span<const Triplet> triplets);

// The transpose, built by a counting sort (rows of the result come out sorted).
CsrMatrix transpose(const CsrMatrix& m);

// Checks the structural invariants (sizes, monotone indptr, column ids in range and
// increasing within each row); throws InputError naming `what` and the first violation.
void validate_csr(const CsrMatrix& m, const char* what);

}  // namespace driftrec::graph
