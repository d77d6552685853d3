// A batch job without the CLI: run one store-level job of the pipeline layer (random-walk
// CF by RP3beta) on a store and print the summary that `driftrec propagate --json` prints.
// The result lands in the store under /results/rp3beta, written atomically.
// Usage: store_job STORE
#include <cstdio>
#include <exception>

#include "core/error.hpp"
#include "pipeline/pipeline.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s STORE\n", argv[0]);
    return 2;
  }
  try {
    driftrec::pipeline::PropagateRequest request;
    request.store = argv[1];
    request.method = "rp3beta";
    const auto summary = driftrec::pipeline::propagate_store(request);
    std::printf("%s\n", summary.to_json().dump(2).c_str());
  } catch (const driftrec::InputError& e) {
    std::fprintf(stderr, "store_job: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_job: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
