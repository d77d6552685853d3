#include "evaluation/truth.hpp"

#include <cmath>
#include <unordered_map>

#include <fmt/format.h>

#include "io/text.hpp"

namespace driftrec::evaluation {

using graph::Index;

PlantedTruth read_planted_truth(const std::string& path, const EvaluationData& data,
                                std::span<const std::size_t> periods) {
  std::unordered_map<std::string, Index> user_of, label_of;
  for (std::size_t u = 0; u < data.user_ids.size(); ++u) user_of.emplace(data.user_ids[u], static_cast<Index>(u));
  for (std::size_t l = 0; l < data.label_names.size(); ++l) label_of.emplace(data.label_names[l], static_cast<Index>(l));
  std::unordered_map<graph::Time, std::size_t> period_of;
  for (std::size_t p : periods) period_of.emplace(data.periods.begin[p], p);

  io::LineReader reader(path);
  std::string_view line;
  std::vector<std::string_view> f;
  std::string scratch;
  if (!reader.next(line))
    throw InputError(fmt::format("--truth {}: the file is empty; expected truth.csv from driftrec generate", path));
  if (io::trim(line) != "user,period,begin,label,weight")
    throw InputError(fmt::format("--truth {}:1: expected the header user,period,begin,label,weight "
                                        "(truth.csv from driftrec generate), found '{}'",
                                        path, io::excerpt(line)));
  PlantedTruth t;
  std::int64_t rows = 0, unknown_user = 0, unknown_label = 0;
  double dropped_mass = 0;
  bool any_period = false;
  while (reader.next(line)) {
    if (io::trim(line).empty()) continue;
    ++rows;
    if (!io::split_fields(line, ",", f, scratch) || f.size() != 5)
      throw InputError(fmt::format("--truth {}: expected 5 fields user,period,begin,label,weight", reader.where()));
    std::int64_t begin = 0;
    float weight = 0;
    if (!io::parse_int64(io::trim(f[2]), begin))
      throw InputError(fmt::format("--truth {}: field 'begin': expected Unix seconds, found '{}'",
                                          reader.where(), io::excerpt(f[2])));
    if (!io::parse_finite_float(io::trim(f[4]), weight) || weight < 0)
      throw InputError(fmt::format("--truth {}: field 'weight': expected a non-negative number, found '{}'",
                                          reader.where(), io::excerpt(f[4])));
    auto p = period_of.find(begin);
    if (p == period_of.end()) continue;
    any_period = true;
    auto u = user_of.find(std::string(io::trim(f[0])));
    if (u == user_of.end()) {
      ++unknown_user;
      continue;
    }
    auto& dist = t.interests[{p->second, u->second}];
    if (dist.empty()) dist.assign(static_cast<std::size_t>(data.n_labels), 0.0);
    auto l = label_of.find(std::string(io::trim(f[3])));
    if (l == label_of.end()) {
      ++unknown_label;
      dropped_mass += weight;
      continue;
    }
    dist[static_cast<std::size_t>(l->second)] += weight;
  }
  if (!any_period && !periods.empty())
    throw InputError(fmt::format(
        "--truth {}: no row begins at a test period of the store (first test period begins at "
        "{}); ingest the generated events with the --slice that meta.json names",
        path, data.periods.begin[periods.front()]));
  for (auto it = t.interests.begin(); it != t.interests.end();) {
    if (normalize(it->second)) ++it;
    else it = t.interests.erase(it);  // every label of this (user, period) is unknown
  }
  t.description = fmt::format(
      "planted interests from {}: {} rows, {} (user, period) distributions in the test periods; "
      "{} rows of users the store does not know ignored; {} rows of labels it does not know "
      "dropped (total weight {:.3g}) and the rest renormalised",
      path, rows, t.interests.size(), unknown_user, unknown_label, dropped_mass);
  return t;
}

}  // namespace driftrec::evaluation
