// The names of results under /results in a store, checked before a job runs (pipeline/) as
// well as when the result is created (io/results.hpp).
#pragma once
#include <string>

namespace driftrec::io {

// The name `recommend`, `export`, `serve` and the Python module read as the learned item
// ranker (pipeline/ranking.hpp) rather than a stored result; no job may store one by it.
inline constexpr const char* kRankerName = "ranker";

// A new result's name: letters, digits, '_' and '-', and not kRankerName. Throws InputError
// otherwise.
void check_result_name(const std::string& name);

}  // namespace driftrec::io
