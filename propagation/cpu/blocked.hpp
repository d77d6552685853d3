// The users' gather of label propagation, y <- alpha * diag(out) W diag(in) x + seed_coef
// * seed (fused_spmm on W), with W cut into tiles so that the gathered rows of x stay in
// the core's L2 cache (propagation blocking / cache tiling of the input rows by column
// block: Beamer, Asanovic and Patterson, IPDPS 2017; Nishtala et al. 2007).
//
// W's rows are cut into chunks of chunk_rows rows and its columns into panels of
// 2^panel_bits columns; tile (chunk, panel) keeps only its non-empty rows, each as a
// 16-bit row id local to the chunk and a run of entries with 16-bit column ids local to
// the panel (float32 values). A thread takes a chunk, zeroes chunk_rows x k partial sums
// (in L2), adds the chunk's tiles panel by panel in increasing column order, then writes
// each row as fused_spmm does. Each row's sum is taken over the same products in the same
// order as fused_spmm's (0, then its entries in increasing column), so the result equals
// fused_spmm's bit for bit, for any thread count.
//
// The tiles take 6 bytes per entry plus 6 per non-empty (row, panel) pair and 4 per tile;
// BlockedMatrix::bytes() says how much (6.3-7.0 B per entry on the 2^24-edge R-MAT, against
// 8 B per entry plus 8 per row for W in CSR). The same tiling serves the items' gather over
// W^T (panels of users, chunks of items). The CPU backend keeps the tiles of W and W^T *in
// place of* them when its handle owns a graph with W^T stored (CpuBackend::Tiling, the
// default for propagate_labels). fused_iteration uses W's tiles for its users' gather when
// IterationScales::blocked is set.
#pragma once
#include <cstdint>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/cpu/row_store.hpp"
#include "propagation/cpu/spmm.hpp"

namespace driftrec::propagation::cpu {

struct BlockedMatrix {
  graph::Index n_rows = 0, n_cols = 0;
  int panel_bits = 14;             // panel width 2^panel_bits columns (<= 16)
  graph::Index chunk_rows = 4096;  // rows per chunk (<= 65536)
  graph::Index panels = 0, chunks = 0;
  std::vector<std::uint32_t> tile_rows;   // chunks * panels + 1: first non-empty row of each tile
  std::vector<std::uint16_t> row_ids;     // per non-empty row of a tile: row - chunk's first row
  std::vector<std::uint32_t> row_start;   // per non-empty row, + 1: its first entry
  std::vector<std::uint16_t> cols;        // column - panel's first column
  std::vector<float> values;
  std::size_t bytes() const;
};

// InputError unless 1 <= panel_bits <= 16, 1 <= chunk_rows <= 65536 and nnz < 2^32.
BlockedMatrix make_blocked(const graph::CsrMatrix& w, int panel_bits, graph::Index chunk_rows, int threads);

// fused_spmm(w, scales, x, y, threads) from the blocked copy of w: the same bits.
float blocked_fused_spmm(const BlockedMatrix& b, const FusedScales& scales, ConstDenseView x, DenseView y,
                         int threads);

// spmm(w, x, y, threads) from the blocked copy of w: the same bits.
void blocked_spmm(const BlockedMatrix& b, ConstDenseView x, DenseView y, int threads);

// w back from its blocked copy, equal to it entry for entry (shape, offsets, ids and
// values): the tiles hold every entry once, and a row's entries come back panel by panel,
// so in increasing column order as make_blocked read them.
graph::CsrMatrix csr_of_blocked(const BlockedMatrix& b, int threads);

namespace detail {
// Chunk `chunk` of b gathered as blocked_fused_spmm gathers it (fused_iteration's tiled
// gather task): part holds b.chunk_rows x p.k floats, all zero on entry and on return;
// scratch 2 * p.k floats. Returns the chunk's change.
float gather_chunk(const BlockedMatrix& b, const Pass& p, graph::Index chunk, float* part, float* scratch);
}  // namespace detail

}  // namespace driftrec::propagation::cpu
