// Temporal label propagation from Python (propagation/temporal_propagation.hpp) over a
// store's slices or over CSR matrices given directly; every period's interests (users x
// labels, row-normalised) come back as numpy arrays that own the engine's matrices.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <fmt/format.h>

#include "io/label_result.hpp"
#include "pipeline/common.hpp"
#include "pipeline/propagate.hpp"
#include "propagation/temporal_propagation.hpp"
#include "python/store.hpp"

namespace driftrec::python {
namespace {

namespace pr = propagation;

struct Kept {
  std::vector<pr::DenseMatrix> interests, item_labels;  // periods first_kept.. only
  std::vector<std::int64_t> iterations;
  std::vector<double> residual;
  std::vector<bool> converged;
};

pr::TemporalOptions temporal_options(double alpha, double gamma, double mu, double tolerance, int max_iterations,
                                     int threads, const std::string& reorder, std::optional<bool> low_memory) {
  pr::TemporalOptions o;
  o.propagation.alpha = static_cast<float>(alpha);
  o.propagation.tolerance = tolerance;
  o.propagation.max_iterations = max_iterations;
  o.propagation.threads = threads;
  o.propagation.reorder = pipeline::parse_reorder(reorder, "reorder");
  o.propagation.low_memory = pipeline::low_memory_mode(low_memory);
  o.gamma = static_cast<float>(gamma);
  o.mu = static_cast<float>(mu);
  if (threads < 0) throw InputError(fmt::format("threads must be >= 0 (0: OpenMP's default), got {}", threads));
  o.validate();
  return o;
}

// Runs with the GIL released (the caller holds it no more); keeps periods >= first_kept.
Kept run(const std::vector<graph::CsrMatrix>& slices, const graph::CsrMatrix& item_labels,
         const pr::TemporalOptions& o, std::size_t first_kept, bool keep_item_labels) {
  Kept k;
  pr::propagate_temporal_streaming(slices, item_labels, o, [&](std::size_t t, pr::PeriodResult& r) {
    if (t >= first_kept) {
      k.interests.push_back(std::move(r.interests));
      if (keep_item_labels) k.item_labels.push_back(std::move(r.item_labels));
    }
    k.iterations.push_back(r.iterations);
    k.residual.push_back(r.residual);
    k.converged.push_back(r.converged);
  });
  return k;
}

nb::dict to_python(Kept&& k, bool keep_item_labels) {
  nb::list interests, item_labels;
  for (auto& m : k.interests) interests.append(to_numpy(std::move(m)));
  for (auto& m : k.item_labels) item_labels.append(to_numpy(std::move(m)));
  std::vector<std::uint8_t> converged(k.converged.begin(), k.converged.end());
  nb::dict d;
  d["interests"] = interests;
  d["item_labels"] = keep_item_labels ? nb::object(item_labels) : nb::none();
  d["iterations"] = to_numpy(std::move(k.iterations));
  d["residual"] = to_numpy(std::move(k.residual));
  d["converged"] = to_numpy(std::move(converged));
  return d;
}

std::size_t check_first_kept(std::int64_t first_kept, std::size_t periods) {
  if (first_kept < 0 || static_cast<std::size_t>(first_kept) > periods)
    throw InputError(fmt::format("keep: the first period kept ({}) must be in [0, {}]", first_kept, periods));
  return static_cast<std::size_t>(first_kept);
}

nb::dict propagate_store(const PyStore& store, double alpha, double gamma, double mu, double tolerance,
                         int max_iterations, int threads, const std::string& reorder, std::optional<bool> low_memory,
                         std::int64_t first_kept, bool keep_item_labels) {
  const pr::TemporalOptions o =
      temporal_options(alpha, gamma, mu, tolerance, max_iterations, threads, reorder, low_memory);
  Kept k;
  {
    nb::gil_scoped_release release;
    std::vector<graph::CsrMatrix> slices;
    graph::CsrMatrix labels;
    {
      std::lock_guard<std::mutex> lock(hdf5_mutex());
      const io::Store& s = store.get();
      if (s.n_labels() == 0)
        throw InputError(fmt::format("{}: the store has no item labels; build it with labels= to propagate them",
                                     s.path()));
      for (std::size_t t = 0; t < s.n_slices(); ++t) slices.push_back(pipeline::checked_slice(s, t));
      labels = s.item_labels();
    }
    k = run(slices, labels, o, check_first_kept(first_kept, slices.size()), keep_item_labels);
  }
  return to_python(std::move(k), keep_item_labels);
}

// slices: a list of (indptr, indices, data) triples, all users x items.
nb::dict propagate_matrices(const nb::list& slice_arrays, std::int64_t users, std::int64_t items,
                            const Array1<std::int64_t>& label_indptr, const Array1<std::int32_t>& label_indices,
                            const Array1<float>& label_data, std::int64_t labels, double alpha, double gamma, double mu,
                            double tolerance, int max_iterations, int threads, const std::string& reorder,
                            std::optional<bool> low_memory, std::int64_t first_kept, bool keep_item_labels) {
  const pr::TemporalOptions o =
      temporal_options(alpha, gamma, mu, tolerance, max_iterations, threads, reorder, low_memory);
  std::vector<graph::CsrMatrix> slices;
  for (std::size_t t = 0; t < nb::len(slice_arrays); ++t) {
    const auto triple = nb::cast<nb::tuple>(slice_arrays[t]);
    const std::string what = fmt::format("slices[{}]", t);
    slices.push_back(csr_from_arrays(nb::cast<Array1<std::int64_t>>(triple[0], false),
                                     nb::cast<Array1<std::int32_t>>(triple[1], false),
                                     nb::cast<Array1<float>>(triple[2], false), users, items, what.c_str()));
  }
  if (slices.empty()) throw InputError("slices: expected at least one users x items matrix");
  graph::CsrMatrix item_labels =
      csr_from_arrays(label_indptr, label_indices, label_data, items, labels, "item_labels");
  const std::size_t first = check_first_kept(first_kept, slices.size());
  Kept k;
  {
    nb::gil_scoped_release release;
    k = run(slices, item_labels, o, first, keep_item_labels);
  }
  return to_python(std::move(k), keep_item_labels);
}

// A saved label propagation result (`driftrec propagate`, /results/<name>): its options,
// iterations, residual and converged per period, and the interests of the kept periods
// (first_kept onwards), for reading without recomputing.
nb::dict label_result(const PyStore& store, const std::string& name) {
  io::LabelResultInfo info;
  std::vector<pr::DenseMatrix> interests;
  std::size_t first = 0;
  {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(hdf5_mutex());
    const io::Store& s = store.get();
    info = io::read_label_result(s, name);
    first = pipeline::first_kept_period(info.keep, info.iterations.size(), "keep");
    for (std::size_t t = first; t < info.iterations.size(); ++t)
      interests.push_back(std::move(io::read_label_period(s, name, t).interests));
  }
  Kept k;
  k.interests = std::move(interests);
  k.iterations = std::move(info.iterations);
  k.residual = std::move(info.residual);
  k.converged = std::move(info.converged);
  nb::dict d = to_python(std::move(k), false);
  d["first_kept"] = first;
  d["keep"] = info.keep;
  d["alpha"] = static_cast<double>(info.options.propagation.alpha);
  d["gamma"] = static_cast<double>(info.options.gamma);
  d["mu"] = static_cast<double>(info.options.mu);
  d["tolerance"] = info.options.propagation.tolerance;
  d["max_iterations"] = info.options.propagation.max_iterations;
  return d;
}

}  // namespace

void bind_propagate(nb::module_& m) {
  m.def("_label_result", &label_result, nb::arg("store"), nb::arg("name"));
  m.def("_propagate_store", &propagate_store, nb::arg("store"), nb::arg("alpha"), nb::arg("gamma"), nb::arg("mu"),
        nb::arg("tolerance"), nb::arg("max_iterations"), nb::arg("threads"), nb::arg("reorder"),
        nb::arg("low_memory").none(), nb::arg("first_kept"), nb::arg("keep_item_labels"));
  m.def("_propagate_matrices", &propagate_matrices, nb::arg("slices"), nb::arg("users"), nb::arg("items"),
        nb::arg("label_indptr"), nb::arg("label_indices"), nb::arg("label_data"), nb::arg("labels"),
        nb::arg("alpha"), nb::arg("gamma"), nb::arg("mu"), nb::arg("tolerance"), nb::arg("max_iterations"),
        nb::arg("threads"), nb::arg("reorder"), nb::arg("low_memory").none(), nb::arg("first_kept"),
        nb::arg("keep_item_labels"));
}

}  // namespace driftrec::python
