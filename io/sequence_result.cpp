#include "io/sequence_result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <span>

#include "io/results.hpp"
#include "io/text.hpp"
#include "temporal/serialization.hpp"

namespace driftrec::io {
namespace {

template <class M>
M read_rows(const Store& store, hid_t g, const std::string& name, std::int64_t rows) {
  const Matrix m = read_matrix(g, name, store.context());
  if (static_cast<std::int64_t>(m.rows) != rows)
    throw InputError(fmt::format("{}: {} has {} rows, expected {}", store.path(), name, m.rows, rows));
  return as_rows<M>(m);
}

template <class E>
std::span<const double> doubles(const E& m) {
  return {m.data(), static_cast<std::size_t>(m.size())};
}

// The attention cell's keys (or values) of every period fed, users x H each, as one 1-d
// float32 dataset, period after period, each row-major: the largest part of an attention
// result, so written by the parallel libdeflate chunk writer (HDF5's own deflate is serial
// zlib, most of an update's time for it).
void write_stacked(hid_t g, const std::string& name, const std::vector<temporal::RowMatrix>& per_period, int threads) {
  std::vector<float> all;
  for (const temporal::RowMatrix& m : per_period) all.insert(all.end(), m.data(), m.data() + m.size());
  h5::write_array<float>(g, name, all, threads);
}

std::vector<temporal::RowMatrix> read_stacked(const Store& store, hid_t g, const std::string& name, std::int64_t periods,
                                              std::int64_t users, int hidden) {
  const std::vector<float> all = h5::read_array<float>(g, name, store.context());
  const std::size_t each = static_cast<std::size_t>(users) * static_cast<std::size_t>(hidden);
  if (all.size() != static_cast<std::size_t>(periods) * each)
    throw InputError(fmt::format("{}: {} has {} values, expected {} periods x {} users x {} hidden units",
                                 store.path(), name, all.size(), periods, users, hidden));
  check_result_values(all.data(), all.size(), 0, name, store.context());
  std::vector<temporal::RowMatrix> out;
  for (std::int64_t t = 0; t < periods; ++t)
    out.push_back(Eigen::Map<const temporal::RowMatrix>(all.data() + static_cast<std::size_t>(t) * each, users, hidden));
  return out;
}

}  // namespace

void write_sequence_result(StoreWriter& w, const std::string& name, const SequenceResult& r) {
  h5::Handle g = create_result(w, name);
  const temporal::SerializedModel m = temporal::serialize_model(r.model);
  h5::Handle params = h5::create_group(g, "parameters");
  for (const temporal::NamedTensor& t : m.tensors)
    write_matrix(params, t.name, t.data.data(), static_cast<std::uint64_t>(t.rows), static_cast<std::uint64_t>(t.cols));
  std::string names;
  for (const auto& [key, value] : m.attributes) {
    h5::write_attr(g, "model_" + key, value);
    names += (names.empty() ? "" : ",") + key;
  }
  h5::write_attr(g, "model_attributes", names);
  write_rows(g, "next_interests", r.next_interests);
  write_rows(g, "next_factors", r.next_factors);
  write_rows(g, "item_factors", r.item_factors);
  h5::write_array<double>(g, "train_loss", r.train_loss, w.threads());
  h5::write_array<double>(g, "validation_loss", r.validation_loss, w.threads());
  h5::write_attr(g, "interest_weight", fmt::format("{}", r.interest_weight));
  h5::write_attr(g, "best_epoch", static_cast<std::int64_t>(r.best_epoch));
  h5::write_attr(g, "kind", std::string("sequence_model"));
  h5::write_attr(g, "slicing", r.slicing);
  h5::write_attr(g, "periods", r.periods);
  h5::write_attr(g, "window", static_cast<std::int64_t>(r.window));
  h5::write_attr(g, "trained_periods", r.trained_periods);
  if (r.state) {
    const temporal::SequenceState& st = *r.state;
    h5::Handle sg = h5::create_group(g, "state");
    write_rows(sg, "hidden", st.recurrent.hidden);
    if (st.recurrent.cell.size() > 0) write_rows(sg, "cell", st.recurrent.cell);
    write_rows(sg, "user_scores", st.user_scores);
    write_rows(sg, "user_factors", st.user_factors);
    h5::write_array<std::int32_t>(sg, "last_active", st.last_active, w.threads());
    h5::write_attr(sg, "fed_periods", static_cast<std::int64_t>(st.fed_periods));
    h5::write_attr(sg, "periods", st.periods);
    if (!st.recurrent.keys.empty()) {
      write_stacked(sg, "attention_keys", st.recurrent.keys, w.threads());
      write_stacked(sg, "attention_values", st.recurrent.values, w.threads());
    }
    if (st.mixture) {
      const temporal::MixtureState& m = *st.mixture;
      // float64, as the mixture sums them: L x users column-major, i.e. each user's L values
      // one after the other.
      h5::write_array<double>(sg, "mixture_ewma_short", doubles(m.ewma_short), w.threads());
      h5::write_array<double>(sg, "mixture_ewma_long", doubles(m.ewma_long), w.threads());
      h5::write_array<std::int32_t>(sg, "mixture_labelled", m.labelled, w.threads());
      h5::write_array<double>(sg, "mixture_population", doubles(m.population), w.threads());
    }
  }
  h5::write_attr(g, "interests", r.interests);
  h5::write_attr(g, "items", r.items);
  for (const auto& [attr, v] : {std::pair{"ranker_source", r.ranker_source}, std::pair{"ranker_l2", r.ranker_l2},
                                std::pair{"validation_recall_hybrid", r.validation_recall_hybrid},
                                std::pair{"validation_recall_ranker", r.validation_recall_ranker}})
    h5::write_attr(g, attr, fmt::format("{}", v));
  h5::write_attr(g, "validation_cross_entropy_sequence", fmt::format("{}", r.validation_cross_entropy_sequence));
  h5::write_attr(g, "new_label_boost", fmt::format("{}", r.new_label_boost));
  if (r.mixture) {
    h5::write_attr(g, "validation_cross_entropy_mixture", fmt::format("{}", r.validation_cross_entropy_mixture));
    h5::write_attr(g, "mixture_only_expert", static_cast<std::int64_t>(r.mixture->only_expert));
    h5::Handle mg = h5::create_group(g, "mixture");
    for (std::size_t t = 0; t < temporal::kMixtureTensorCount; ++t) {
      const temporal::RowMatrix m = (*r.mixture)[t].cast<float>();
      write_matrix(mg, std::string(temporal::mixture_tensor_name(t)), m.data(), static_cast<std::uint64_t>(m.rows()),
                   static_cast<std::uint64_t>(m.cols()));
    }
  }
}

SequenceResult read_sequence_result(const Store& store, const std::string& name) {
  h5::Handle g = open_result(store, name);
  const auto& cx = store.context();
  if (const std::string kind = h5::read_attr_string(g, "kind", cx); kind != "sequence_model")
    throw InputError(fmt::format("{}: result '{}' is a {} result, not a sequence model (driftrec train)",
                                 store.path(), name, kind));
  temporal::SerializedModel m;
  const std::string all_names = h5::read_attr_string(g, "model_attributes", cx);
  std::string_view names = all_names;
  while (!names.empty()) {
    const std::size_t comma = names.find(',');
    const std::string key(names.substr(0, comma));
    m.attributes.emplace_back(key, h5::read_attr_string(g, "model_" + key, cx));
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
  }
  for (std::size_t t = 0; t < temporal::kTensorCount; ++t) {
    const std::string tensor(temporal::tensor_name(t));
    Matrix x = read_matrix(g, "parameters/" + tensor, cx);
    m.tensors.push_back({tensor, static_cast<std::int64_t>(x.rows), static_cast<std::int64_t>(x.cols), std::move(x.data)});
  }
  SequenceResult out;
  out.model = temporal::deserialize_model(m);
  out.next_interests = read_rows<temporal::RowMatrix>(store, g, "next_interests", store.n_users());
  out.next_factors = read_rows<temporal::RowMatrix>(store, g, "next_factors", store.n_users());
  out.item_factors = read_rows<matrix_factorization::Factors>(store, g, "item_factors", store.n_items());
  out.train_loss = h5::read_array<double>(g, "train_loss", cx);
  out.validation_loss = h5::read_array<double>(g, "validation_loss", cx);
  float w = 0;
  if (!parse_finite_float(h5::read_attr_string(g, "interest_weight", cx), w) || w < 0 || w > 1)
    throw InputError(fmt::format("{}: result '{}': interest_weight is not a number in [0, 1]", store.path(), name));
  out.interest_weight = w;
  out.best_epoch = static_cast<int>(h5::read_attr_int(g, "best_epoch", cx));
  out.window = static_cast<int>(h5::read_attr_int(g, "window", cx));
  out.slicing = h5::read_attr_string(g, "slicing", cx);
  out.periods = h5::read_attr_int(g, "periods", cx);
  out.trained_periods = h5::has_attr(g, "trained_periods") ? h5::read_attr_int(g, "trained_periods", cx) : out.periods;
  if (h5::has_attr(g, "interests")) {
    out.interests = h5::read_attr_string(g, "interests", cx);
    if (out.interests != "sequence" && out.interests != "mixture")
      throw InputError(fmt::format("{}: result '{}': interests is '{}', expected sequence or mixture", store.path(), name,
                                   out.interests));
  }
  auto number = [&](const char* attr) {
    float v = 0;
    if (h5::has_attr(g, attr) && !parse_finite_float(h5::read_attr_string(g, attr, cx), v))
      throw InputError(fmt::format("{}: result '{}': {} is not a number", store.path(), name, attr));
    return static_cast<double>(v);
  };
  out.validation_cross_entropy_sequence = number("validation_cross_entropy_sequence");
  out.validation_cross_entropy_mixture = number("validation_cross_entropy_mixture");
  if (h5::has_attr(g, "new_label_boost")) {
    out.new_label_boost = number("new_label_boost");
    if (!(out.new_label_boost >= 1))
      throw InputError(fmt::format("{}: result '{}': new_label_boost is {}, expected 1 or more", store.path(), name,
                                   out.new_label_boost));
  }
  if (h5::has_attr(g, "items")) {
    out.items = h5::read_attr_string(g, "items", cx);
    if (out.items != "hybrid" && out.items != "ranker")
      throw InputError(fmt::format("{}: result '{}': items is '{}', expected hybrid or ranker", store.path(), name,
                                   out.items));
    out.ranker_source = number("ranker_source");
    out.ranker_l2 = number("ranker_l2");
    out.validation_recall_hybrid = number("validation_recall_hybrid");
    out.validation_recall_ranker = number("validation_recall_ranker");
  }
  if (h5::exists(g, "mixture")) {
    temporal::MixtureParameters p;
    for (std::size_t t = 0; t < temporal::kMixtureTensorCount; ++t) {
      const Matrix x = read_matrix(g, "mixture/" + std::string(temporal::mixture_tensor_name(t)), cx);
      p[t] = as_rows<temporal::RowMatrix>(x).cast<double>();
    }
    p.only_expert = static_cast<int>(h5::read_attr_int(g, "mixture_only_expert", cx));
    if (p.only_expert < -1 || p.only_expert >= temporal::kExpertCount || p[temporal::kGateWeight].rows() != temporal::kExpertCount)
      throw InputError(fmt::format("{}: result '{}': the stored mixture is damaged", store.path(), name));
    out.mixture = std::move(p);
  }
  if (out.next_interests.cols() != store.n_labels() || out.next_factors.cols() != out.item_factors.cols())
    throw InputError(fmt::format("{}: result '{}': predictions and factors do not fit the store", store.path(), name));
  if (h5::exists(g, "state")) {
    h5::Handle sg = h5::open_group(g, "state", cx);
    temporal::SequenceState st;
    const std::int64_t users = store.n_users();
    const temporal::Shape shape = out.model.shape();
    st.recurrent.hidden = read_rows<temporal::RowMatrix>(store, sg, "hidden", users);
    if (out.model.parameters.cell == temporal::CellKind::lstm)
      st.recurrent.cell = read_rows<temporal::RowMatrix>(store, sg, "cell", users);
    st.user_scores = read_rows<temporal::RowMatrix>(store, sg, "user_scores", users);
    st.user_factors = read_rows<temporal::RowMatrix>(store, sg, "user_factors", users);
    st.last_active = h5::read_array<std::int32_t>(sg, "last_active", cx);
    st.fed_periods = static_cast<int>(h5::read_attr_int(sg, "fed_periods", cx));
    st.periods = h5::read_attr_int(sg, "periods", cx);
    if (st.fed_periods < 1 || st.fed_periods > (1 << 20))
      throw InputError(fmt::format("{}: result '{}': state/fed_periods is {}, expected 1 or more", store.path(), name,
                                   st.fed_periods));
    // Results written before these were kept have none (update then cannot step them).
    if (out.model.parameters.cell == temporal::CellKind::attention && h5::exists(sg, "attention_keys")) {
      st.recurrent.keys = read_stacked(store, sg, "attention_keys", st.fed_periods, users, shape.hidden);
      st.recurrent.values = read_stacked(store, sg, "attention_values", st.fed_periods, users, shape.hidden);
    }
    if (out.mixture && h5::exists(sg, "mixture_ewma_short")) {
      temporal::MixtureState m;
      const auto labels = static_cast<std::size_t>(shape.labels);
      auto matrix = [&](const char* dataset) {
        const std::vector<double> v = h5::read_array<double>(sg, dataset, cx);
        if (v.size() != static_cast<std::size_t>(users) * labels)
          throw InputError(fmt::format("{}: result '{}': state/{} has {} values, expected {} users x {} labels",
                                       store.path(), name, dataset, v.size(), users, labels));
        for (double x : v)
          if (!std::isfinite(x) || x < 0)
            throw InputError(fmt::format("{}: result '{}': state/{} holds {}, expected finite values >= 0",
                                         store.path(), name, dataset, x));
        return Eigen::MatrixXd(Eigen::Map<const Eigen::MatrixXd>(v.data(), shape.labels, users));
      };
      m.ewma_short = matrix("mixture_ewma_short");
      m.ewma_long = matrix("mixture_ewma_long");
      m.labelled = h5::read_array<std::int32_t>(sg, "mixture_labelled", cx);
      const std::vector<double> pi = h5::read_array<double>(sg, "mixture_population", cx);
      m.population = Eigen::Map<const Eigen::VectorXd>(pi.data(), static_cast<Eigen::Index>(pi.size()));
      if (static_cast<std::int64_t>(m.labelled.size()) != users || pi.size() != labels ||
          std::any_of(m.labelled.begin(), m.labelled.end(), [](std::int32_t c) { return c < 0; }) ||
          std::any_of(pi.begin(), pi.end(), [](double x) { return !std::isfinite(x) || x < 0; }))
        throw InputError(fmt::format("{}: result '{}': the interest mixture's saved state (state/mixture_*) does not "
                                     "fit the store",
                                     store.path(), name));
      st.mixture = std::move(m);
    }
    if (st.recurrent.hidden.cols() != shape.hidden ||
        (st.recurrent.cell.size() > 0 && st.recurrent.cell.cols() != shape.hidden) ||
        st.user_scores.cols() != shape.labels || st.user_factors.cols() != shape.factor_size ||
        static_cast<std::int64_t>(st.last_active.size()) != users || st.fed_periods < 1 || st.periods != out.periods)
      throw InputError(fmt::format("{}: result '{}': its saved state (state/) does not fit the model and the store",
                                   store.path(), name));
    out.state = std::move(st);
  }
  return out;
}

}  // namespace driftrec::io
