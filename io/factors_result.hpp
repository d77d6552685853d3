// Temporal ALS factors in a store, /results/<name> (kind "temporal_als"), written by
// `driftrec factorize` and read by recommend and similar-items:
//   user_factors/NNNN   users x f (float32) of the periods kept
//   item_factors/NNNN   items x f (float32) of the periods kept
// with the options (factors, regularization, alpha, iterations, cg_steps, solver, eta,
// gamma, seed), slicing and periods as attributes. The factors of a long history need not
// fit in memory together, so the writer takes them one period at a time.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "io/h5_handle.hpp"
#include "io/store.hpp"
#include "matrix_factorization/temporal_als.hpp"

namespace driftrec::io {

class FactorsResultWriter {
 public:
  // Creates /results/<name> in `w` (replacing one of that name) with empty factor groups.
  FactorsResultWriter(StoreWriter& w, const std::string& name);
  void write_user(std::size_t period, const matrix_factorization::Factors& f);
  void write_item(std::size_t period, const matrix_factorization::Factors& f);
  // Writes the attributes and closes the result; the caller then commits `w`.
  void finish(const matrix_factorization::TemporalAlsOptions& options, const std::string& slicing,
              std::size_t periods);

 private:
  h5::Handle group_, users_, items_;
};

// What finish() writes into the result group `result`: the attributes (driftrec-mpi writes
// them so after its ranks wrote the factors).
void write_factors_attributes(h5::Hid result, const matrix_factorization::TemporalAlsOptions& options,
                              const std::string& slicing, std::size_t periods);

// "cg" | "cholesky", as the solver attribute and `driftrec factorize --solver` spell it.
const char* solver_name(matrix_factorization::Solver s);

// The model of one period of a factors result: `period` if given, else the latest period
// that has both user and item factors. Throws InputError when there is none, or when the
// factors do not fit the store.
struct StoredFactors {
  std::size_t period = 0;
  matrix_factorization::AlsModel model;
};
StoredFactors read_factors(const Store& store, const std::string& name, std::optional<std::size_t> period = {});

// Which periods of the result kept user factors (one flag per store period).
std::vector<bool> user_factor_periods(const Store& store, const std::string& name);
// The user factors of one kept period (users x f); InputError when not kept or misshapen.
matrix_factorization::Factors read_user_factors(const Store& store, const std::string& name, std::size_t period);

// The kind attribute of /results/<name> (temporal_als, sequence_model, label_propagation,
// p3alpha, rp3beta, ppr); InputError naming the results the store has when it is missing.
std::string result_kind(const Store& store, const std::string& name);

// The options a factors result was computed with (its attributes).
matrix_factorization::TemporalAlsOptions read_factors_options(const Store& store, const std::string& name);

// One side ("user_factors" or "item_factors") of one period as stored, whatever its row
// count; empty when the result did not keep that period.
std::optional<matrix_factorization::Factors> read_factor_matrix(const Store& store, const std::string& name,
                                                                const char* side, std::size_t period);

// The periods (of the store's) for which the result kept that side, ascending.
std::vector<std::size_t> kept_factor_periods(const Store& store, const std::string& name, const char* side);

}  // namespace driftrec::io
