#include "cli/sequence_result.hpp"

#include <fmt/format.h>

#include "io/text.hpp"
#include "temporal/serialization.hpp"

namespace driftrec::cli {
namespace {

template <class M>
void write_rows(hid_t g, const std::string& name, const M& m) {
  io::write_matrix(g, name, m.data(), static_cast<std::uint64_t>(m.rows()), static_cast<std::uint64_t>(m.cols()));
}

template <class M>
M read_rows(const io::Store& store, hid_t g, const std::string& name, std::int64_t rows) {
  io::Matrix m = io::read_matrix(g, name, store.context());
  if (rows >= 0 && static_cast<std::int64_t>(m.rows) != rows)
    throw InputError(fmt::format("{}: {} has {} rows, expected {}", store.path(), name, m.rows, rows));
  return Eigen::Map<const M>(m.data.data(), static_cast<Eigen::Index>(m.rows), static_cast<Eigen::Index>(m.cols));
}

}  // namespace

void write_sequence_result(hid_t g, const temporal::TrainedSequence& s, double interest_weight) {
  const temporal::SerializedModel m = temporal::serialize_model(s.training.model);
  io::h5::Handle params = io::h5::create_group(g, "parameters");
  for (const temporal::NamedTensor& t : m.tensors)
    io::write_matrix(params, t.name, t.data.data(), static_cast<std::uint64_t>(t.rows), static_cast<std::uint64_t>(t.cols));
  std::string names;
  for (const auto& [key, value] : m.attributes) {
    io::h5::write_attr(g, "model_" + key, value);
    names += (names.empty() ? "" : ",") + key;
  }
  io::h5::write_attr(g, "model_attributes", names);
  write_rows(g, "next_interests", s.next.interests);
  write_rows(g, "next_factors", s.next.factors);
  write_rows(g, "item_factors", s.item_factors);
  std::vector<double> train, validation;
  for (const auto& e : s.training.history) {
    train.push_back(e.train_loss);
    validation.push_back(e.validation_loss);
  }
  io::h5::write_array<double>(g, "train_loss", train);
  io::h5::write_array<double>(g, "validation_loss", validation);
  io::h5::write_attr(g, "interest_weight", fmt::format("{}", interest_weight));
  io::h5::write_attr(g, "best_epoch", static_cast<std::int64_t>(s.training.best_epoch));
}

LoadedSequence load_sequence_result(const io::Store& store, const std::string& name) {
  io::h5::Handle g = io::open_result(store, name);
  const auto& cx = store.context();
  if (const std::string kind = io::h5::read_attr_string(g, "kind", cx); kind != "sequence_model")
    throw InputError(fmt::format("{}: result '{}' is a {} result, not a sequence model (driftrec train)",
                                        store.path(), name, kind));
  temporal::SerializedModel m;
  const std::string all_names = io::h5::read_attr_string(g, "model_attributes", cx);
  std::string_view names = all_names;
  while (!names.empty()) {
    const std::size_t comma = names.find(',');
    const std::string key(names.substr(0, comma));
    m.attributes.emplace_back(key, io::h5::read_attr_string(g, "model_" + key, cx));
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
  }
  for (std::size_t t = 0; t < temporal::kTensorCount; ++t) {
    const std::string tensor(temporal::tensor_name(t));
    io::Matrix x = io::read_matrix(g, "parameters/" + tensor, cx);
    m.tensors.push_back({tensor, static_cast<std::int64_t>(x.rows), static_cast<std::int64_t>(x.cols), std::move(x.data)});
  }
  LoadedSequence out;
  out.model = temporal::deserialize_model(m);
  out.next_interests = read_rows<temporal::RowMatrix>(store, g, "next_interests", store.n_users());
  out.next_factors = read_rows<temporal::RowMatrix>(store, g, "next_factors", store.n_users());
  out.item_factors = read_rows<matrix_factorization::Factors>(store, g, "item_factors", store.n_items());
  float w = 0;
  if (!io::parse_finite_float(io::h5::read_attr_string(g, "interest_weight", cx), w) || w < 0 || w > 1)
    throw InputError(fmt::format("{}: result '{}': interest_weight is not a number in [0, 1]", store.path(), name));
  out.interest_weight = w;
  if (out.next_interests.cols() != store.n_labels() || out.next_factors.cols() != out.item_factors.cols())
    throw InputError(fmt::format("{}: result '{}': predictions and factors do not fit the store", store.path(), name));
  return out;
}

}  // namespace driftrec::cli
