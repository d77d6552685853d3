// Appending to a store (`driftrec update`, pipeline/update.hpp), in a copy opened with
// StoreWriter::Amend. Two ways:
//  - in place, the common case (every new event sorts after the stored ones, and the
//    store's /events datasets are extensible, as ingest writes them): the new events are
//    appended to /events (only the last, partly filled chunk of each column is rewritten),
//    new ids are appended to /users/id and /items/id when they fit the stored string width,
//    the labels, item labels and titles are written only when ids were added, and only the
//    slices from the first changed period on are written. What is written grows with the
//    new events and ids, not with the history;
//  - rewritten (a backfill, or a store written before its datasets could grow): the ids,
//    titles, labels, item labels and events are replaced by the merged ones (extensible,
//    so the next update appends in place) and the slices from the first changed period on
//    written anew.
// Either way the earlier slices, whose entries cannot change, get only a longer indptr
// when users were added, and the slices written are the ones ingest would write from the
// same events, so an updated store holds what ingesting everything at once gives
// (docs/store.md).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "graph/csr.hpp"
#include "graph/events.hpp"
#include "graph/slicing.hpp"
#include "io/store.hpp"

namespace driftrec::io {

// What rewrite_appended is given besides the content.
struct AppendPlan {
  graph::Index old_users = 0, old_items = 0, old_labels = 0;  // the store's before the append
  std::size_t stored_events = 0;  // events in the store before the append
  std::size_t events_offset = 0;  // the index, among all events, of content.events[0]
  bool in_place = false;          // append to /events (content.events from events_offset on)
};

// Events [first, n_events) of the store, validated as Store::events() validates them
// (`update` reads only the stored events of the period its new events fall into).
graph::EventColumns read_events_from(const Store& store, std::size_t first);
// The index of the first stored event at or after `time`, found from the end of /events
// (so it reads only the events after it, and the chunk before).
std::size_t first_event_at_or_after(const Store& store, graph::Time time);
// The store's last event (n_events > 0).
graph::Event last_event(const Store& store);

// Whether the store's event datasets can grow in place (maximum size unlimited). Stores
// written before update appended in place have fixed-size datasets.
bool events_extensible(const Store& store);

// `slices` are all the periods of `periods` (users x items of `content`); those before
// `first_changed` hold the stored entries (only their row count may have grown).
// content.events: every event (plan.in_place false, events_offset 0), or the events from
// plan.events_offset on, the stored ones among them first (plan.in_place).
void rewrite_appended(StoreWriter& w, const StoreContent& content, const graph::Periods& periods,
                      const std::vector<graph::CsrMatrix>& slices, std::size_t first_changed,
                      const AppendPlan& plan);

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
