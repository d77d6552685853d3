// The names of results under /results in a store, checked before a job runs (pipeline/) as
// well as when the result is created (io/results.hpp).
#pragma once
#include <string>

namespace driftrec::io {

// Result names: letters, digits, '_' and '-'. Throws InputError otherwise.
void check_result_name(const std::string& name);

}  // namespace driftrec::io
