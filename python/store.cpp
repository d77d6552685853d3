// Stores from Python: opening one and reading its ids, events, periods, slices and item
// labels as numpy arrays (scipy.sparse matrices are built from them in driftrec/_store.py),
// and writing one from columns in memory through io::ingest_columns.
#include "python/store.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include "io/ingest.hpp"
#include "pipeline/update.hpp"

namespace driftrec::python {

PyStore::PyStore(const std::string& path) : path_(path) {
  nb::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  store_.emplace(io::Store::open(path));
}

PyStore::~PyStore() { close(); }

void PyStore::close() {
  // Called with the GIL held; the thread holding the lock never waits for the GIL.
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  store_.reset();
}

const io::Store& PyStore::get() const {
  if (!store_) throw InputError(fmt::format("{}: the store is closed", path_));
  return *store_;
}

namespace {

// A column of ids for io::IdColumn, from an int64 array or a list of str. It borrows the
// array (kept in `array`, never a converted copy) or the list's str objects, which the
// caller keeps alive for the whole call.
struct Ids {
  Array1<std::int64_t> array;
  io::IdColumn column;
};

void read_ids(const nb::object& source, const char* what, Ids& ids) {
  if (nb::try_cast(source, ids.array, /*convert=*/false)) {
    ids.column.is_integer = true;
    ids.column.integers = std::span<const std::int64_t>(ids.array.data(), ids.array.shape(0));
    return;
  }
  if (!nb::isinstance<nb::list>(source))
    throw InputError(fmt::format("{}: expected an int64 array or a list of str", what));
  const std::size_t n = nb::len(source);
  ids.column.strings.reserve(n);
  for (std::size_t r = 0; r < n; ++r) {
    PyObject* item = PyList_GET_ITEM(source.ptr(), static_cast<Py_ssize_t>(r));
    if (!PyUnicode_Check(item))
      throw InputError(fmt::format("{}[{}]: expected a str or an int id, found {}", what, r, Py_TYPE(item)->tp_name));
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(item, &size);
    if (!utf8) {
      PyErr_Clear();
      throw InputError(fmt::format("{}[{}]: expected an id in UTF-8 (the str holds a lone surrogate)", what, r));
    }
    ids.column.strings.emplace_back(utf8, static_cast<std::size_t>(size));
  }
}

template <class T>
std::span<const T> optional_span(const std::optional<Array1<T>>& a) {
  if (!a) return {};
  return std::span<const T>(a->data(), a->shape(0));
}

// The event and label columns of from_arrays and append, borrowed for one call (built in
// place and never moved: the column views point into the Ids beside them).
struct Columns {
  Ids users, items, label_items, label_names;
  io::EventColumnsIn events;
  std::optional<io::LabelColumnsIn> labels;

  Columns(const nb::object& user, const nb::object& item, const Array1<std::int64_t>& time,
          const std::optional<Array1<double>>& value, const nb::object& label_item, const nb::object& label,
          const std::optional<Array1<float>>& weight) {
    read_ids(user, "user", users);
    read_ids(item, "item", items);
    events.user = users.column;
    events.item = items.column;
    events.time = std::span<const graph::Time>(time.data(), time.shape(0));
    events.value = optional_span(value);
    if (!label_item.is_none()) {
      read_ids(label_item, "labels item", label_items);
      read_ids(label, "labels label", label_names);
      labels.emplace();
      labels->item = label_items.column;
      labels->label = label_names.column;
      labels->weight = optional_span(weight);
    }
  }
  Columns(const Columns&) = delete;
  Columns& operator=(const Columns&) = delete;
};

std::string ingest_columns(const std::string& path, const nb::object& user, const nb::object& item,
                           const Array1<std::int64_t>& time, const std::optional<Array1<double>>& value,
                           const nb::object& label_item, const nb::object& label, const std::optional<Array1<float>>& weight,
                           const std::string& slicing, const std::string& aggregate, bool force,
                           const std::string& on_error, const std::string& negative, int threads) {
  const Columns c(user, item, time, value, label_item, label, weight);
  io::ColumnIngestOptions o;
  o.slicing = graph::Slicing::parse(slicing);
  o.aggregate = aggregate;
  o.output = path;
  o.overwrite = force;
  o.on_error = io::parse_on_error(on_error);
  o.negative = io::parse_negative_values(negative);
  o.threads = threads;
  nb::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  return io::ingest_columns(c.events, c.labels ? &*c.labels : nullptr, o).to_json().dump();
}

// Store.append: pipeline::update_store from columns (read as ingest_columns reads them).
std::string update_columns(const std::string& path, const nb::object& user, const nb::object& item,
                           const Array1<std::int64_t>& time, const std::optional<Array1<double>>& value,
                           const nb::object& label_item, const nb::object& label, const std::optional<Array1<float>>& weight,
                           bool allow_backfill, bool retrain, int als_sweeps, const std::string& on_error,
                           const std::string& negative, int threads) {
  const Columns c(user, item, time, value, label_item, label, weight);
  pipeline::UpdateRequest q;
  q.store = path;
  q.event_columns = &c.events;
  q.label_columns = c.labels ? &*c.labels : nullptr;
  q.on_error = io::parse_on_error(on_error);
  q.negative = io::parse_negative_values(negative);
  q.allow_backfill = allow_backfill;
  q.retrain = retrain;
  q.als_sweeps = als_sweeps;
  q.threads = threads;
  nb::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  return pipeline::update_store(q).to_json().dump();
}

}  // namespace

void bind_store(nb::module_& m) {
  nb::class_<PyStore>(m, "_Store")
      .def(nb::init<const std::string&>(), nb::arg("path"))
      .def_prop_ro("path", &PyStore::path)
      .def_prop_ro("closed", &PyStore::closed)
      .def("close", &PyStore::close)
      .def_prop_ro("slicing", [](const PyStore& s) { return s.get().slicing(); })
      .def_prop_ro("aggregate", [](const PyStore& s) { return std::string(graph::to_string(s.get().aggregate())); })
      .def_prop_ro("created_by", [](const PyStore& s) { return s.get().created_by(); })
      .def_prop_ro("n_users", [](const PyStore& s) { return s.get().n_users(); })
      .def_prop_ro("n_items", [](const PyStore& s) { return s.get().n_items(); })
      .def_prop_ro("n_labels", [](const PyStore& s) { return s.get().n_labels(); })
      .def_prop_ro("n_events", [](const PyStore& s) { return s.get().n_events(); })
      .def_prop_ro("n_slices", [](const PyStore& s) { return s.get().n_slices(); })
      .def("periods",
           [](const PyStore& s) {
             graph::Periods p = s.get().periods();
             return nb::make_tuple(to_numpy(std::move(p.begin)), to_numpy(std::move(p.end)));
           })
      .def("users", [](const PyStore& s) { return s.read([](const io::Store& st) { return st.users(); }); })
      .def("items", [](const PyStore& s) { return s.read([](const io::Store& st) { return st.items(); }); })
      .def("labels", [](const PyStore& s) { return s.read([](const io::Store& st) { return st.labels(); }); })
      .def("results", [](const PyStore& s) { return s.read([](const io::Store& st) { return st.results(); }); })
      .def("events",
           [](const PyStore& s) {
             graph::EventColumns e = s.read([](const io::Store& st) { return st.events(); });
             nb::dict d;
             d["user"] = to_numpy(std::move(e.user));
             d["item"] = to_numpy(std::move(e.item));
             d["time"] = to_numpy(std::move(e.time));
             d["value"] = to_numpy(std::move(e.value));
             return d;
           })
      .def(
          "slice",
          [](const PyStore& s, std::size_t k) {
            return csr_to_arrays(s.read([k](const io::Store& st) {
              if (k >= st.n_slices())
                throw InputError(fmt::format("{}: slice {} does not exist; the store has {} slices", st.path(), k,
                                             st.n_slices()));
              return st.slice(k);
            }));
          },
          nb::arg("k"))
      .def("item_labels",
           [](const PyStore& s) { return csr_to_arrays(s.read([](const io::Store& st) { return st.item_labels(); })); });

  m.def("_ingest_columns", &ingest_columns, nb::arg("path"), nb::arg("user"), nb::arg("item"), nb::arg("time"),
        nb::arg("value").none(), nb::arg("label_item").none(), nb::arg("label").none(), nb::arg("weight").none(),
        nb::arg("slicing"), nb::arg("aggregate"), nb::arg("force"), nb::arg("on_error"), nb::arg("negative"), nb::arg("threads"),
        "Writes a store from columns (see driftrec.Store.from_arrays); returns the ingest report as JSON.");
  m.def("_update_columns", &update_columns, nb::arg("path"), nb::arg("user"), nb::arg("item"), nb::arg("time"),
        nb::arg("value").none(), nb::arg("label_item").none(), nb::arg("label").none(), nb::arg("weight").none(),
        nb::arg("allow_backfill"), nb::arg("retrain"), nb::arg("als_sweeps"), nb::arg("on_error"), nb::arg("negative"),
        nb::arg("threads"),
        "Appends columns of events to a store (see driftrec.Store.append); returns the update summary as JSON.");
}

}  // namespace driftrec::python
