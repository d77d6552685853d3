#include "temporal/serialization.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <map>
#include <system_error>

#include "graph/types.hpp"

namespace driftrec::temporal {
namespace {


template <class T>
T parse(const std::map<std::string, std::string>& attrs, const std::string& key) {
  const auto it = attrs.find(key);
  if (it == attrs.end())
    throw InputError(fmt::format("sequence model: the stored model has no attribute `{}`", key));
  const std::string& s = it->second;
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size())
    throw InputError(fmt::format("sequence model: attribute `{}` = \"{}\" is not a valid {}", key,
                                 s, std::is_floating_point_v<T> ? "number" : "integer"));
  return value;
}

std::string text(const std::map<std::string, std::string>& attrs, const std::string& key) {
  const auto it = attrs.find(key);
  if (it == attrs.end())
    throw InputError(fmt::format("sequence model: the stored model has no attribute `{}`", key));
  return it->second;
}

}  // namespace

SerializedModel serialize_model(const SequenceModel& model) {
  const SequenceModelOptions& o = model.options;
  const Shape s = model.shape();
  SerializedModel out;
  out.attributes = {{"format", kModelFormat},
                    {"version", fmt::format("{}", kModelVersion)},
                    {"cell", std::string(cell_name(model.parameters.cell))},
                    {"hidden", fmt::format("{}", s.hidden)},
                    {"bptt", fmt::format("{}", o.bptt)},
                    {"learning_rate", fmt::format("{}", o.learning_rate)},
                    {"epochs", fmt::format("{}", o.epochs)},
                    {"batch_users", fmt::format("{}", o.batch_users)},
                    {"factor_weight", fmt::format("{}", o.factor_weight)},
                    {"l2", fmt::format("{}", o.l2)},
                    {"patience", fmt::format("{}", o.patience)},
                    {"clip_norm", fmt::format("{}", o.clip_norm)},
                    {"seed", fmt::format("{}", o.seed)},
                    {"threads", fmt::format("{}", o.threads)},
                    {"gap_cap", fmt::format("{}", model.features.gap_cap)},
                    {"input_size", fmt::format("{}", s.input_size)},
                    {"labels", fmt::format("{}", s.labels)},
                    {"factor_size", fmt::format("{}", s.factor_size)}};
  for (std::size_t k = 0; k < kTensorCount; ++k) {
    const Matrix<float>& m = model.parameters[k];
    NamedTensor t{std::string(tensor_name(k)), m.rows(), m.cols(), {}};
    t.data.reserve(static_cast<std::size_t>(m.size()));
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) t.data.push_back(m(r, c));
    out.tensors.push_back(std::move(t));
  }
  return out;
}

SequenceModel deserialize_model(const SerializedModel& stored) {
  const std::map<std::string, std::string> attrs(stored.attributes.begin(),
                                                 stored.attributes.end());
  if (text(attrs, "format") != kModelFormat)
    throw InputError(fmt::format("sequence model: attribute `format` is \"{}\", expected \"{}\"",
                                 text(attrs, "format"), kModelFormat));
  if (const int version = parse<int>(attrs, "version"); version != kModelVersion)
    throw InputError(fmt::format("sequence model: attribute `version` is {}, this build reads {}",
                                 version, kModelVersion));
  SequenceModel model;
  SequenceModelOptions& o = model.options;
  const std::string cell = text(attrs, "cell");
  if (cell == "gru")
    o.cell = CellKind::gru;
  else if (cell == "lstm")
    o.cell = CellKind::lstm;
  else if (cell == "attention")
    o.cell = CellKind::attention;
  else
    throw InputError(
        fmt::format("sequence model: attribute `cell` is \"{}\", expected gru, lstm or attention", cell));
  o.hidden = parse<int>(attrs, "hidden");
  o.bptt = parse<int>(attrs, "bptt");
  o.learning_rate = parse<float>(attrs, "learning_rate");
  o.epochs = parse<int>(attrs, "epochs");
  o.batch_users = parse<int>(attrs, "batch_users");
  o.factor_weight = parse<float>(attrs, "factor_weight");
  o.l2 = parse<float>(attrs, "l2");
  o.patience = parse<int>(attrs, "patience");
  o.clip_norm = parse<float>(attrs, "clip_norm");
  o.seed = parse<std::uint64_t>(attrs, "seed");
  o.threads = parse<int>(attrs, "threads");
  o.validate();
  model.features.gap_cap = parse<int>(attrs, "gap_cap");
  model.features.validate();
  const Shape shape{parse<int>(attrs, "input_size"), o.hidden, parse<int>(attrs, "labels"),
                    parse<int>(attrs, "factor_size")};
  if (shape.labels < 1 || shape.factor_size < 0 ||
      shape.input_size != shape.labels + shape.factor_size + 2)
    throw InputError(
        fmt::format("sequence model: sizes do not agree: input_size {} should be labels ({}) + "
                    "factor_size ({}) + 2, with labels >= 1",
                    shape.input_size, shape.labels, shape.factor_size));

  model.parameters = zero_parameters<float>(o.cell, shape);
  if (stored.tensors.size() != kTensorCount)
    throw InputError(fmt::format("sequence model: {} tensors stored, expected {}",
                                 stored.tensors.size(), static_cast<std::size_t>(kTensorCount)));
  for (std::size_t k = 0; k < kTensorCount; ++k) {
    const NamedTensor& t = stored.tensors[k];
    Matrix<float>& m = model.parameters[k];
    if (t.name != tensor_name(k))
      throw InputError(fmt::format("sequence model: tensor {} is named `{}`, expected `{}`", k,
                                   t.name, tensor_name(k)));
    if (t.rows != m.rows() || t.cols != m.cols() ||
        t.data.size() != static_cast<std::size_t>(m.size()))
      throw InputError(
          fmt::format("sequence model: tensor `{}` is {} x {} with {} values, expected {} x {}",
                      t.name, t.rows, t.cols, t.data.size(), m.rows(), m.cols()));
    for (Eigen::Index r = 0; r < m.rows(); ++r)
      for (Eigen::Index c = 0; c < m.cols(); ++c) {
        const float v = t.data[static_cast<std::size_t>(r * m.cols() + c)];
        if (!std::isfinite(v))
          throw InputError(
              fmt::format("sequence model: tensor `{}` has {} at ({}, {})", t.name, v, r, c));
        m(r, c) = v;
      }
  }
  return model;
}

}  // namespace driftrec::temporal
