// The pieces of the random walks that driftrec-mpi computes its rows with
// (propagation/random_walk_parts.hpp): a range of similarity rows from a subset of the
// user rows, renumbered, equals those rows of the whole similarity bit for bit; the top
// items chosen per range of items and merged equal those chosen over all items; the
// restart's L1 change summed in pieces with a carried partial equals the whole block's.
#include <catch2/catch.hpp>
#include <algorithm>
#include <random>
#include <vector>

#include "graph/csr.hpp"
#include "propagation/random_walk_parts.hpp"
#include "tests/propagation/random_graphs.hpp"

using namespace driftrec;
using namespace driftrec::propagation;
using graph::CsrMatrix;
using graph::Index;
using graph::Offset;

namespace {

// Rows [r0, r1) of m.
CsrMatrix row_range(const CsrMatrix& m, Index r0, Index r1) {
  CsrMatrix out;
  out.n_rows = r1 - r0;
  out.n_cols = m.n_cols;
  out.indptr.clear();
  for (Index r = r0; r <= r1; ++r) out.indptr.push_back(m.indptr[r] - m.indptr[r0]);
  out.indices.assign(m.indices.begin() + m.indptr[r0], m.indices.begin() + m.indptr[r1]);
  out.data.assign(m.data.begin() + m.indptr[r0], m.data.begin() + m.indptr[r1]);
  return out;
}

}  // namespace

TEST_CASE("similarity rows of an item range from the users it reaches equal the whole similarity's rows",
          "[propagation][random_walk]") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Index users = 2 + static_cast<Index>(rng() % 40), items = 2 + static_cast<Index>(rng() % 30);
    CsrMatrix w = test::random_skewed_matrix(rng, users, items, rng() % 200);
    for (float& v : w.data)
      if (rng() % 10 == 0) v = 0;  // stored zeros are no edge
    WalkSimilarityOptions o;
    o.alpha = seed % 2 ? 1.0f : 0.7f;
    o.beta = seed % 3 ? 0.4f : 0.0f;
    o.k = 1 + static_cast<int>(rng() % 6);
    const CsrMatrix whole = walk_similarity(make_bipartite_graph(w), o);

    // Items [i0, i1): their W^T rows with the users renumbered in order of first use, and
    // only those users' rows of W (with b), as a rank holds them.
    const Index i0 = static_cast<Index>(rng() % items), i1 = i0 + 1 + static_cast<Index>(rng() % (items - i0));
    const CsrMatrix wt = graph::transpose(w);
    CsrMatrix iu = row_range(wt, i0, i1);
    std::vector<Index> local(static_cast<std::size_t>(users), -1), reached;
    for (Index& u : iu.indices) {
      if (local[u] < 0) {
        local[u] = static_cast<Index>(reached.size());
        reached.push_back(u);
      }
      u = local[u];
    }
    iu.n_cols = static_cast<Index>(reached.size());
    CsrMatrix ui;
    ui.n_rows = static_cast<Index>(reached.size());
    ui.n_cols = items;
    ui.indptr.assign(1, 0);
    const std::vector<float> b_all = transition_powers(w, o.alpha);
    std::vector<float> b;
    for (Index u : reached) {
      for (Offset e = w.indptr[u]; e < w.indptr[u + 1]; ++e) {
        ui.indices.push_back(w.indices[e]);
        ui.data.push_back(w.data[e]);
        b.push_back(b_all[e]);
      }
      ui.indptr.push_back(static_cast<Offset>(ui.indices.size()));
    }
    const std::vector<float> scale = popularity_scales(wt, o.beta);
    const CsrMatrix part = similarity_rows(iu, transition_powers(iu, o.alpha), ui, b, scale, i0, o);
    const CsrMatrix expected = row_range(whole, i0, i1);
    REQUIRE(part.n_rows == expected.n_rows);
    CHECK(part.indptr == expected.indptr);
    CHECK(part.indices == expected.indices);
    CHECK(part.data == expected.data);  // bit for bit
  }
}

TEST_CASE("the best items of ranges of items, merged, are the best items of all", "[propagation][random_walk]") {
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    CAPTURE(seed);
    std::mt19937_64 rng(seed);
    const Index n = 1 + static_cast<Index>(rng() % 60);
    const int k = 1 + static_cast<int>(rng() % 8);
    std::vector<float> p(static_cast<std::size_t>(n));
    std::vector<char> seen(p.size());
    for (Index j = 0; j < n; ++j) {
      p[j] = static_cast<float>(rng() % 5) * 0.25f;  // ties and zeros
      seen[j] = rng() % 4 == 0;
    }
    std::vector<ScoredItem> all, merged, part;
    best_items(p.data(), n, seen.data(), 0, k, all);
    for (Index j = 0, cut = 0; j < n; j = cut) {
      cut = std::min(n, j + 1 + static_cast<Index>(rng() % 20));
      best_items(p.data() + j, cut - j, seen.data() + j, j, k, part);
      merged.insert(merged.end(), part.begin(), part.end());
    }
    keep_best(merged, k);
    REQUIRE(merged.size() == all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
      CHECK(merged[i].item == all[i].item);
      CHECK(merged[i].score == all[i].score);
    }
    for (const ScoredItem& s : all) CHECK((p[s.item] > 0 && !seen[s.item]));
  }
}

TEST_CASE("the restart's change summed in pieces with a carried sum equals the whole block's",
          "[propagation][random_walk]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const Index rows = 300, cols = 5;
  DenseMatrix x(rows, cols), r(rows, cols), z(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index b = 0; b < cols; ++b) {
      x(i, b) = u(rng);
      r(i, b) = u(rng) < 0.3f ? u(rng) : 0.0f;
      z(i, b) = u(rng);
    }
  DenseMatrix z_whole = z, z_parts = z;
  std::vector<double> whole(cols, 0.0), parts(cols, 0.0);
  restart_rows(z_whole, x, r, 0.15f, 0, rows, whole.data());
  restart_rows(z_parts, x, r, 0.15f, 0, 17, parts.data());
  restart_rows(z_parts, x, r, 0.15f, 17, 201, parts.data());
  restart_rows(z_parts, x, r, 0.15f, 201, rows, parts.data());
  CHECK(whole == parts);
  CHECK(z_whole == z_parts);
  // And the definition: z = c r + (1 - c) z_old, sum |z - x|.
  double expected = 0;
  for (Index i = 0; i < rows; ++i) expected += std::abs(static_cast<double>(z_whole(i, 0)) - x(i, 0));
  CHECK(whole[0] == Approx(expected).epsilon(1e-12));
  CHECK(z_whole(3, 1) == Approx(0.15f * r(3, 1) + 0.85f * z(3, 1)));
}
