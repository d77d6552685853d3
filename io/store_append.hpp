// Appending to a store in place (`driftrec update`, pipeline/update.hpp): in a copy opened
// with StoreWriter::Amend, the ids, titles, labels, item labels and events are replaced by
// the merged ones, the slices from the first changed period on are written anew, and the
// earlier slices, whose entries cannot change, get only a longer indptr when users were
// added. The slices written are the ones ingest would write from the same events, so an
// updated store holds what ingesting everything at once gives (docs/store.md).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "graph/slicing.hpp"
#include "io/store.hpp"

namespace driftrec::io {

// `slices` are all the periods of `periods` (users x items of `content`); those before
// `first_changed` hold the stored entries (only their row count may have grown).
void rewrite_appended(StoreWriter& w, const StoreContent& content, const graph::Periods& periods,
                      const std::vector<graph::CsrMatrix>& slices, std::size_t first_changed);

// Removes /results/<name> from the copy (a result the update cannot carry forward).
void drop_result(StoreWriter& w, const std::string& name);

// Carrying a result forward without rewriting what did not change: stash_result moves
// /results/<name> aside (returns where), a writer creates the result anew, adopt moves a
// stored dataset of an unchanged period (group "interests", period 3) from the stash into it (a link
// move, no data copied), and drop_stash removes the rest.
std::string stash_result(StoreWriter& w, const std::string& name);
void adopt(StoreWriter& w, const std::string& stash, const std::string& name, const std::string& group,
           std::size_t period);
void drop_stash(StoreWriter& w, const std::string& stash);

}  // namespace driftrec::io
