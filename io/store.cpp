#include "io/store.hpp"
#include "io/hdf5.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/parallel.hpp"

namespace driftrec::io {
namespace fs = std::filesystem;
using graph::Index;

std::string slice_group_name(std::size_t k) { return fmt::format("/slices/{:04d}", k); }

namespace {

bool fsync_path(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void write_csr_group(hid_t file, const std::string& group, const graph::CsrMatrix& m, int threads) {
  h5::Handle g = h5::create_group(file, group);
  h5::write_array<std::int64_t>(g, "indptr", m.indptr, threads);
  h5::write_array<std::int32_t>(g, "indices", m.indices, threads);
  h5::write_array<float>(g, "data", m.data, threads);
}

graph::CsrMatrix read_csr_group(hid_t file, const std::string& group, Index rows, Index cols,
                                const h5::ReadContext& cx) {
  graph::CsrMatrix m;
  m.n_rows = rows;
  m.n_cols = cols;
  m.indptr = h5::read_array<std::int64_t>(file, group + "/indptr", cx);
  m.indices = h5::read_array<std::int32_t>(file, group + "/indices", cx);
  m.data = h5::read_array<float>(file, group + "/data", cx);
  graph::validate_csr(m, (cx.file + ": " + group).c_str());
  return m;
}

StoreWriter::StoreWriter(std::string target, bool overwrite, int threads)
    : target_(std::move(target)), threads_(threads) {
  core::check_threads(threads);
  prepare(overwrite, /*existing=*/false);
  try {
    file_ = h5::create_file(temp_);
  } catch (const std::runtime_error& e) {
    throw InputError(fmt::format("{}: cannot create the store: {}", target_, e.what()));
  }
  protect_temp();
}

StoreWriter::StoreWriter(std::string existing, Amend, int threads)
    : target_(std::move(existing)), threads_(threads) {
  core::check_threads(threads);
  prepare(/*overwrite=*/true, /*existing=*/true);
  copy_base();
}

StoreWriter::StoreWriter(std::string existing, Rewrite, int threads)
    : target_(std::move(existing)), threads_(threads) {
  core::check_threads(threads);
  prepare(/*overwrite=*/true, /*existing=*/true);
  file_ = h5::create_file(temp_);
  protect_temp();
}

void StoreWriter::prepare(bool overwrite, bool existing) {
  if (target_.empty() || target_.back() == '/')
    throw InputError(fmt::format("output '{}': expected a file path such as out/store.h5", target_));
  out_ = resolve_output(target_);
  if (existing) {
    Store::open(out_.path);  // a clear error for anything but a store
    refuse_read_only(out_);
  }
  fs::path t(out_.path);
  fs::path dir = t.has_parent_path() ? t.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(fmt::format("{}: the folder {} does not exist", target_, dir.string()));
  if (out_.exists && !overwrite)
    throw InputError(fmt::format("{}: already exists; pass --force to replace it", target_));
  if (::access(dir.c_str(), W_OK) != 0)
    throw InputError(fmt::format("{}: cannot write in {}: {}", target_, dir.string(), std::strerror(errno)));
  temp_ = temp_path_for(out_.path, ::getpid());
  guard_ = std::make_unique<WriteGuard>(out_.path, target_, temp_);
  // Under the lock the store is what this job reads; look again, another writer may have
  // created, replaced or removed it while this one waited.
  const OutputTarget now = resolve_output(target_);
  if (now.path != out_.path)
    throw InputError(fmt::format("{}: was replaced by another process while waiting for it; run again", target_));
  out_ = now;
  if (existing) {
    Store::open(out_.path);
    refuse_read_only(out_);
  } else if (out_.exists && !overwrite) {
    throw InputError(fmt::format("{}: already exists; pass --force to replace it", target_));
  }
}

namespace {

// Copies every attribute of `from` (an object) to `to`, whatever its type.
void copy_attributes(hid_t from, hid_t to) {
  struct Pair {
    hid_t to;
    bool ok = true;
  } pair{to};
  H5Aiterate2(
      from, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
        auto* p = static_cast<Pair*>(data);
        h5::Handle a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
        h5::Handle type(a < 0 ? -1 : H5Aget_type(a), H5Tclose);
        h5::Handle space(a < 0 ? -1 : H5Aget_space(a), H5Sclose);
        if (a < 0 || type < 0 || space < 0) return p->ok = false, -1;
        const hssize_t n = H5Sget_simple_extent_npoints(space);
        std::vector<unsigned char> buf(static_cast<std::size_t>(std::max<hssize_t>(n, 1)) * H5Tget_size(type));
        if (H5Aread(a, type, buf.data()) < 0) return p->ok = false, -1;
        h5::Handle b(H5Acreate2(p->to, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        const bool written = b >= 0 && H5Awrite(b, type, buf.data()) >= 0;
        if (H5Tdetect_class(type, H5T_VLEN) > 0 || H5Tis_variable_str(type) > 0)
          H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf.data());
        if (!written) return p->ok = false, -1;
        return 0;
      },
      &pair);
  if (!pair.ok) h5::throw_write_error("cannot copy the store's attributes");
}

std::vector<std::string> link_names(hid_t group) {
  std::vector<std::string> names;
  H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
             [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
               static_cast<std::vector<std::string>*>(out)->emplace_back(name);
               return 0;
             },
             &names);
  return names;
}

void copy_object(hid_t from, hid_t to, const std::string& path) {
  if (H5Ocopy(from, path.c_str(), to, path.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
    h5::throw_write_error(fmt::format("cannot copy '{}'", path));
}

}  // namespace

// The store's objects are copied one by one (H5Ocopy copies compressed chunks as they
// are), not its bytes: a file copy would carry along the unreachable space of every result
// ever replaced, and stores would only grow. Results come last, in commit().
void StoreWriter::copy_base() {
  base_ = h5::open_file(out_.path);
  file_ = h5::create_file(temp_);
  protect_temp();
  copy_attributes(base_, file_);
  for (const std::string& name : link_names(base_))
    if (name != "results") copy_object(base_, file_, "/" + name);
}

// The temporary file holds the store's data before it is renamed: it gets the store's
// permission bits at once, so a private (0600) store is not readable by others meanwhile.
void StoreWriter::protect_temp() {
  if (out_.exists && ::chmod(temp_.c_str(), (out_.mode & 0777) | S_IRUSR) != 0)
    throw InternalError(fmt::format("cannot set the mode of {}: {}", temp_, std::strerror(errno)));
}

StoreWriter::~StoreWriter() {
  if (!committed_) {
    file_.reset();
    base_.reset();
  }
  // guard_ (destroyed last) removes the temporary file unless it was renamed.
}

// Groups are made anew and only datasets copied with H5Ocopy: copying a whole result group
// (hundreds of period datasets) into the file being amended failed in HDF5 with "can't
// insert duplicate key" (driftrec update on MovieLens after factorize).
static void copy_tree(hid_t from, hid_t to, const std::string& path) {
  H5O_info_t info;
  if (H5Oget_info_by_name2(from, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
    h5::throw_write_error(fmt::format("cannot inspect '{}'", path));
  if (info.type != H5O_TYPE_GROUP) {
    copy_object(from, to, path);
    return;
  }
  h5::Handle src(H5Gopen2(from, path.c_str(), H5P_DEFAULT), H5Gclose);
  if (src < 0) h5::throw_write_error(fmt::format("cannot open '{}'", path));
  h5::Handle dst = h5::create_group(to, path);
  copy_attributes(src, dst);
  for (const std::string& child : link_names(src)) copy_tree(from, to, path + "/" + child);
}

void StoreWriter::copy_result(const std::string& name) {
  const std::string path = "/results/" + name;
  DRIFTREC_ASSERT(base_ >= 0);
  if (!h5::exists(base_, path) || h5::exists(file_, path)) return;
  if (!h5::exists(file_, "/results")) h5::create_group(file_, "/results");
  copy_tree(base_, file_, path);
}

void StoreWriter::drop_result(const std::string& name) {
  dropped_.push_back(name);
  const std::string path = "/results/" + name;
  if (h5::exists(file_, path) && H5Ldelete(file_, path.c_str(), H5P_DEFAULT) < 0)
    h5::throw_write_error(fmt::format("cannot remove '{}'", path));
}

// The store's results this writer did not write or drop, into the new file.
void StoreWriter::copy_results() {
  if (base_ >= 0 && h5::exists(base_, "/results")) {
    h5::Handle from(H5Gopen2(base_, "/results", H5P_DEFAULT), H5Gclose);
    if (from < 0) h5::throw_write_error("cannot open /results");
    if (!h5::exists(file_, "/results")) h5::create_group(file_, "/results");
    for (const std::string& name : link_names(from))
      if (!h5::exists(file_, "/results/" + name) && std::find(dropped_.begin(), dropped_.end(), name) == dropped_.end())
        copy_object(base_, file_, "/results/" + name);
  }
  base_.reset();
}

void StoreWriter::hand_over(const std::string& replaced) {
  DRIFTREC_ASSERT(file_ >= 0);
  drop_result(replaced);
  copy_results();
  if (!h5::exists(file_, "/results")) h5::create_group(file_, "/results");
  if (H5Fclose(file_.release()) < 0) h5::throw_write_error(fmt::format("cannot close {}", temp_));
}

void StoreWriter::commit() {
  // Every step is checked before the rename: a store that did not reach the disk whole
  // (disk full, quota) must never replace the target. After hand_over() the file is
  // closed already, by its other writers.
  if (file_ >= 0) {
    copy_results();
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) h5::throw_write_error(fmt::format("cannot flush {}", temp_));
    if (H5Fclose(file_.release()) < 0) h5::throw_write_error(fmt::format("cannot close {}", temp_));
  }
  const int fd = ::open(temp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InternalError(fmt::format("cannot open {}: {}", temp_, std::strerror(errno)));
  if (out_.exists) {
    // The replaced store's owner first (chown may clear set-id bits), then its mode; a
    // user who may not give the file away keeps it (as cp does).
    [[maybe_unused]] int owned = ::fchown(fd, out_.uid, out_.gid);
    if (::fchmod(fd, out_.mode) != 0) {
      const int err = errno;
      ::close(fd);
      throw InternalError(fmt::format("cannot set the mode of {}: {}", temp_, std::strerror(err)));
    }
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    const std::string full = no_space_message(temp_, err);
    throw InternalError(!full.empty() ? full : fmt::format("cannot sync {} to disk: {}", temp_, std::strerror(err)));
  }
  ::close(fd);
  // The folder's name is made before the rename: after it nothing may throw (allocate),
  // or the caller would report an error for a store that was replaced.
  const std::string dir =
      (fs::path(out_.path).has_parent_path() ? fs::path(out_.path).parent_path() : fs::path(".")).string();
  if (::rename(temp_.c_str(), out_.path.c_str()) != 0)
    throw InternalError(fmt::format("cannot rename {} to {}: {}", temp_, out_.path, std::strerror(errno)));
  committed_ = true;
  guard_->renamed();
  fsync_path(dir, true);
  guard_.reset();  // the lock is released once the new store is in place
}

std::size_t write_store(StoreWriter& w, const StoreContent& c,
                                      const graph::Slicing& slicing, graph::Aggregate aggregate,
                                      const ProgressFn& progress) {
  StoreTables t;
  t.n_users = c.users.size();
  t.n_items = c.items.size();
  t.user = [&](std::uint64_t i) { return std::string_view(c.users[i]); };
  t.item = [&](std::uint64_t i) { return std::string_view(c.items[i]); };
  t.item_titles = &c.item_titles;
  t.labels = &c.labels;
  t.item_labels = &c.item_labels;
  write_store_tables(w, t, slicing);
  return write_store_events(w, c.events, static_cast<Index>(c.users.size()), static_cast<Index>(c.items.size()), slicing,
                            aggregate, progress);
}

void write_store_tables(StoreWriter& w, const StoreTables& t, const graph::Slicing& slicing) {
  static const std::vector<std::string> kNone;
  static const graph::CsrMatrix kNoLabels;
  const std::vector<std::string>& titles = t.item_titles ? *t.item_titles : kNone;
  DRIFTREC_THROW_IF_NOT(titles.empty() || titles.size() == t.n_items,
                        fmt::format("write_store: {} item titles for {} items; expected none or one per item",
                                    titles.size(), t.n_items));
  hid_t f = w.file();
  const int threads = w.threads();
  h5::write_attr(f, "format", std::string(kStoreFormat));
  h5::write_attr(f, "version", kStoreVersion);
  h5::write_attr(f, "created_by", std::string(kCreatedBy));
  h5::write_attr(f, "slicing", slicing.spec());

  // Ids and events are extensible: `update` appends to them in place.
  constexpr auto grows = h5::Extent::extensible;
  { h5::Handle g = h5::create_group(f, "/users"); h5::write_strings(g, "id", t.n_users, t.user, threads, grows); }
  {
    h5::Handle g = h5::create_group(f, "/items");
    h5::write_strings(g, "id", t.n_items, t.item, threads, grows);
    if (std::any_of(titles.begin(), titles.end(), [](const std::string& s) { return !s.empty(); }))
      h5::write_strings(g, "title", titles, threads);
  }
  { h5::Handle g = h5::create_group(f, "/labels"); h5::write_strings(g, "name", t.labels ? *t.labels : kNone); }
  write_csr_group(f, "/item_labels", t.item_labels ? *t.item_labels : kNoLabels, threads);
}

std::size_t write_store_events(StoreWriter& w, const graph::EventColumns& events, Index n_users, Index n_items,
                               const graph::Slicing& slicing, graph::Aggregate aggregate, const ProgressFn& progress) {
  hid_t f = w.file();
  const int threads = w.threads();
  {
    h5::Handle g = h5::create_group(f, "/events");
    constexpr auto grows = h5::Extent::extensible;
    h5::write_array<std::int32_t>(g, "user", events.user, threads, grows);
    h5::write_array<std::int32_t>(g, "item", events.item, threads, grows);
    h5::write_array<std::int64_t>(g, "time", events.time, threads, grows);
    h5::write_array<float>(g, "value", events.value, threads, grows);
  }

  const graph::Periods periods = graph::make_periods(slicing, events.time);
  const std::vector<std::size_t> first = graph::period_offsets(periods, events.time);
  h5::Handle sg = h5::create_group(f, "/slices");
  h5::write_attr(sg, "aggregate", std::string(graph::to_string(aggregate)));
  h5::write_array<std::int64_t>(sg, "begin", periods.begin, threads);
  h5::write_array<std::int64_t>(sg, "end", periods.end, threads);
  // A slice is built and its arrays compressed on one thread, `threads` slices at once; the
  // calling thread then writes them in order (HDF5 is called from one thread only). Only
  // the compressed slices wait, and only `threads` of them.
  struct PackedSlice {
    h5::CompressedChunks indptr, indices, data;
  };
  const auto batch = static_cast<std::size_t>(core::thread_count(threads));
  for (std::size_t k0 = 0; k0 < periods.size(); k0 += batch) {
    std::vector<PackedSlice> packed(std::min(batch, periods.size() - k0));
    core::parallel_for(static_cast<std::int64_t>(packed.size()), {threads, core::Schedule::dynamic}, [&](std::int64_t i) {
      const std::size_t k = k0 + static_cast<std::size_t>(i);
      const graph::CsrMatrix m = graph::slice_matrix(events, first[k], first[k + 1], n_users, n_items, aggregate);
      PackedSlice& p = packed[static_cast<std::size_t>(i)];
      p.indptr = h5::compress_array<std::int64_t>(m.indptr, 1);
      p.indices = h5::compress_array<std::int32_t>(m.indices, 1);
      p.data = h5::compress_array<float>(m.data, 1);
    });
    for (std::size_t i = 0; i < packed.size(); ++i) {
      h5::Handle g = h5::create_group(f, slice_group_name(k0 + i));
      h5::write_compressed(g, "indptr", h5::native_type<std::int64_t>(), packed[i].indptr);
      h5::write_compressed(g, "indices", h5::native_type<std::int32_t>(), packed[i].indices);
      h5::write_compressed(g, "data", h5::native_type<float>(), packed[i].data);
      packed[i] = {};  // freed as soon as written
      if (progress) progress(k0 + i + 1, periods.size());
    }
  }
  return periods.size();
}

Store Store::open(const std::string& path) {
  Store s;
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) throw InputError(fmt::format("{}: cannot open store: {}", path, ec.message()));
  // Deflate expands at most ~1032x; a dataset claiming more than that is corrupt.
  s.cx_ = {path, std::max<std::uint64_t>(std::uint64_t{1} << 30, size * 1100)};
  s.file_ = h5::open_file(path);
  const auto& cx = s.cx_;
  hid_t f = s.file_;
  if (!h5::has_attr(f, "format") || h5::read_attr_string(f, "format", cx) != kStoreFormat)
    throw InputError(fmt::format("{}: an HDF5 file but not a driftrec store (no format=\"driftrec\" "
                                 "attribute)",
                                 path));
  auto version = h5::read_attr_int(f, "version", cx);
  if (version != kStoreVersion)
    throw InputError(fmt::format("{}: store version {}; this driftrec reads version {}", path, version, kStoreVersion));
  s.slicing_ = h5::read_attr_string(f, "slicing", cx);
  s.created_by_ = h5::read_attr_string(f, "created_by", cx);

  auto count = [&](const char* name) {
    std::uint64_t n = h5::array_size(f, name, cx);
    if (n > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()))
      throw InputError(fmt::format("{}: '{}' has {} entries, more than 32-bit ids allow", path, name, n));
    return static_cast<Index>(n);
  };
  s.n_users_ = count("/users/id");
  s.n_items_ = count("/items/id");
  s.n_labels_ = count("/labels/name");
  s.has_titles_ = h5::exists(f, "/items/title");
  if (s.has_titles_ && count("/items/title") != s.n_items_)
    throw InputError(fmt::format("{}: /items/title has {} entries, /items/id {}", path, count("/items/title"), s.n_items_));
  s.n_events_ = static_cast<std::int64_t>(h5::array_size(f, "/events/time", cx));
  for (const char* col : {"/events/user", "/events/item", "/events/value"})
    if (h5::array_size(f, col, cx) != static_cast<std::uint64_t>(s.n_events_))
      throw InputError(fmt::format("{}: '{}' has a different length than /events/time", path, col));
  if (h5::array_size(f, "/item_labels/indptr", cx) != static_cast<std::uint64_t>(s.n_items_) + 1)
    throw InputError(fmt::format("{}: /item_labels/indptr does not have items + 1 entries", path));

  h5::Handle sg = h5::open_group(f, "/slices", cx);
  s.aggregate_ = graph::parse_aggregate(h5::read_attr_string(sg, "aggregate", cx));
  s.periods_.begin = h5::read_array<std::int64_t>(f, "/slices/begin", cx);
  s.periods_.end = h5::read_array<std::int64_t>(f, "/slices/end", cx);
  const auto& p = s.periods_;
  if (p.begin.size() != p.end.size())
    throw InputError(fmt::format("{}: /slices/begin and /slices/end differ in length", path));
  for (std::size_t k = 0; k < p.size(); ++k) {
    if (p.begin[k] >= p.end[k] || (k > 0 && p.begin[k] < p.end[k - 1]))
      throw InputError(fmt::format("{}: slice {} has bounds [{}, {}) out of order", path, k, p.begin[k], p.end[k]));
    if (!h5::exists(f, slice_group_name(k) + "/indptr"))
      throw InputError(fmt::format("{}: slice {} is missing ({})", path, k, slice_group_name(k)));
  }
  return s;
}

std::vector<std::string> Store::users() const { return h5::read_strings(file_, "/users/id", cx_); }
std::vector<std::string> Store::items() const { return h5::read_strings(file_, "/items/id", cx_); }
std::vector<std::string> Store::item_titles() const {
  if (!has_titles_) return std::vector<std::string>(static_cast<std::size_t>(n_items_));
  std::vector<std::string> t = h5::read_strings(file_, "/items/title", cx_);
  if (t.size() != static_cast<std::size_t>(n_items_))
    throw InputError(fmt::format("{}: /items/title has {} entries, /items/id {}", path(), t.size(), n_items_));
  return t;
}
std::vector<std::string> Store::labels() const { return h5::read_strings(file_, "/labels/name", cx_); }

graph::CsrMatrix Store::item_labels() const {
  return read_csr_group(file_, "/item_labels", n_items_, n_labels_, cx_);
}

graph::CsrMatrix Store::slice(std::size_t k) const {
  if (k >= n_slices())
    throw InputError(fmt::format("{}: slice {} requested but the store has {}", path(), k, n_slices()));
  return read_csr_group(file_, slice_group_name(k), n_users_, n_items_, cx_);
}

std::int64_t Store::slice_nnz(std::size_t k) const {
  if (k >= n_slices())
    throw InputError(fmt::format("{}: slice {} requested but the store has {}", path(), k, n_slices()));
  return static_cast<std::int64_t>(h5::array_size(file_, slice_group_name(k) + "/indices", cx_));
}

graph::EventColumns Store::events() const {
  graph::EventColumns e;
  e.user = h5::read_array<std::int32_t>(file_, "/events/user", cx_);
  e.item = h5::read_array<std::int32_t>(file_, "/events/item", cx_);
  e.time = h5::read_array<std::int64_t>(file_, "/events/time", cx_);
  e.value = h5::read_array<float>(file_, "/events/value", cx_);
  for (std::size_t k = 0; k < e.size(); ++k) {
    if (e.user[k] < 0 || e.user[k] >= n_users_ || e.item[k] < 0 || e.item[k] >= n_items_)
      throw InputError(fmt::format("{}: event {} names user {} / item {} outside the id tables", path(), k, e.user[k], e.item[k]));
    if (k > 0 && e.time[k] < e.time[k - 1])
      throw InputError(fmt::format("{}: events are not sorted by time at event {}", path(), k));
    if (!std::isfinite(e.value[k]))
      throw InputError(fmt::format("{}: event {} has a non-finite value", path(), k));
  }
  return e;
}

std::vector<std::string> Store::results() const {
  if (!h5::exists(file_, "/results")) return {};
  h5::Handle g = h5::open_group(file_, "/results", cx_);
  return link_names(g);
}

}  // namespace driftrec::io
