// The store-level jobs of pipeline/ from Python: train, predict, evaluate, factorize,
// propagate (store), recommend, similar_items, reslice, generate. Each call fills the
// job's pipeline request from the keyword arguments (a dict: option name -> value, names
// as the CLI's options in snake_case), runs the same pipeline function as the CLI with the
// GIL released and the HDF5 lock held, and returns the summary's to_json() as the JSON
// text `driftrec ... --json` prints (driftrec/_jobs.py parses it), so both front ends
// report the same thing.
//
// The defaults are not restated here or in Python: _job_defaults() reads every option of
// a default-constructed request through the same field table that fills it, and the
// Python signatures take their defaults from it. Where the CLI sets a field from another
// (train's ALS seed, propagate's walk options), the same lines are here.
#include <nanobind/stl/string.h>

#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "pipeline/pipeline.hpp"
#include "python/common.hpp"

namespace driftrec::python {
namespace {

namespace mf = matrix_factorization;

std::string python_type(nb::handle h) { return Py_TYPE(h.ptr())->tp_name; }

std::string short_repr(nb::handle h) {
  std::string r = nb::cast<std::string>(nb::repr(h));
  return r.size() > 60 ? r.substr(0, 57) + "..." : r;
}

// One keyword argument as the field's C++ type; InputError naming the argument otherwise.
// Integers come from int or anything with __index__ (numpy integers), never bool; numbers
// from int, float or numpy reals, never bool or str.
template <class T>
T from_python(nb::handle h, const char* name) {
  const auto refuse = [&](const char* expected) {
    return InputError(fmt::format("{}: expected {}, found {} {}", name, expected, python_type(h), short_repr(h)));
  };
  if constexpr (std::is_same_v<T, bool>) {
    if (!PyBool_Check(h.ptr())) throw refuse("True or False");
    return h.ptr() == Py_True;
  } else if constexpr (std::is_integral_v<T>) {
    if (PyBool_Check(h.ptr()) || !PyIndex_Check(h.ptr()) || python_type(h) == std::string("numpy.bool_") ||
        python_type(h) == std::string("numpy.bool"))
      throw refuse("an integer");
    nb::object index = nb::steal(PyNumber_Index(h.ptr()));
    if (!index.is_valid()) {
      PyErr_Clear();
      throw refuse("an integer");
    }
    const auto outside = [&] {
      PyErr_Clear();
      return InputError(fmt::format("{}: {} is outside [{}, {}]", name, short_repr(h), std::numeric_limits<T>::min(),
                                    std::numeric_limits<T>::max()));
    };
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(index.ptr(), &overflow);
    if (overflow > 0 && std::is_unsigned_v<T>) {  // above 2^63: seeds may be
      const unsigned long long u = PyLong_AsUnsignedLongLong(index.ptr());
      if (PyErr_Occurred() || !std::in_range<T>(u)) throw outside();
      return static_cast<T>(u);
    }
    if (overflow != 0 || (v == -1 && PyErr_Occurred()) || !std::in_range<T>(v)) throw outside();
    return static_cast<T>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (PyBool_Check(h.ptr()) || PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr())) throw refuse("a number");
    const double v = PyFloat_AsDouble(h.ptr());
    if (v == -1.0 && PyErr_Occurred()) {
      PyErr_Clear();
      throw refuse("a number");
    }
    return static_cast<T>(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!PyUnicode_Check(h.ptr())) throw refuse("a str");
    return nb::cast<std::string>(h);
  } else if constexpr (std::is_same_v<T, std::vector<int>> || std::is_same_v<T, std::vector<std::string>>) {
    using Item = typename T::value_type;
    if (!PyList_Check(h.ptr()) && !PyTuple_Check(h.ptr()))
      throw refuse(std::is_same_v<Item, int> ? "a list of integers" : "a list of str");
    T out;
    std::size_t k = 0;
    for (nb::handle item : h) {
      const std::string item_name = fmt::format("{}[{}]", name, k++);
      out.push_back(from_python<Item>(item, item_name.c_str()));
    }
    return out;
  } else {  // std::optional<U>: None or a U
    if (h.is_none()) return std::nullopt;
    return from_python<typename T::value_type>(h, name);
  }
}

// A default as Python shows it: floats by their shortest decimal text (0.01, not the
// float32's 0.009999999776...), which converts back to the same float.
template <class T>
nb::object to_python(const T& v) {
  if constexpr (std::is_same_v<T, float>)
    return nb::cast(std::stod(fmt::format("{}", v)));
  else if constexpr (std::is_same_v<T, std::vector<int>> || std::is_same_v<T, std::vector<std::string>>) {
    nb::list l;
    for (const auto& x : v) l.append(x);
    return nb::tuple(l);
  } else if constexpr (std::is_same_v<T, bool> || std::is_arithmetic_v<T> || std::is_same_v<T, std::string>)
    return nb::cast(v);
  else
    return v ? to_python(*v) : nb::none();
}

// The table between a request's fields and the keyword arguments: reading (`given` set)
// fills each field named in `given`; listing (`given` null) records each field's value,
// the default, in `defaults`.
class Fields {
 public:
  explicit Fields(const nb::dict* given) : given_(given) {}

  template <class T>
  void operator()(const char* name, T& field) {
    names_.push_back(name);
    if (!given_) {
      defaults[name] = to_python(field);
      return;
    }
    if (given_->contains(name)) field = from_python<T>((*given_)[name], name);
  }

  // InputError for a keyword the job does not take (the Python layer passes only known ones).
  void check_all_known() const {
    if (!given_) return;
    for (auto [key, value] : *given_) {
      const std::string k = nb::cast<std::string>(key);
      bool known = false;
      for (const char* n : names_) known = known || k == n;
      if (!known) throw InputError(fmt::format("{}: not an option of this job", k));
    }
  }

  nb::dict defaults;

 private:
  const nb::dict* given_;
  std::vector<const char*> names_;
};

// ---- the field tables: one per job, names as the CLI's options ----

const char* cell_text(temporal::CellKind c) { return temporal::cell_name(c).data(); }

void train_fields(pipeline::TrainRequest& q, Fields& f) {
  auto& m = q.options.model;
  std::string cell = cell_text(m.cell);
  f("name", q.name);
  f("cell", cell);
  f("hidden", m.hidden);
  f("epochs", m.epochs);
  f("learning_rate", m.learning_rate);
  f("bptt", m.bptt);
  f("batch_users", m.batch_users);
  f("factor_weight", m.factor_weight);
  f("patience", m.patience);
  f("factors", q.options.als.als.factors);
  f("window", q.options.window);
  f("seed", m.seed);
  f("threads", q.threads);
  f("device", q.device);
  f("interests", q.interests);
  f("items", q.items);
  m.cell = temporal::parse_cell(cell, "cell");
  q.options.als.als.seed = m.seed;  // as `driftrec train`: one seed for the model and its ALS features
}

void predict_fields(pipeline::PredictRequest& q, Fields& f) {
  f("model", q.model);
  f("top", q.top);
}

void evaluate_fields(pipeline::EvaluateRequest& q, Fields& f) {
  f("test_periods", q.test_periods);
  f("k", q.ks);
  f("seed", q.seed);
  f("truth", q.truth);
  f("tune_budget", q.tune_budget);
  f("train_users", q.train_users);
  f("models", q.models);
  f("threads", q.threads);
  f("device", q.device);
}

void factorize_fields(pipeline::FactorizeRequest& q, Fields& f) {
  auto& als = q.options.als;
  std::string solver = als.solver == mf::Solver::cg ? "cg" : "cholesky";
  f("name", q.name);
  f("factors", als.factors);
  f("regularization", als.regularization);
  f("alpha", als.alpha);
  f("iterations", als.iterations);
  f("cg_steps", als.cg_steps);
  f("solver", solver);
  f("eta", q.options.eta);
  f("gamma", q.options.gamma);
  f("keep_users", q.keep_users);
  f("keep_items", q.keep_items);
  f("seed", als.seed);
  f("verbose", q.options.compute_loss);  // as --verbose, less the lines: the summary's final_loss
  f("threads", q.threads);
  f("device", q.device);
  if (solver != "cg" && solver != "cholesky")
    throw InputError(fmt::format("solver: expected 'cg' or 'cholesky', found '{}'", solver));
  als.solver = solver == "cg" ? mf::Solver::cg : mf::Solver::cholesky;
}

// alpha has no single default (0.85 for label, 1 for the walks): None keeps the method's.
// low_memory is None (automatic), True or False, as --low-memory is absent, given or negated.
void propagate_fields(pipeline::PropagateRequest& q, Fields& f) {
  auto& t = q.label;
  std::optional<float> alpha;
  std::optional<bool> low_memory = pipeline::low_memory_flag(t.propagation.low_memory);
  std::string reorder = pipeline::reorder_name(t.propagation.reorder);
  f("method", q.method);
  f("alpha", alpha);
  f("name", q.name);
  f("gamma", t.gamma);
  f("mu", t.mu);
  f("tolerance", t.propagation.tolerance);
  f("max_iterations", t.propagation.max_iterations);
  f("low_memory", low_memory);
  f("reorder", reorder);
  f("keep", q.keep);
  f("beta", q.walk.beta);
  f("neighbours", q.walk.neighbours);
  f("top", q.walk.top);
  f("restart", q.walk.restart);
  f("threads", q.threads);
  f("device", q.device);
  t.propagation.low_memory = pipeline::low_memory_mode(low_memory);
  t.propagation.reorder = pipeline::parse_reorder(reorder, "reorder");
  // As `driftrec propagate`: gamma, tolerance and max_iterations serve both kinds of method.
  q.walk.gamma = t.gamma;
  q.walk.tolerance = t.propagation.tolerance;
  q.walk.max_iterations = t.propagation.max_iterations;
  if (alpha) {  // as --alpha: given, it is the alpha of whichever method runs
    t.propagation.alpha = *alpha;
    q.walk.alpha = *alpha;
  }
}

void recommend_fields(pipeline::RecommendRequest& q, Fields& f) {
  f("k", q.k);
  f("result", q.result);
  f("period", q.period);
  f("model", q.model);
  f("filter_items", q.filter_items);
  f("include_seen", q.include_seen);
  f("threads", q.threads);
}

void similar_fields(pipeline::SimilarItemsRequest& q, Fields& f) {
  f("k", q.k);
  f("result", q.result);
  f("period", q.period);
}

void export_fields(pipeline::ExportRequest& q, Fields& f) {
  f("what", q.what);
  f("model", q.model);
  f("k", q.k);
  f("users", q.users);
  f("format", q.format);
  f("include_seen", q.include_seen);
  f("filter_items", q.filter_items);
  f("full", q.full);
  f("force", q.force);
  f("chunk", q.chunk);
  f("threads", q.threads);
}

void reslice_fields(pipeline::ResliceRequest& q, Fields& f) {
  f("aggregate", q.aggregate);
  f("threads", q.threads);
}

// The CLI's generate options: the generator's config, and `events` (a total) instead of
// events_per_period. Counts out of graph::Index's range are refused by from_python.
struct GenerateArgs {
  graph::DriftConfig config;
  std::optional<std::size_t> events;
  bool force = false;
  int threads = 0;
};

void generate_fields(GenerateArgs& a, Fields& f) {
  auto& c = a.config;
  f("users", c.users);
  f("items", c.items);
  f("labels", c.labels);
  f("periods", c.periods);
  f("period_seconds", c.period_seconds);
  f("start", c.start);
  f("events_per_period", c.events_per_period);
  f("events", a.events);
  f("activity_sigma", c.activity_sigma);
  f("popularity_exponent", c.popularity_exponent);
  f("labels_per_item", c.labels_per_item);
  f("labelled_fraction", c.labelled_fraction);
  f("drift", c.drift);
  f("jump", c.jump);
  f("user_labels", c.user_labels);
  f("seed", c.seed);
  f("force", a.force);
  f("threads", a.threads);
  c.validate();
  if (a.events) {
    if (*a.events == 0) throw InputError("events: expected a positive total number of events, got 0");
    // As `driftrec generate --events`: activity averages 1 over users.
    c.events_per_period =
        static_cast<double>(*a.events) / (static_cast<double>(c.users) * static_cast<double>(c.periods));
  }
}

// A request filled from the keyword arguments by its field table.
template <class Request, class Table>
Request request_from(const nb::dict& kwargs, Table table) {
  Request q;
  Fields f(&kwargs);
  table(q, f);
  f.check_all_known();
  return q;
}

template <class Request, class Table>
nb::dict defaults_of(Table table) {
  Request q;
  Fields f(nullptr);
  table(q, f);
  return f.defaults;
}

// job() with the GIL released and the HDF5 lock held; its JSON text. The thread count
// travels in the job's request.
template <class Job>
std::string run_job(Job&& job) {
  nb::gil_scoped_release release;
  std::lock_guard<std::mutex> lock(hdf5_mutex());
  return job().to_json().dump();
}

std::string train(const std::string& store, const nb::dict& kwargs) {
  auto q = request_from<pipeline::TrainRequest>(kwargs, train_fields);
  q.store = store;
  return run_job([&] { return pipeline::train_store(q); });
}

std::string predict(const std::string& store, const std::string& user, const nb::dict& kwargs) {
  auto q = request_from<pipeline::PredictRequest>(kwargs, predict_fields);
  q.store = store;
  q.user = user;
  return run_job([&] { return pipeline::predict(q); });
}

// Everything a train result holds but the parameters: the predictions for the period after
// the store's last, for every user.
nb::dict sequence_result(const std::string& store, const std::string& model) {
  io::SequenceResult r;
  {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    r = io::read_sequence_result(io::Store::open(store), model);
  }
  nb::dict d;
  d["interests"] = to_numpy(std::move(r.next_interests));
  d["factors"] = to_numpy(std::move(r.next_factors));
  d["item_factors"] = to_numpy(std::move(r.item_factors));
  d["interest_weight"] = r.interest_weight;
  d["best_epoch"] = r.best_epoch;
  d["window"] = r.window;
  d["periods"] = r.periods;
  d["trained_periods"] = r.trained_periods;
  d["new_label_boost"] = r.new_label_boost;
  d["train_loss"] = to_numpy(std::move(r.train_loss));
  d["validation_loss"] = to_numpy(std::move(r.validation_loss));
  return d;
}

std::string evaluate(const std::string& store, const nb::dict& kwargs) {
  auto q = request_from<pipeline::EvaluateRequest>(kwargs, evaluate_fields);
  q.store = store;
  return run_job([&] { return pipeline::evaluate_store(q); });
}

std::string factorize(const std::string& store, const nb::dict& kwargs) {
  auto q = request_from<pipeline::FactorizeRequest>(kwargs, factorize_fields);
  q.store = store;
  return run_job([&] { return pipeline::factorize_store(q); });
}

std::string propagate(const std::string& store, const nb::dict& kwargs) {
  auto q = request_from<pipeline::PropagateRequest>(kwargs, propagate_fields);
  q.store = store;
  return run_job([&] { return pipeline::propagate_store(q); });
}

std::string recommend(const std::string& store, const std::string& user, const nb::dict& kwargs) {
  auto q = request_from<pipeline::RecommendRequest>(kwargs, recommend_fields);
  q.store = store;
  q.user = user;
  return run_job([&] { return pipeline::recommend(q); });
}

std::string similar_items(const std::string& store, const std::string& item, const nb::dict& kwargs) {
  auto q = request_from<pipeline::SimilarItemsRequest>(kwargs, similar_fields);
  q.store = store;
  q.item = item;
  return run_job([&] { return pipeline::similar_items(q); });
}

std::string export_job(const std::string& store, const std::string& out, const nb::dict& kwargs) {
  auto q = request_from<pipeline::ExportRequest>(kwargs, export_fields);
  q.store = store;
  q.out = out;
  return run_job([&] { return pipeline::export_store(q); });
}

std::string reslice(const std::string& store, const std::string& slicing, const nb::dict& kwargs) {
  auto q = request_from<pipeline::ResliceRequest>(kwargs, reslice_fields);
  q.store = store;
  q.slicing = slicing;
  return run_job([&] { return pipeline::reslice_store(q); });
}

std::string generate(const std::string& out, const nb::dict& kwargs) {
  auto a = request_from<GenerateArgs>(kwargs, generate_fields);
  pipeline::GenerateRequest q;
  q.config = a.config;
  q.out = out;
  q.threads = a.threads;
  q.force = a.force;
  return run_job([&] { return pipeline::generate(q); });
}

nb::dict job_defaults() {
  nb::dict d;
  d["train"] = defaults_of<pipeline::TrainRequest>(train_fields);
  d["predict"] = defaults_of<pipeline::PredictRequest>(predict_fields);
  d["evaluate"] = defaults_of<pipeline::EvaluateRequest>(evaluate_fields);
  d["factorize"] = defaults_of<pipeline::FactorizeRequest>(factorize_fields);
  d["propagate"] = defaults_of<pipeline::PropagateRequest>(propagate_fields);
  d["recommend"] = defaults_of<pipeline::RecommendRequest>(recommend_fields);
  d["similar_items"] = defaults_of<pipeline::SimilarItemsRequest>(similar_fields);
  d["export"] = defaults_of<pipeline::ExportRequest>(export_fields);
  d["reslice"] = defaults_of<pipeline::ResliceRequest>(reslice_fields);
  d["generate"] = defaults_of<GenerateArgs>(generate_fields);
  return d;
}

}  // namespace

void bind_jobs(nb::module_& m) {
  m.def("_job_defaults", &job_defaults, "Every job's keyword arguments and their defaults (the requests').");
  m.def("_train", &train, nb::arg("store"), nb::arg("kwargs"));
  m.def("_predict", &predict, nb::arg("store"), nb::arg("user"), nb::arg("kwargs"));
  m.def("_sequence_result", &sequence_result, nb::arg("store"), nb::arg("model"));
  m.def("_evaluate", &evaluate, nb::arg("store"), nb::arg("kwargs"));
  m.def("_factorize", &factorize, nb::arg("store"), nb::arg("kwargs"));
  m.def("_propagate_job", &propagate, nb::arg("store"), nb::arg("kwargs"));
  m.def("_recommend", &recommend, nb::arg("store"), nb::arg("user"), nb::arg("kwargs"));
  m.def("_similar_items", &similar_items, nb::arg("store"), nb::arg("item"), nb::arg("kwargs"));
  m.def("_export", &export_job, nb::arg("store"), nb::arg("out"), nb::arg("kwargs"));
  m.def("_reslice", &reslice, nb::arg("store"), nb::arg("slicing"), nb::arg("kwargs"));
  m.def("_generate", &generate, nb::arg("out"), nb::arg("kwargs"));
}

}  // namespace driftrec::python
