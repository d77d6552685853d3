// Factor matrices in a store's /results/<name>/{user,item}_factors/NNNN, shared by
// factorize (writes), recommend and similar-items (read).
#pragma once
#include <optional>
#include <string>

#include "io/results.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace driftrec::cli {

void write_factors(hid_t group, std::size_t period, const matrix_factorization::Factors& f);

// The latest period (or `period`) that has both user and item factors in result `name`,
// and the model of that period. Throws InputError when there is none.
struct LoadedModel {
  std::size_t period = 0;
  matrix_factorization::AlsModel model;
};
LoadedModel load_factors(const io::Store& store, const std::string& name, std::optional<std::size_t> period);

}  // namespace driftrec::cli
