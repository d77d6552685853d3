// The planted interests that `driftrec generate` writes (truth.csv, graph/generator.hpp):
// columns user,period,begin,label,weight -- user u's weight on label g<NN> during the
// generator period that begins at `begin` (Unix seconds); a (user, period)'s weights sum
// to 1. Rows are matched to the store by name: users through the store's user ids,
// labels through its label names, periods by `begin` equal to a store period's begin
// (exact when the store was ingested with the generator's --slice <N>s). Only the
// periods asked for are kept. Labels the store does not know (no published item carries
// them) are dropped and each distribution renormalised over the store's labels; users
// the store does not know (no events) are ignored. Both are counted in the description.
#pragma once
#include <span>
#include <string>

#include "evaluation/evaluate.hpp"
#include "evaluation/split.hpp"

namespace driftrec::evaluation {

// Throws InputError naming the file, line and field for a malformed row, or the
// file when none of `periods` begins at a row's `begin`.
PlantedTruth read_planted_truth(const std::string& path, const EvaluationData& data,
                                std::span<const std::size_t> periods);

}  // namespace driftrec::evaluation
