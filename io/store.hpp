// The driftrec HDF5 store (format "driftrec", version 1; schema in docs/store.md):
// ids, item titles (optional), item labels, the whole event log (the source of truth) and
// the slices derived from it. StoreWriter writes beside the target and renames into place on commit(), so a
// crash or kill never leaves a half-written store at the target path. Store opens a file
// read-only, checks its structure, and reads arrays with their invariants verified.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/version.hpp"
#include "graph/csr.hpp"
#include "graph/events.hpp"
#include "graph/slicing.hpp"
#include "io/h5_handle.hpp"
#include "io/text.hpp"
#include "io/write_guard.hpp"

namespace driftrec::io {

inline constexpr const char* kStoreFormat = "driftrec";
inline constexpr std::int64_t kStoreVersion = 1;
inline constexpr const char* kCreatedBy = "driftrec " DRIFTREC_VERSION;

// A CSR matrix as the group {indptr int64, indices int32, data float32} (slices,
// item labels, results); reading validates the CSR invariants against rows x cols.
// threads: the chunk compression's (0: OpenMP's default).
void write_csr_group(h5::Hid loc, const std::string& group, const graph::CsrMatrix& m, int threads = 0);
graph::CsrMatrix read_csr_group(h5::Hid loc, const std::string& group, graph::Index rows, graph::Index cols,
                                const h5::ReadContext& cx);

// `threads` compress the chunks of everything written through the writer (write_store and
// the result writers; 0: OpenMP's default); the file is the same for any count. A negative
// count is an InputError naming `threads`.
//
// Every writer follows the rules of io/write_guard.hpp: it holds the store's writer lock
// from construction to commit (or destruction), so a job constructs its writer BEFORE it
// reads the store it computes from, and no other writer can replace that store meanwhile.
class StoreWriter {
 public:
  // A new store. Throws InputError if `target` exists and overwrite is false, or its
  // folder is missing, or it is not a regular file (a symbolic link is followed).
  StoreWriter(std::string target, bool overwrite, int threads = 0);
  // A changed copy of an existing store (to add results). The temporary file starts as a
  // compact copy of the store's objects (not its bytes: space of replaced results is not
  // carried over); results the store has and the writer did not write are copied in on
  // commit(), which renames the file over the original.
  struct Amend {};
  StoreWriter(std::string existing, Amend, int threads = 0);
  // New contents for an existing store (reslice): nothing is copied.
  struct Rewrite {};
  StoreWriter(std::string existing, Rewrite, int threads = 0);
  ~StoreWriter();  // removes the temporary file unless committed
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;
  h5::Hid file() const { return file_; }
  const std::string& temp_path() const { return temp_; }
  int threads() const { return threads_; }
  // Amend: the store's results reach the new file at commit(); a job that changes one in
  // place (`update`) copies it now, and one that drops a result says so, or commit() would
  // copy it back.
  void copy_result(const std::string& name);
  void drop_result(const std::string& name);
  // Amend, for a result written by other handles (driftrec-mpi's ranks, through MPI-IO):
  // copies the store's results other than `replaced` into the file now, makes /results,
  // and closes the file, which the caller then opens itself; commit() renames it as the
  // caller left it (closed).
  void hand_over(const std::string& replaced);
  // Closes, flushes to disk, gives the file the replaced store's mode and owner, and
  // renames it onto the target.
  void commit();

 private:
  void prepare(bool overwrite, bool existing);
  void copy_base();
  void protect_temp();
  void copy_results();
  std::string target_, temp_;
  OutputTarget out_;
  std::unique_ptr<WriteGuard> guard_;  // declared before the handles: closed after them
  h5::Handle base_;                    // Amend: the store amended, open until commit
  h5::Handle file_;
  int threads_ = 0;
  bool committed_ = false;
  std::vector<std::string> dropped_;  // results of the store left out of the new file
};

// Everything a store holds except its slices, which derive from the events.
struct StoreContent {
  std::vector<std::string> users;
  std::vector<std::string> items;
  // Empty, or one per item ("" where it has none). /items/title is written only when at
  // least one title is non-empty, so stores of untitled data look as before.
  std::vector<std::string> item_titles;
  std::vector<std::string> labels;
  graph::CsrMatrix item_labels;  // items x labels
  graph::EventColumns events;    // sorted by (time, user, item)
};

// Writes the whole store into `w` (root attributes, ids, labels, events, slices).
// Returns the number of slices.
std::size_t write_store(StoreWriter& w, const StoreContent& c,
                                      const graph::Slicing& slicing, graph::Aggregate aggregate,
                                      const ProgressFn& progress = {});

// write_store in two steps, for ingest, which writes the tables from its id maps and frees
// them before it sorts the events: the root attributes, ids, titles, labels and item
// labels (the ids through `user(i)` / `item(i)`, borrowed until the call returns) ...
struct StoreTables {
  std::uint64_t n_users = 0, n_items = 0;
  std::function<std::string_view(std::uint64_t)> user, item;
  const std::vector<std::string>* item_titles = nullptr;  // as StoreContent's
  const std::vector<std::string>* labels = nullptr;
  const graph::CsrMatrix* item_labels = nullptr;
};
void write_store_tables(StoreWriter& w, const StoreTables& t, const graph::Slicing& slicing);
// ... then the events (sorted by (time, user, item)) and their slices. Returns the number
// of slices.
std::size_t write_store_events(StoreWriter& w, const graph::EventColumns& events, graph::Index n_users,
                               graph::Index n_items, const graph::Slicing& slicing, graph::Aggregate aggregate,
                               const ProgressFn& progress = {});

class Store {
 public:
  // Opens and checks the structure: format and version attributes, every dataset present
  // with consistent lengths. Throws InputError naming the file and the problem.
  static Store open(const std::string& path);

  const std::string& path() const { return cx_.file; }
  std::string slicing() const { return slicing_; }
  graph::Aggregate aggregate() const { return aggregate_; }
  std::string created_by() const { return created_by_; }
  graph::Index n_users() const { return n_users_; }
  graph::Index n_items() const { return n_items_; }
  graph::Index n_labels() const { return n_labels_; }
  std::int64_t n_events() const { return n_events_; }
  std::size_t n_slices() const { return periods_.size(); }
  const graph::Periods& periods() const { return periods_; }

  std::vector<std::string> users() const;
  std::vector<std::string> items() const;
  // Whether the store keeps item titles (/items/title, optional: older stores and stores
  // of untitled data have none).
  bool has_titles() const { return has_titles_; }
  // One per item, "" where it has none; all "" when the store keeps no titles.
  std::vector<std::string> item_titles() const;
  std::vector<std::string> labels() const;
  graph::CsrMatrix item_labels() const;    // validated
  graph::EventColumns events() const;      // validated: ids in range, sorted
  graph::CsrMatrix slice(std::size_t k) const;  // validated
  std::int64_t slice_nnz(std::size_t k) const;  // without reading the slice
  std::vector<std::string> results() const;     // names under /results
  h5::Hid file() const { return file_; }
  const h5::ReadContext& context() const { return cx_; }

 private:
  Store() = default;
  h5::Handle file_;
  h5::ReadContext cx_;
  std::string slicing_, created_by_;
  graph::Aggregate aggregate_ = graph::Aggregate::sum;
  bool has_titles_ = false;
  graph::Index n_users_ = 0, n_items_ = 0, n_labels_ = 0;
  std::int64_t n_events_ = 0;
  graph::Periods periods_;
};

std::string slice_group_name(std::size_t k);  // "/slices/0007"

}  // namespace driftrec::io
