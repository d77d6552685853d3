// update_store (see update.hpp): merge the new events into the store's id space and
// events, cut the periods with the store's slicing, then carry each result forward from
// the first changed period.
#include "pipeline/update.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "graph/decay.hpp"
#include "io/factors_result.hpp"
#include "io/label_result.hpp"
#include "io/sequence_result.hpp"
#include "io/store_append.hpp"
#include "io/store_info.hpp"
#include "matrix_factorization/als_backend.hpp"
#include "matrix_factorization/temporal_als.hpp"
#include "propagation/temporal_propagation.hpp"
#include "pipeline/train.hpp"
#include "temporal/mixture_fit.hpp"
#include "temporal/sequence_fit.hpp"
#include "temporal/sequence_step.hpp"

namespace driftrec::pipeline {
namespace {

namespace mf = matrix_factorization;
namespace pr = propagation;
using graph::Index;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The store after the append, in memory: what rewrite_appended writes and the results
// are recomputed on.
struct Appended {
  io::StoreContent content;
  graph::Aggregate aggregate = graph::Aggregate::count;
  graph::Periods periods;
  std::vector<graph::CsrMatrix> slices;  // every period, users x items after the append
  std::size_t first_changed = 0;         // the first period holding a new event
  Index old_users = 0, old_items = 0, old_labels = 0;
  // content.events holds every event (rewritten) or, appending in place, those from the
  // first changed period on: the events of periods events_period.. start at first[t -
  // events_period] in it.
  io::AppendPlan plan;
  std::size_t events_period = 0;
  std::vector<std::size_t> first;
  std::size_t offset(std::size_t t) const { return first[t - events_period]; }
  Index users() const { return static_cast<Index>(content.users.size()); }
  Index items() const { return static_cast<Index>(content.items.size()); }
  Index labels() const { return static_cast<Index>(content.labels.size()); }
};

std::string source_name(const UpdateRequest& q) {
  return q.event_columns ? std::string("the event columns") : fmt::format("{}", fmt::join(q.event_files, ", "));
}

// Reads the new events into the store's id maps, so known ids keep their indices and new
// ones follow in order of first appearance, and refuses what update cannot take.
io::EventLog read_new_events(const io::Store& store, const UpdateRequest& q, UpdateSummary& s) {
  io::EventLog log;
  log.users = io::IdMap::from_names(store.users());
  log.items = io::IdMap::from_names(store.items());
  const Index old_users = log.users.size(), old_items = log.items.size();
  if (q.event_columns) io::read_event_columns(*q.event_columns, q.on_error, log, q.negative);
  else
    for (const std::string& path : q.event_files) io::read_events(path, q.events, log);
  const std::string source = source_name(q);
  if (log.events.empty())
    throw InputError(fmt::format("no valid events in {}{}", source,
                                 log.skipped.empty() ? "" : " (" + log.skipped.summary() + ")"));
  s.skipped_events = log.skipped;
  s.negative_dropped = log.negative_dropped;
  s.negative_clipped = log.negative_clipped;
  s.notes = log.notes;

  // Another id space: a batch sharing no user and no item with the store would be a
  // disconnected graph beside it, which no incremental step (or anyone) wants.
  const bool known = std::any_of(log.events.begin(), log.events.end(), [&](const graph::Event& e) {
    return e.user < old_users || e.item < old_items;
  });
  if (!known)
    throw InputError(fmt::format(
        "{}: none of its {} users and none of its {} items is in the store {}: the ids look like another "
        "store's (update appends to the store's own id space; ingest these events as a store of their own)",
        source, log.users.size() - old_users, log.items.size() - old_items, q.store));

  const graph::Time last_begin = store.periods().begin.back();
  const auto early = std::min_element(log.events.begin(), log.events.end(),
                                      [](const graph::Event& a, const graph::Event& b) { return a.time < b.time; });
  s.backfill = early->time < last_begin;
  if (s.backfill && !q.allow_backfill)
    throw InputError(fmt::format(
        "{}: the event of user '{}' on item '{}' at {} falls before the store's last period, which begins {}; "
        "update appends to the last period or after it (pass --allow-backfill to insert earlier events: the "
        "results are then recomputed from the earliest period they touch)",
        source, log.users.name(early->user), log.items.name(early->item), io::format_time(early->time),
        io::format_time(last_begin)));
  return log;
}

// Every event merged (the stored ones first among exact ties, as ingesting the old log
// then the new one would order them), the periods cut anew and every slice built.
void merge_rewritten(const io::Store& store, io::EventLog& log, const graph::Slicing& slicing, Appended& a) {
  const graph::EventColumns old = store.events();
  graph::EventColumns& m = a.content.events;
  const std::size_t total = old.size() + log.events.size();
  m.user.reserve(total);
  m.item.reserve(total);
  m.time.reserve(total);
  m.value.reserve(total);
  std::size_t k = 0;
  auto push_old = [&] {
    m.user.push_back(old.user[k]);
    m.item.push_back(old.item[k]);
    m.time.push_back(old.time[k]);
    m.value.push_back(old.value[k]);
    ++k;
  };
  for (const graph::Event& e : log.events) {
    while (k < old.size() && !graph::event_before(e, {old.time[k], old.user[k], old.item[k], 0})) push_old();
    m.user.push_back(e.user);
    m.item.push_back(e.item);
    m.time.push_back(e.time);
    m.value.push_back(e.value);
  }
  while (k < old.size()) push_old();
  const graph::Time first_new = log.events.front().time;
  log.events = {};

  a.periods = graph::make_periods(slicing, m.time);
  a.first = graph::period_offsets(a.periods, m.time);
  while (a.first_changed + 1 < a.periods.size() && a.periods.end[a.first_changed] <= first_new) ++a.first_changed;
  // The periods before the first changed one are the stored ones.
  for (std::size_t t = 0; t < a.first_changed; ++t)
    DRIFTREC_ASSERT(t < store.n_slices() && a.periods.begin[t] == store.periods().begin[t] &&
                    a.periods.end[t] == store.periods().end[t]);
  for (std::size_t t = 0; t < a.periods.size(); ++t)
    a.slices.push_back(graph::slice_matrix(m, a.first[t], a.first[t + 1], a.users(), a.items(), a.aggregate));
}

// Every new event after the stored ones: the stored periods stay, the new events' periods
// follow (the first joins the stored last period when it is that one). Only the stored
// events of that period are read; the earlier slices are read from the store (grown to
// the new ids), the later ones built from the events.
void merge_in_place(const io::Store& store, io::EventLog& log, const graph::Slicing& slicing, Appended& a) {
  std::vector<graph::Time> times(log.events.size());
  for (std::size_t k = 0; k < times.size(); ++k) times[k] = log.events[k].time;
  const graph::Periods added = graph::make_periods(slicing, times);
  a.periods = store.periods();
  const std::size_t n_old = a.periods.size();
  const bool joins_last = n_old > 0 && added.begin.front() == a.periods.begin.back();
  DRIFTREC_ASSERT(n_old == 0 || added.begin.front() >= a.periods.begin.back());
  a.first_changed = joins_last ? n_old - 1 : n_old;
  for (std::size_t k = joins_last ? 1 : 0; k < added.size(); ++k) {
    if (a.periods.size() == graph::kMaxPeriods)
      throw InputError(fmt::format("slicing '{}' gives more than {} non-empty periods; choose a coarser slicing",
                                   slicing.spec(), graph::kMaxPeriods));
    a.periods.begin.push_back(added.begin[k]);
    a.periods.end.push_back(added.end[k]);
  }
  a.events_period = a.first_changed;
  a.plan.events_offset = joins_last ? io::first_event_at_or_after(store, a.periods.begin[n_old - 1]) : a.plan.stored_events;
  graph::EventColumns& m = a.content.events;
  if (joins_last) m = io::read_events_from(store, a.plan.events_offset);
  const std::size_t total = m.size() + log.events.size();
  m.user.reserve(total);
  m.item.reserve(total);
  m.time.reserve(total);
  m.value.reserve(total);
  for (const graph::Event& e : log.events) {
    m.user.push_back(e.user);
    m.item.push_back(e.item);
    m.time.push_back(e.time);
    m.value.push_back(e.value);
  }
  log.events = {};

  graph::Periods tail;
  tail.begin.assign(a.periods.begin.begin() + static_cast<std::ptrdiff_t>(a.first_changed), a.periods.begin.end());
  tail.end.assign(a.periods.end.begin() + static_cast<std::ptrdiff_t>(a.first_changed), a.periods.end.end());
  a.first = graph::period_offsets(tail, m.time);
  DRIFTREC_ASSERT(a.first.front() == 0 && a.first.back() == m.size());
  for (std::size_t t = 0; t < a.first_changed; ++t) {
    graph::CsrMatrix sl = store.slice(t);
    sl.indptr.resize(static_cast<std::size_t>(a.users()) + 1, sl.indptr.back());
    sl.n_rows = a.users();
    sl.n_cols = a.items();
    a.slices.push_back(std::move(sl));
  }
  for (std::size_t t = a.first_changed; t < a.periods.size(); ++t)
    a.slices.push_back(graph::slice_matrix(m, a.offset(t), a.offset(t + 1), a.users(), a.items(), a.aggregate));
}

// The merged store content, periods and slices.
Appended merge(const io::Store& store, io::EventLog&& log, const UpdateRequest& q, UpdateSummary& s) {
  const graph::Slicing slicing = graph::Slicing::parse(store.slicing());
  Appended a;
  a.aggregate = store.aggregate();
  a.old_users = store.n_users();
  a.old_items = store.n_items();
  a.old_labels = store.n_labels();
  io::StoreContent& c = a.content;
  c.users = log.users.names();
  c.items = log.items.names();
  c.labels = store.labels();
  c.item_titles = store.item_titles();
  c.item_titles.resize(c.items.size());

  // Labels: a stored item keeps its labels (changing them would change every period);
  // new items get theirs from the labels input.
  const graph::CsrMatrix old_labels = store.item_labels();
  std::vector<graph::Triplet> entries;
  for (Index i = 0; i < old_labels.n_rows; ++i)
    for (graph::Offset e = old_labels.indptr[i]; e < old_labels.indptr[i + 1]; ++e)
      entries.push_back({i, old_labels.indices[e], old_labels.data[e]});
  if (q.label_columns || !q.labels_file.empty()) {
    io::ItemLabels lab;
    lab.labels = io::IdMap::from_names(c.labels);
    if (q.label_columns) io::read_label_columns(*q.label_columns, q.on_error, log.items, lab);
    else io::read_labels(q.labels_file, q.labels, log.items, lab);
    for (const graph::Triplet& t : lab.entries) {
      if (t.row >= a.old_items) {
        entries.push_back(t);
      } else {  // count the pairs that would change a stored item
        const auto b = old_labels.indices.begin() + old_labels.indptr[t.row];
        const auto e = old_labels.indices.begin() + old_labels.indptr[t.row + 1];
        if (t.col >= a.old_labels || !std::binary_search(b, e, t.col)) ++s.label_rows_for_known_items;
      }
    }
    if (!lab.titles.empty())
      for (Index i = a.old_items; i < log.items.size(); ++i) c.item_titles[static_cast<std::size_t>(i)] = lab.titles[static_cast<std::size_t>(i)];
    c.labels = lab.labels.names();
    s.notes.insert(s.notes.end(), lab.notes.begin(), lab.notes.end());
  }
  c.item_labels = graph::csr_from_triplets(a.items(), a.labels(), entries);

  graph::sort_events(log.events);
  s.events_added = static_cast<std::int64_t>(log.events.size());
  a.plan.old_users = a.old_users;
  a.plan.old_items = a.old_items;
  a.plan.old_labels = a.old_labels;
  a.plan.stored_events = static_cast<std::size_t>(store.n_events());
  // In place when every new event sorts after the stored ones (then the merged order is
  // the stored events, then the new ones) and the event datasets can grow.
  const bool after = store.n_events() == 0 || !graph::event_before(log.events.front(), io::last_event(store));
  a.plan.in_place = after && io::events_extensible(store);
  s.events_in_place = a.plan.in_place;
  if (a.plan.in_place) merge_in_place(store, log, slicing, a);
  else merge_rewritten(store, log, slicing, a);
  if (!a.plan.in_place)
    s.notes.push_back(after ? fmt::format("{}: its event datasets cannot grow in place (written before update "
                                          "appended in place): events and ids rewritten whole, extensible, so the "
                                          "next update appends in place",
                                          q.store)
                            : "backfill: the events were merged and rewritten whole");
  return a;
}

// A stored matrix of an earlier period grown to the new row and column counts: new rows
// are copied from `fill` (or zero), new columns zero.
template <class M>
M grown(const M& old, Index rows, Index cols, const M* fill = nullptr) {
  M out = M::Zero(rows, cols);
  out.topLeftCorner(old.rows(), old.cols()) = old;
  if (fill && rows > old.rows())
    out.bottomRows(rows - old.rows()) = fill->bottomRows(rows - old.rows()).leftCols(cols);
  return out;
}

// What this update's label propagation and temporal ALS computed from the first period
// they recomputed on, kept when the store holds a sequence model to step: its features are
// exactly these when its options and starting matrices are theirs (reusable_features).
struct LabelRun {
  pr::TemporalOptions options;
  std::size_t from = 0;                    // the first period computed
  pr::DenseMatrix resumed_from;            // the raw F_U(from - 1) it started from
  std::vector<pr::DenseMatrix> interests;  // periods from.. (row-normalised F_U)
  pr::DenseMatrix last_user_scores;        // raw F_U of the last period
  int not_converged = 0;
};
struct AlsRun {
  mf::TemporalAlsOptions options;  // als.iterations: the sweeps run on each period
  std::size_t from = 0;
  mf::Factors start_users, start_items, previous;  // the warm start and drift prior of period `from`
  std::vector<mf::Factors> user_factors;           // periods from..
  mf::Factors last_items;
};
struct Recomputed {
  bool keep = false;  // a sequence model is to be stepped
  std::vector<LabelRun> label;
  std::vector<AlsRun> als;
};

UpdatedResult update_label(const io::Store& old, io::StoreWriter& w, const std::string& name, const Appended& a,
                           const UpdateRequest& q, Recomputed& kept) {
  const auto t0 = Clock::now();
  const io::LabelResultInfo info = io::read_label_result(old, name);
  pr::TemporalOptions o = info.options;
  o.propagation.threads = q.threads;
  const std::size_t n = a.periods.size();
  const std::size_t first_kept = first_kept_period(info.keep, n, "keep");
  UpdatedResult r{name, "label_propagation", a.first_changed, {}, std::nullopt, 0, 0};

  pr::TemporalResume resume;
  resume.first_period = a.first_changed;
  if (a.first_changed > 0) {
    const std::optional<pr::DenseMatrix> prev = info.iterations.size() == old.n_slices()
                                                    ? io::read_user_scores(old, name, a.first_changed - 1)
                                                    : std::nullopt;
    if (prev) {
      resume.previous_user_scores = grown(*prev, a.users(), a.labels());
    } else {
      resume.first_period = r.recomputed_from = 0;
      r.note = fmt::format("the result keeps no raw F_U({}) to resume from (it keeps the last two periods'; "
                           "older results keep none): recomputed from period 0",
                           a.first_changed - 1);
    }
  }
  const std::size_t start = resume.first_period;

  // Periods before `start` are the stored ones, grown: a new user has no score there; a
  // new item is isolated there, so its F_I is (1 - alpha) Y_I exactly as propagation
  // computes it (no neighbour term); a new label is zero for every stored item.
  // Without new ids the stored datasets are moved over as they are.
  const pr::DenseMatrix seeds = pr::item_seed_labels(a.content.item_labels);
  const pr::DenseMatrix isolated = ((1.0f - o.propagation.alpha) * 1.0f) * seeds;
  const bool same_shape = a.users() == a.old_users && a.items() == a.old_items && a.labels() == a.old_labels;
  const std::string stash = io::stash_result(w, name);
  io::LabelResultWriter out(w, name);
  io::LabelResultInfo next = info;
  next.options = o;
  next.iterations.resize(start);
  next.residual.resize(start);
  next.converged.resize(start);
  for (std::size_t t = first_kept; t < start; ++t) {
    if (same_shape) {
      io::adopt(w, stash, name, "interests", t);
      io::adopt(w, stash, name, "item_labels", t);
      continue;
    }
    const io::LabelPeriod stored = io::read_label_period(old, name, t);
    out.write_period(t, grown(stored.interests, a.users(), a.labels()),
                     grown(stored.item_labels, a.items(), a.labels(), &isolated));
  }
  if (start > 0 && start + 1 >= n) out.write_user_scores(start - 1, resume.previous_user_scores);
  LabelRun* run = nullptr;
  if (kept.keep && start == a.first_changed) {  // (a step can use only a run from there)
    run = &kept.label.emplace_back();
    run->options = o;
    run->from = start;
    run->resumed_from = resume.previous_user_scores;
  }
  pr::propagate_temporal_streaming(
      a.slices, a.content.item_labels, o,
      [&](std::size_t t, pr::PeriodResult& p) {
        if (run) {
          run->interests.push_back(p.interests);
          if (t + 1 == n) run->last_user_scores = p.user_scores;
          run->not_converged += !p.converged;
        }
        if (t >= first_kept) out.write_period(t, p.interests, p.item_labels);
        if (t + 2 >= n) out.write_user_scores(t, p.user_scores);
        next.iterations.push_back(p.iterations);
        next.residual.push_back(p.residual);
        next.converged.push_back(p.converged);
        r.iterations += p.iterations;
        if (q.progress) q.progress("propagate", t + 1, n);
      },
      {}, &resume);
  out.finish(next);
  io::drop_stash(w, stash);
  r.seconds = seconds_since(t0);
  return r;
}

UpdatedResult update_factors(const io::Store& old, io::StoreWriter& w, const std::string& name, const Appended& a,
                             const UpdateRequest& q, Recomputed& kept) {
  const auto t0 = Clock::now();
  mf::TemporalAlsOptions o = io::read_factors_options(old, name);
  o.als.threads = q.threads;
  const std::size_t n = a.periods.size(), n_old = old.n_slices(), p = a.first_changed;
  UpdatedResult r{name, "temporal_als", p, {}, std::nullopt, 0, 0};
  // Keep what the result kept: every period, or the last N.
  auto first_to_keep = [&](const char* side) {
    const std::size_t kept = io::kept_factor_periods(old, name, side).size();
    return kept == n_old ? std::size_t{0} : n - std::min(n, kept);
  };
  const std::size_t first_user = first_to_keep("user_factors"), first_item = first_to_keep("item_factors");
  const int f = o.als.factors;
  // The seeded initialisation of every row, made only when a row of it is used (new ids, or
  // no stored item factors): without new ids it is users x f random numbers for nothing.
  auto initial = [&](Index rows, std::uint64_t stream) { return mf::initial_factors(rows, f, o.als.seed, stream, q.threads); };

  const std::string stash = io::stash_result(w, name);
  io::FactorsResultWriter out(w, name);
  auto save = [&](std::size_t t, const mf::AlsModel& m) {
    if (t >= first_user) out.write_user(t, m.user);
    if (t >= first_item) out.write_item(t, m.item);
    if (q.progress) q.progress("factorize", t + 1, n);
  };
  std::optional<mf::Factors> prior = p > 0 ? io::read_factor_matrix(old, name, "user_factors", p - 1) : std::nullopt;
  if (!prior) {
    r.recomputed_from = 0;
    r.note = p == 0 ? "the first period changed: refitted every period"
                    : fmt::format("the result keeps no user factors of period {} for the drift prior: refitted "
                                  "every period",
                                  p - 1);
    mf::Factors previous;
    mf::fit_temporal_als(a.slices, o, {}, [&](std::size_t t, const mf::AlsModel& m) {
      save(t, m);
      if (t + 1 == n && t > 0) r.objective = mf::temporal_als_loss(mf::decayed_history(a.slices, o.gamma).back(), m, previous, o);
      previous = m.user;
    });
    out.finish(o, old.slicing(), n);
    io::drop_stash(w, stash);
    r.seconds = seconds_since(t0);
    return r;
  }

  // Stored periods before p: moved over as they are, or grown with zero rows when ids
  // were added (a new user or item had no factor then).
  auto carry = [&](const char* side, std::size_t first, Index rows, Index old_rows) {
    const std::vector<std::size_t> stored = io::kept_factor_periods(old, name, side);
    for (std::size_t t : stored) {
      if (t < first || t >= p) continue;
      if (rows == old_rows) io::adopt(w, stash, name, side, t);
      else if (side[0] == 'u') out.write_user(t, grown(*io::read_factor_matrix(old, name, side, t), rows, f));
      else out.write_item(t, grown(*io::read_factor_matrix(old, name, side, t), rows, f));
    }
  };
  carry("user_factors", first_user, a.users(), a.old_users);
  carry("item_factors", first_item, a.items(), a.old_items);

  // Warm start: the stored factors nearest p, new rows from the seeded initialisation the
  // full fit would start them from.
  mf::AlsModel model;
  std::optional<mf::Factors> users = p < n_old ? io::read_factor_matrix(old, name, "user_factors", p) : std::nullopt;
  const mf::Factors& start_users = users ? *users : *prior;
  if (a.users() > start_users.rows()) {
    const mf::Factors init_users = initial(a.users(), mf::kUserStream);
    model.user = grown(start_users, a.users(), f, &init_users);
  } else {
    model.user = grown(start_users, a.users(), f);
  }
  std::optional<mf::Factors> items;
  for (std::size_t t = std::min(p + 1, n_old); t-- > 0 && !items;) items = io::read_factor_matrix(old, name, "item_factors", t);
  if (!items && !io::kept_factor_periods(old, name, "item_factors").empty())  // a backfill before every kept period
    items = io::read_factor_matrix(old, name, "item_factors", io::kept_factor_periods(old, name, "item_factors").back());
  if (!items) {
    model.item = initial(a.items(), mf::kItemStream);
  } else if (a.items() > items->rows()) {
    const mf::Factors init_items = initial(a.items(), mf::kItemStream);
    model.item = grown(*items, a.items(), f, &init_items);
  } else {
    model.item = grown(*items, a.items(), f);
  }
  mf::Factors previous = grown(*prior, a.users(), f);

  std::unique_ptr<mf::AlsBackend> owned;
  mf::AlsOptions als = o.als;
  als.iterations = q.als_sweeps;
  als.backend = &mf::als_backend_or_cpu(o.als.backend, o.als.threads, owned);
  AlsRun* run = nullptr;
  if (kept.keep) {
    run = &kept.als.emplace_back();
    run->options = o;
    run->options.als.iterations = q.als_sweeps;
    run->from = p;
    run->start_users = model.user;
    run->start_items = model.item;
    run->previous = previous;
  }
  graph::CsrMatrix history;  // G_t = gamma G_{t-1} + W_t
  for (std::size_t t = 0; t < n; ++t) {
    history = t == 0 ? a.slices[0] : graph::decay_step(history, a.slices[t], o.gamma);
    if (t < p) continue;
    const graph::CsrMatrix item_users = graph::transpose(history);
    mf::run_sweeps(history, item_users, model, als, mf::DriftPrior{&previous, o.eta}, {}, false);
    if (run) run->user_factors.push_back(model.user);
    if (run && t + 1 == n) run->last_items = model.item;
    save(t, model);
    if (t + 1 == n) r.objective = mf::temporal_als_loss(history, model, previous, o);
    previous = model.user;
  }
  out.finish(o, old.slicing(), n);
  io::drop_stash(w, stash);
  r.seconds = seconds_since(t0);
  return r;
}

// update --retrain: the sequence model trained again, with the options it was trained
// with, on the updated history (what `driftrec train` on the updated store saves).
UpdatedResult retrain_sequence(const io::Store& old, io::StoreWriter& w, const std::string& name,
                               const Appended& a, const UpdateRequest& q) {
  const auto t0 = Clock::now();
  const io::SequenceResult before = io::read_sequence_result(old, name);
  temporal::SequenceOptions o = stored_train_options(before);
  o.model.threads = q.threads;
  o.propagation.propagation.threads = q.threads;
  o.als.als.threads = q.threads;
  o.validate();
  temporal::History h;
  h.n_users = a.users();
  h.n_items = a.items();
  h.n_labels = a.labels();
  h.slices = a.slices;
  if (a.plan.events_offset == 0) {
    h.events = a.content.events;
  } else {  // appended in place: the stored events before the changed period, then the rest
    h.events = old.events();
    h.events.user.resize(a.plan.events_offset);
    h.events.item.resize(a.plan.events_offset);
    h.events.time.resize(a.plan.events_offset);
    h.events.value.resize(a.plan.events_offset);
    const graph::EventColumns& m = a.content.events;
    h.events.user.insert(h.events.user.end(), m.user.begin(), m.user.end());
    h.events.item.insert(h.events.item.end(), m.item.begin(), m.item.end());
    h.events.time.insert(h.events.time.end(), m.time.begin(), m.time.end());
    h.events.value.insert(h.events.value.end(), m.value.begin(), m.value.end());
  }
  h.period_first = graph::period_offsets(a.periods, h.events.time);
  h.item_labels = a.content.item_labels;
  io::SequenceResult r;
  train_history(h, o, old.slicing(), r, q.progress);
  // The item model train chose (and the ranker's setting) stay as chosen: recommend, export
  // and serve refit the ranker on the updated periods with that setting (pipeline/ranking.hpp).
  r.items = before.items;
  r.ranker_source = before.ranker_source;
  r.ranker_l2 = before.ranker_l2;
  r.validation_recall_hybrid = before.validation_recall_hybrid;
  r.validation_recall_ranker = before.validation_recall_ranker;
  io::write_sequence_result(w, name, r);
  return {name, "sequence_model", 0, "retrained on every period (--retrain)", std::nullopt, 0,
          seconds_since(t0)};
}

bool same_propagation(const pr::TemporalOptions& a, const pr::TemporalOptions& b) {
  const pr::LabelPropagationOptions &x = a.propagation, &y = b.propagation;
  return x.alpha == y.alpha && x.tolerance == y.tolerance && x.max_iterations == y.max_iterations &&
         x.reorder == y.reorder && x.backend == y.backend && x.low_memory == y.low_memory && a.gamma == b.gamma &&
         a.mu == b.mu;
}

bool same_als(const mf::TemporalAlsOptions& a, const mf::TemporalAlsOptions& b) {
  const mf::AlsOptions &x = a.als, &y = b.als;
  return x.factors == y.factors && x.regularization == y.regularization && x.alpha == y.alpha &&
         x.iterations == y.iterations && x.cg_steps == y.cg_steps && x.solver == y.solver && x.backend == y.backend &&
         a.eta == b.eta && a.gamma == b.gamma;
}

// The sequence model's features of the new periods, when this update has just computed
// them: a label propagation and a temporal ALS run with the model's feature options, from
// the first new period, over the store's own periods (the model sums none into a head),
// starting from exactly the model's saved raw F_U, user and item factors. The arithmetic
// is then step_sequence's own, so the step is bitwise what it computes itself.
std::optional<temporal::StepFeatures> reusable_features(const Recomputed& done, const io::SequenceResult& r,
                                                        const temporal::SequenceOptions& o, const Appended& a,
                                                        std::size_t covered) {
  if (static_cast<std::size_t>(r.state->fed_periods) != covered || covered == 0) return std::nullopt;
  const LabelRun* label = nullptr;
  const AlsRun* als = nullptr;
  std::optional<temporal::SequenceState> state;
  auto grown_state = [&]() -> const temporal::SequenceState& {
    if (!state) state = temporal::grown_state(r.model, *r.state, a.users());
    return *state;
  };
  for (const LabelRun& run : done.label)
    if (!label && run.from == covered && same_propagation(run.options, o.propagation) &&
        run.resumed_from == grown_state().user_scores)
      label = &run;
  if (!label) return std::nullopt;
  const mf::Factors items = grown(r.item_factors, a.items(), static_cast<Index>(r.item_factors.cols()));
  for (const AlsRun& run : done.als)
    if (!als && run.from == covered && same_als(run.options, o.als) && run.start_users == grown_state().user_factors &&
        run.previous == grown_state().user_factors && run.start_items == items)
      als = &run;
  if (!als) return std::nullopt;
  temporal::StepFeatures f;
  f.interests = label->interests;
  f.user_scores = label->last_user_scores;
  f.not_converged = label->not_converged;
  f.user_factors = als->user_factors;
  f.item_factors = als->last_items;
  return f;
}

// The sequence model stepped forward over the new periods from its saved state, with its
// weights as trained (temporal/sequence_step.hpp). Returns nullopt and says why in `why`
// when it cannot be: a result without a saved state, new events in a period the state has
// already read, or new labels (the model's input has one entry per label).
std::optional<UpdatedResult> step_sequence_result(const io::Store& old, io::StoreWriter& w, const std::string& name,
                                                  const Appended& a, const UpdateRequest& q, const Recomputed& done,
                                                  std::string& why) {
  const auto t0 = Clock::now();
  io::SequenceResult r = io::read_sequence_result(old, name);
  if (!r.state) {
    why = "it keeps no saved state to step forward from (it was trained before `train` kept one); pass --retrain "
          "to train it again on the updated store, or run driftrec train";
    return std::nullopt;
  }
  if (r.model.parameters.cell == temporal::CellKind::attention &&
      r.state->recurrent.keys.size() != static_cast<std::size_t>(r.state->fed_periods)) {
    why = "its attention cell attends over every period fed, and its saved state lacks their keys and values (it "
          "was trained before `train` kept them); pass --retrain to train it again on the updated store";
    return std::nullopt;
  }
  if (r.mixture && !r.state->mixture) {
    if (r.interests == "mixture") {
      why = "its interests come from the interest mixture, and its saved state lacks the mixture's running values "
            "(label EWMAs, labelled periods, the last period's population; it was trained before `train` kept "
            "them); pass --retrain to train it again on the updated store";
      return std::nullopt;
    }
    r.mixture.reset();  // not served and not steppable: the stepped result keeps the cell's alone
  }
  const std::size_t covered = static_cast<std::size_t>(r.state->periods);
  if (a.first_changed < covered || covered > old.n_slices()) {
    why = fmt::format("the new events fall in period {}, which the model has already read (its state covers periods "
                      "0..{}); stepping only adds periods after those: pass --retrain to train it again",
                      a.first_changed, covered - 1);
    return std::nullopt;
  }
  if (a.labels() != a.old_labels) {
    why = fmt::format("{} new labels: the model reads and predicts {} labels; pass --retrain to train it again",
                      a.labels() - a.old_labels, a.old_labels);
    return std::nullopt;
  }
  temporal::SequenceOptions o = stored_train_options(r);
  o.model.threads = q.threads;
  o.propagation.propagation.threads = q.threads;
  o.als.als.threads = q.threads;
  std::vector<std::vector<float>> activity;
  for (std::size_t t = covered; t < a.periods.size(); ++t)
    activity.push_back(temporal::period_activity(a.content.events, a.offset(t), a.offset(t + 1), a.users()));
  std::optional<temporal::MixtureStepInputs> mixture;
  if (r.state->mixture) {
    mixture.emplace();
    mixture->parameters = &*r.mixture;
    for (std::size_t t = covered; t < a.periods.size(); ++t) {
      mixture->truth.push_back(
          temporal::period_interest_truth(a.content.events, a.offset(t), a.offset(t + 1), a.content.item_labels, a.users()));
      mixture->population.push_back(
          temporal::population_distribution(a.content.events, a.offset(t), a.offset(t + 1), a.content.item_labels));
    }
  }
  const std::optional<temporal::StepFeatures> features = reusable_features(done, r, o, a, covered);
  temporal::SteppedSequence stepped =
      temporal::step_sequence(r.model, o, a.slices, a.content.item_labels, activity, *r.state, r.item_factors,
                              mixture ? &*mixture : nullptr, features ? &*features : nullptr);
  const std::size_t steps = a.periods.size() - covered;
  r.next_interests = std::move(r.interests == "mixture" ? stepped.mixture_next : stepped.next.interests);
  r.next_factors = std::move(stepped.next.factors);
  r.item_factors = std::move(stepped.item_factors);
  r.state = std::move(stepped.state);
  r.periods = static_cast<std::int64_t>(a.periods.size());
  io::write_sequence_result(w, name, r);
  UpdatedResult out{name, "sequence_model", covered, {}, std::nullopt, 0, seconds_since(t0)};
  out.steps = static_cast<std::int64_t>(steps);
  out.note = fmt::format("stepped forward {} from its saved state, weights as trained on {} periods (no retraining)",
                         steps == 1 ? std::string("one period") : fmt::format("{} periods", steps), r.trained_periods);
  if (r.interests == "mixture") out.note += "; its interest mixture stepped with it (gate and head as trained)";
  if (features)
    out.note += "; its features are those of the label propagation and temporal ALS results this update carried "
                "forward (same options and starting point), not computed again";
  if (stepped.not_converged > 0)
    out.note += fmt::format("; feature propagation did not converge in {} new period(s)", stepped.not_converged);
  return out;
}

}  // namespace

UpdateSummary update_store(const UpdateRequest& q) {
  const auto t0 = Clock::now();
  if (q.threads < 0) throw InputError(fmt::format("threads: expected 0 (all cores) or more, got {}", q.threads));
  if (q.als_sweeps < 1) throw InputError(fmt::format("als_sweeps: expected 1 or more, got {}", q.als_sweeps));
  if (!q.event_columns) {
    if (q.event_files.empty()) throw InputError("event_files: no file of new events given");
    io::validate_event_options(q.events);
  }
  if (!q.labels_file.empty()) io::validate_label_options(q.labels);

  UpdateSummary s;
  s.store = q.store;
  // The writer (and its lock) before the store is read: what is appended to is the store
  // replaced, whatever other writers do meanwhile (io/write_guard.hpp).
  io::StoreWriter w(q.store, io::StoreWriter::Amend{}, q.threads);
  const io::Store store = io::Store::open(q.store);
  s.periods_before = store.n_slices();
  if (graph::Slicing::parse(store.slicing()).kind == graph::Slicing::Kind::quantiles)
    throw InputError(fmt::format("{}: sliced by {}; new events would move every quantile cut, so update cannot "
                                 "append to it (reslice it by a calendar unit or <N>s first, or ingest everything)",
                                 q.store, store.slicing()));
  io::EventLog lg = read_new_events(store, q, s);
  Appended a = merge(store, std::move(lg), q, s);
  s.seconds_read = seconds_since(t0);
  s.periods_after = a.periods.size();
  s.first_changed_period = a.first_changed;
  s.users_added = a.users() - a.old_users;
  s.items_added = a.items() - a.old_items;
  s.labels_added = a.labels() - a.old_labels;
  for (Index i = a.old_items; i < a.items(); ++i) s.labelled_items_added += a.content.item_labels.row_length(i) > 0;

  io::rewrite_appended(w, a.content, a.periods, a.slices, a.first_changed, a.plan);
  const auto t1 = Clock::now();
  // Sequence models last: a step may take its features from the label and ALS results.
  std::vector<std::string> names = store.results();
  std::stable_partition(names.begin(), names.end(),
                        [&](const std::string& n) { return io::result_kind(store, n) != "sequence_model"; });
  Recomputed done;
  done.keep = !q.retrain && std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return io::result_kind(store, n) == "sequence_model";
  });
  for (const std::string& name : names) {
    const std::string kind = io::result_kind(store, name);
    if (kind == "label_propagation") {
      s.results.push_back(update_label(store, w, name, a, q, done));
    } else if (kind == "temporal_als") {
      s.results.push_back(update_factors(store, w, name, a, q, done));
    } else if (kind == "sequence_model" && q.retrain) {
      s.results.push_back(retrain_sequence(store, w, name, a, q));
    } else {
      std::string why = "it described the old last period (run its command again)";
      if (kind == "sequence_model")
        if (std::optional<UpdatedResult> r = step_sequence_result(store, w, name, a, q, done, why)) {
          s.results.push_back(std::move(*r));
          continue;
        }
      io::drop_result(w, name);
      s.dropped_results.push_back(fmt::format("{} ({})", name, kind));
      s.dropped_reasons.push_back(why);
    }
  }
  s.seconds_results = seconds_since(t1);
  w.commit();
  s.seconds = seconds_since(t0);
  return s;
}

nlohmann::json UpdateSummary::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const UpdatedResult& r : results) {
    nlohmann::json j{{"name", r.name},   {"kind", r.kind}, {"recomputed_from", r.recomputed_from},
                     {"note", r.note},   {"seconds", r.seconds}};
    if (r.kind == "label_propagation") j["iterations"] = r.iterations;
    if (r.kind == "temporal_als") j["objective"] = r.objective ? nlohmann::json(*r.objective) : nlohmann::json(nullptr);
    if (r.kind == "sequence_model") j["stepped_periods"] = r.steps;
    list.push_back(j);
  }
  nlohmann::json skipped = nlohmann::json::object();
  for (const auto& [reason, info] : skipped_events.reasons()) skipped[reason] = {{"count", info.first}, {"first", info.second}};
  return {{"store", store},
          {"events_added", events_added},
          {"users_added", users_added},
          {"items_added", items_added},
          {"labels_added", labels_added},
          {"labelled_items_added", labelled_items_added},
          {"label_rows_for_known_items", label_rows_for_known_items},
          {"periods_before", periods_before},
          {"periods_after", periods_after},
          {"first_changed_period", first_changed_period},
          {"backfill", backfill},
          {"events_in_place", events_in_place},
          {"results", list},
          {"dropped_results", dropped_results},
          {"dropped_reasons", dropped_reasons},
          {"skipped_event_lines", skipped},
          {"negative_values", {{"dropped", negative_dropped}, {"clipped", negative_clipped}}},
          {"notes", notes},
          {"seconds", {{"read", seconds_read}, {"results", seconds_results}, {"total", seconds}}}};
}

}  // namespace driftrec::pipeline
