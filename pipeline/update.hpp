// update_store: `driftrec update` as a call. New events (and labels of new items) are
// appended to a store, and its label propagation and temporal ALS results are carried
// forward by recomputing only the periods the new events touch:
//   store          known ids keep their indices, new users and items are appended in order
//                  of first appearance (what ingesting the old and new logs one after the
//                  other gives); the events are merged; the store's own slicing cuts the
//                  periods, so the last period is extended and/or new ones added; slices
//                  before the first changed period keep their entries. New events after the
//                  stored ones are appended to the store in place, reading only the stored
//                  events of the period they fall into (io/store_append.hpp); a backfill,
//                  or a store whose event datasets cannot grow, is merged and rewritten whole.
//   label          resumes at the first changed period p from the saved raw F_U(p-1)
//                  (user_scores, io/label_result.hpp): the periods before p only advance the
//                  decayed history, so the result is bitwise what `propagate` on the whole
//                  store gives. Where F_U(p-1) is not saved (older results), it recomputes
//                  from period 0 and says so.
//   temporal_als   from the saved factors: period p starts from the stored user factors of
//                  p (or p-1) and item factors, new rows from the seeded initialisation,
//                  with the drift prior x_u(p-1); `als_sweeps` sweeps (users: every row of G_p,
//                  so changed and new users are folded in, then items) per changed period.
//                  An approximation of the full refit (see tests/pipeline/update_test.cpp
//                  for the objective gap); without saved x_u(p-1) it refits every period.
//   sequence_model stepped forward over the new periods from its saved state, weights as
//                  trained (temporal/sequence_step.hpp): its own feature propagation resumed
//                  from its saved raw F_U, its temporal ALS from its saved factors, one cell
//                  step per new period from the saved h (and c; the attention cell from the
//                  saved keys and values of every period fed), and the interest mixture's
//                  running values (label EWMAs, labelled periods, the last population) advanced
//                  by the new periods with its gate and head as trained; new users enter as
//                  users without events. The prediction for the period after the new last one
//                  replaces the old. When a label propagation and a temporal ALS result this
//                  update carried forward ran with the model's feature options from exactly
//                  its saved F_U and factors (and it sums no period into a head), their new
//                  periods are its features, not computed again (bitwise the same step). Not possible, and the result is dropped with the reason,
//                  when it keeps no state (trained before it was kept; or before the attention
//                  cell's keys and values, or the mixture's running values, were), when the
//                  new events fall in a period it has read (the store's last, or a backfill),
//                  or when labels were added.
//                  With `retrain`: trained again on the updated store with the options it
//                  was trained with (what `driftrec train` then saves).
//   other results  (random walks) are dropped and listed: they describe the old last
//                  period.
// Everything is written through one StoreWriter commit: a failure leaves the store as it
// was, byte for byte.
//
// Refused with InputError (CLI exit 2), store untouched: a malformed line (unless skipped
// by on_error), no valid event, events before the store's last period (unless
// allow_backfill, which recomputes from the earliest touched period), a store sliced by
// quantiles (adding events moves every cut), and a batch from another id space: none of
// its users and none of its items is in the store (an overlap check; ids carry no
// fingerprint).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/event_reader.hpp"
#include "io/label_reader.hpp"
#include "pipeline/common.hpp"

namespace driftrec::pipeline {

struct UpdateRequest {
  std::string store;
  std::vector<std::string> event_files;  // new events; or event_columns
  io::EventReadOptions events;           // how to read event_files (as ingest)
  std::string labels_file;               // optional: labels (and titles) of new items
  io::LabelReadOptions labels;
  // In-memory input instead of files (Python's Store.append); borrowed for the call.
  const io::EventColumnsIn* event_columns = nullptr;
  const io::LabelColumnsIn* label_columns = nullptr;
  io::OnError on_error = io::OnError::fail;  // for the columns; files use events.on_error
  io::NegativeValues negative = io::NegativeValues::refuse;  // for the columns; files use events.negative
  bool allow_backfill = false;  // accept events before the store's last period
  bool retrain = false;         // retrain sequence results instead of dropping them
  int als_sweeps = 3;           // temporal ALS sweeps on each changed period, >= 1
  int threads = 0;              // 0: OpenMP's default
  Progress progress;
};

struct UpdatedResult {
  std::string name, kind;
  std::size_t recomputed_from = 0;  // the first period computed again
  std::string note;                 // why it recomputed more than the changed periods
  std::optional<double> objective;  // temporal_als: the last period's objective after the update
  std::int64_t iterations = 0;      // label: over the recomputed periods
  double seconds = 0;
  std::int64_t steps = 0;           // sequence_model: periods stepped forward (0: retrained)
};

struct UpdateSummary {
  std::string store;
  std::int64_t events_added = 0, users_added = 0, items_added = 0, labels_added = 0, labelled_items_added = 0;
  std::int64_t label_rows_for_known_items = 0;  // (item, label) pairs new to a stored item: ignored
  std::size_t periods_before = 0, periods_after = 0;
  std::size_t first_changed_period = 0;
  bool backfill = false;  // some event fell before the store's last period
  // The events were appended to the store's /events in place (the common case), not
  // rewritten with every stored event (a backfill, or a store whose datasets cannot grow).
  bool events_in_place = false;
  std::vector<UpdatedResult> results;
  std::vector<std::string> dropped_results;
  std::vector<std::string> dropped_reasons;  // one per dropped result: why, and what to run
  std::vector<std::string> notes;  // how the input was read
  io::SkipReport skipped_events;
  std::int64_t negative_dropped = 0, negative_clipped = 0;  // events with a negative value, by `negative`
  double seconds_read = 0, seconds_results = 0, seconds = 0;

  nlohmann::json to_json() const;
};

UpdateSummary update_store(const UpdateRequest& request);

}  // namespace driftrec::pipeline
