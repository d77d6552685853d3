// The random-walk methods of `driftrec propagate` (p3alpha, rp3beta, ppr;
// propagation/random_walk.hpp), run on the decayed history G of the store's last period
// (G_t = gamma G_(t-1) + W_t) and saved under /results/<name>:
//   similarity/{indptr,indices,data}   p3alpha, rp3beta: items x items, top --neighbours per row
//   top_items, top_scores              users x --top: each user's best items not yet had
//                                      (item -1 / score -inf where fewer candidates)
// with every parameter as an attribute.
#pragma once
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "io/hdf5.hpp"
#include "io/store.hpp"

namespace driftrec::cli {

struct WalkArgs {
  float alpha = 1;         // exponent on the transition probabilities (p3alpha, rp3beta)
  float beta = 0.5f;       // popularity penalty (rp3beta)
  int neighbours = 100;    // similarity entries kept per item
  int top = 20;            // items saved per user
  float restart = 0.15f;   // ppr restart probability
  float gamma = 0.5f;      // history decay (set from --gamma)
  double tolerance = 1e-6; // ppr (set from --tolerance)
  int max_iterations = 100;
};

bool is_walk_method(const std::string& method);
// Registers --beta, --neighbours, --top, --restart.
void add_walk_options(CLI::App& cmd, WalkArgs& args);
// Throws InputError naming the option.
void validate_walk(const std::string& method, const WalkArgs& args);
// Computes and writes into the result group `g`; returns the JSON summary.
nlohmann::json run_walk(const io::Store& store, hid_t g, const std::string& method, const WalkArgs& args,
                        int threads);
void print_walk_summary(const std::string& store, const std::string& name, const std::string& method,
                        const nlohmann::json& summary, double seconds);

}  // namespace driftrec::cli
