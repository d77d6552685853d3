#include "io/store_append.hpp"

#include <algorithm>
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

void rewrite_appended(StoreWriter& w, const StoreContent& c, const graph::Periods& periods,
                      const std::vector<graph::CsrMatrix>& slices, std::size_t first_changed) {
  DRIFTREC_ASSERT(slices.size() == periods.size() && first_changed <= periods.size());
  DRIFTREC_ASSERT(c.item_titles.empty() || c.item_titles.size() == c.items.size());
  const hid_t f = w.file();
  const int threads = w.threads();
  const h5::ReadContext cx{w.temp_path(), ~std::uint64_t{0}};  // our own copy, opened by StoreWriter
  unlink_if_present(f, "/users/id");
  h5::write_strings(h5::open_group(f, "/users", cx), "id", c.users);
  unlink_if_present(f, "/items/id");
  unlink_if_present(f, "/items/title");
  {
    const h5::Handle g = h5::open_group(f, "/items", cx);
    h5::write_strings(g, "id", c.items);
    if (std::any_of(c.item_titles.begin(), c.item_titles.end(), [](const std::string& t) { return !t.empty(); }))
      h5::write_strings(g, "title", c.item_titles);
  }
  unlink_if_present(f, "/labels/name");
  h5::write_strings(h5::open_group(f, "/labels", cx), "name", c.labels);
  unlink_if_present(f, "/item_labels");
  write_csr_group(f, "/item_labels", c.item_labels, threads);
  unlink_if_present(f, "/events");
  {
    const h5::Handle g = h5::create_group(f, "/events");
    h5::write_array<std::int32_t>(g, "user", c.events.user, threads);
    h5::write_array<std::int32_t>(g, "item", c.events.item, threads);
    h5::write_array<std::int64_t>(g, "time", c.events.time, threads);
    h5::write_array<float>(g, "value", c.events.value, threads);
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
