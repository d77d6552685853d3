#include "io/store_append.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <stdexcept>

#include <fmt/format.h>

#include "io/hdf5.hpp"
#include "io/results.hpp"

namespace driftrec::io {
namespace {

// Unlinks `path` when it exists, so that a dataset or group of that name can be written
// again (HDF5 does not reclaim the old bytes; see docs/store.md on compaction).
void unlink_if_present(hid_t f, const std::string& path) {
  if (h5::exists(f, path) && H5Ldelete(f, path.c_str(), H5P_DEFAULT) < 0)
    throw std::runtime_error(fmt::format("cannot replace '{}': {}", path, h5::last_error()));
}

}  // namespace

graph::EventColumns read_events_from(const Store& store, std::size_t first) {
  const hid_t f = store.file();
  const h5::ReadContext& cx = store.context();
  const auto n = static_cast<std::size_t>(store.n_events());
  if (first > n) throw InputError(fmt::format("{}: events from {} requested but the store has {}", store.path(), first, n));
  graph::EventColumns e;
  e.user = h5::read_range<std::int32_t>(f, "/events/user", first, n - first, cx);
  e.item = h5::read_range<std::int32_t>(f, "/events/item", first, n - first, cx);
  e.time = h5::read_range<std::int64_t>(f, "/events/time", first, n - first, cx);
  e.value = h5::read_range<float>(f, "/events/value", first, n - first, cx);
  for (std::size_t k = 0; k < e.size(); ++k) {
    if (e.user[k] < 0 || e.user[k] >= store.n_users() || e.item[k] < 0 || e.item[k] >= store.n_items())
      throw InputError(fmt::format("{}: event {} names user {} / item {} outside the id tables", store.path(),
                                   first + k, e.user[k], e.item[k]));
    if (k > 0 && e.time[k] < e.time[k - 1])
      throw InputError(fmt::format("{}: events are not sorted by time at event {}", store.path(), first + k));
    if (!std::isfinite(e.value[k]))
      throw InputError(fmt::format("{}: event {} has a non-finite value", store.path(), first + k));
  }
  return e;
}

std::size_t first_event_at_or_after(const Store& store, graph::Time time) {
  // Blocks of 2^16 times from the end until one starts before `time` (or the first is
  // reached); the events are sorted by time.
  constexpr std::size_t kBlock = std::size_t{1} << 16;
  std::size_t end = static_cast<std::size_t>(store.n_events());
  while (end > 0) {
    const std::size_t begin = end > kBlock ? end - kBlock : 0;
    const std::vector<std::int64_t> t =
        h5::read_range<std::int64_t>(store.file(), "/events/time", begin, end - begin, store.context());
    if (!std::is_sorted(t.begin(), t.end()))
      throw InputError(fmt::format("{}: events are not sorted by time near event {}", store.path(), begin));
    if (t.front() < time) return begin + static_cast<std::size_t>(std::lower_bound(t.begin(), t.end(), time) - t.begin());
    end = begin;
  }
  return 0;
}

graph::Event last_event(const Store& store) {
  DRIFTREC_ASSERT(store.n_events() > 0);
  const auto k = static_cast<std::uint64_t>(store.n_events() - 1);
  const hid_t f = store.file();
  const h5::ReadContext& cx = store.context();
  graph::Event e;
  e.user = h5::read_range<std::int32_t>(f, "/events/user", k, 1, cx)[0];
  e.item = h5::read_range<std::int32_t>(f, "/events/item", k, 1, cx)[0];
  e.time = h5::read_range<std::int64_t>(f, "/events/time", k, 1, cx)[0];
  e.value = h5::read_range<float>(f, "/events/value", k, 1, cx)[0];
  return e;
}

bool events_extensible(const Store& store) {
  for (const char* col : {"/events/user", "/events/item", "/events/time", "/events/value"})
    if (!h5::is_extensible(store.file(), col)) return false;
  return true;
}

namespace {

// The ids, titles, labels and item labels of the rewritten path: replaced whole.
void replace_ids(hid_t f, const StoreContent& c, const h5::ReadContext& cx, int threads) {
  constexpr auto grows = h5::Extent::extensible;
  unlink_if_present(f, "/users/id");
  h5::write_strings(h5::open_group(f, "/users", cx), "id", c.users, threads, grows);
  unlink_if_present(f, "/items/id");
  unlink_if_present(f, "/items/title");
  {
    const h5::Handle g = h5::open_group(f, "/items", cx);
    h5::write_strings(g, "id", c.items, threads, grows);
    if (std::any_of(c.item_titles.begin(), c.item_titles.end(), [](const std::string& t) { return !t.empty(); }))
      h5::write_strings(g, "title", c.item_titles);
  }
  unlink_if_present(f, "/labels/name");
  h5::write_strings(h5::open_group(f, "/labels", cx), "name", c.labels);
  unlink_if_present(f, "/item_labels");
  write_csr_group(f, "/item_labels", c.item_labels, threads);
}

// ids[from..] appended to the string dataset `name`, or the dataset written anew (as an
// extensible one) when it cannot grow or a new id is wider than its strings.
void append_ids(hid_t f, const std::string& group, const std::string& name, const std::vector<std::string>& ids,
                std::size_t from, const h5::ReadContext& cx) {
  if (from == ids.size()) return;
  const h5::Handle g = h5::open_group(f, group, cx);
  if (h5::is_extensible(g, name) &&
      h5::append_strings(g, name, std::vector<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(from), ids.end())))
    return;
  unlink_if_present(f, group + "/" + name);
  h5::write_strings(g, name, ids, 0, h5::Extent::extensible);
}

// The in-place path's ids, titles, labels and item labels: only what ids were added change.
void append_ids(hid_t f, const StoreContent& c, const AppendPlan& plan, const h5::ReadContext& cx, int threads) {
  append_ids(f, "/users", "id", c.users, static_cast<std::size_t>(plan.old_users), cx);
  const bool items_added = static_cast<graph::Index>(c.items.size()) != plan.old_items;
  const bool labels_added = static_cast<graph::Index>(c.labels.size()) != plan.old_labels;
  append_ids(f, "/items", "id", c.items, static_cast<std::size_t>(plan.old_items), cx);
  if (items_added) {  // titles: O(items), written whole
    unlink_if_present(f, "/items/title");
    if (std::any_of(c.item_titles.begin(), c.item_titles.end(), [](const std::string& t) { return !t.empty(); }))
      h5::write_strings(h5::open_group(f, "/items", cx), "title", c.item_titles);
  }
  if (labels_added) {
    unlink_if_present(f, "/labels/name");
    h5::write_strings(h5::open_group(f, "/labels", cx), "name", c.labels);
  }
  // A stored item keeps its labels: the item labels change only with new items or labels.
  if (items_added || labels_added) {
    unlink_if_present(f, "/item_labels");
    write_csr_group(f, "/item_labels", c.item_labels, threads);
  }
}

}  // namespace

void rewrite_appended(StoreWriter& w, const StoreContent& c, const graph::Periods& periods,
                      const std::vector<graph::CsrMatrix>& slices, std::size_t first_changed, const AppendPlan& plan) {
  DRIFTREC_ASSERT(slices.size() == periods.size() && first_changed <= periods.size());
  DRIFTREC_ASSERT(c.item_titles.empty() || c.item_titles.size() == c.items.size());
  DRIFTREC_ASSERT(plan.in_place || plan.events_offset == 0);
  DRIFTREC_ASSERT(plan.events_offset <= plan.stored_events && plan.stored_events <= plan.events_offset + c.events.size());
  const hid_t f = w.file();
  const int threads = w.threads();
  const h5::ReadContext cx{w.temp_path(), ~std::uint64_t{0}};  // our own copy, opened by StoreWriter
  if (plan.in_place) {
    append_ids(f, c, plan, cx, threads);
    // The events after the stored ones.
    const std::size_t from = plan.stored_events - plan.events_offset;
    const h5::Handle g = h5::open_group(f, "/events", cx);
    auto tail = [&](const auto& column) { return std::span(column).subspan(from); };
    h5::append_array(g, "user", tail(c.events.user), threads);
    h5::append_array(g, "item", tail(c.events.item), threads);
    h5::append_array(g, "time", tail(c.events.time), threads);
    h5::append_array(g, "value", tail(c.events.value), threads);
  } else {
    replace_ids(f, c, cx, threads);
    unlink_if_present(f, "/events");
    constexpr auto grows = h5::Extent::extensible;
    const h5::Handle g = h5::create_group(f, "/events");
    h5::write_array<std::int32_t>(g, "user", c.events.user, threads, grows);
    h5::write_array<std::int32_t>(g, "item", c.events.item, threads, grows);
    h5::write_array<std::int64_t>(g, "time", c.events.time, threads, grows);
    h5::write_array<float>(g, "value", c.events.value, threads, grows);
  }
  const h5::Handle sg = h5::open_group(f, "/slices", cx);
  unlink_if_present(f, "/slices/begin");
  unlink_if_present(f, "/slices/end");
  h5::write_array<std::int64_t>(sg, "begin", periods.begin, threads);
  h5::write_array<std::int64_t>(sg, "end", periods.end, threads);
  for (std::size_t k = 0; k < periods.size(); ++k) {
    const std::string group = slice_group_name(k);
    if (k < first_changed && h5::exists(f, group)) {
      // Same entries; a longer indptr when users were added.
      if (h5::array_size(f, group + "/indptr", cx) == slices[k].indptr.size()) continue;
      unlink_if_present(f, group + "/indptr");
      h5::write_array<std::int64_t>(h5::open_group(f, group, cx), "indptr", slices[k].indptr, threads);
    } else {
      unlink_if_present(f, group);
      write_csr_group(f, group, slices[k], threads);
    }
  }
}

void drop_result(StoreWriter& w, const std::string& name) { w.drop_result(name); }

std::string stash_result(StoreWriter& w, const std::string& name) {
  const std::string from = "/results/" + name, to = "/results/.stash-" + name;
  w.copy_result(name);  // results reach the new file at commit(); this one is needed now
  unlink_if_present(w.file(), to);
  if (H5Lmove(w.file(), from.c_str(), w.file(), to.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    throw std::runtime_error(fmt::format("cannot move '{}' aside: {}", from, h5::last_error()));
  return to;
}

void adopt(StoreWriter& w, const std::string& stash, const std::string& name, const std::string& group,
           std::size_t period) {
  const std::string dataset = group + "/" + period_name(period);
  const std::string from = stash + "/" + dataset, to = "/results/" + name + "/" + dataset;
  if (H5Lmove(w.file(), from.c_str(), w.file(), to.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    throw std::runtime_error(fmt::format("cannot move '{}' to '{}': {}", from, to, h5::last_error()));
}

void drop_stash(StoreWriter& w, const std::string& stash) { unlink_if_present(w.file(), stash); }

}  // namespace driftrec::io
