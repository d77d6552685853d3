// The loop of the conformance suites: one set of tests, written once, run over every
// registered backend. A backend registered but unavailable on this machine (a CUDA backend
// without a device) is reported as skipped; Catch2 v2 has no SKIP, so both the backends
// that ran and the ones skipped are WARNed (printed in every run), and a suite that ran
// no backend at all fails.
#pragma once
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace driftrec::test {

// body(name) for every name in `registered` for which available(name); `what` names the
// suite in the messages.
template <class Available, class Body>
void for_each_backend(const char* what, const std::vector<std::string>& registered,
                      Available&& available, Body&& body) {
  int ran = 0;
  for (const std::string& name : registered) {
    if (!available(name)) {
      WARN(what << ": backend '" << name << "' is registered but not available here: skipped");
      continue;
    }
    INFO(what << ": backend '" << name << "'");
    body(name);
    ++ran;
    WARN(what << ": backend '" << name << "' ran");
  }
  REQUIRE(ran > 0);
}

}  // namespace driftrec::test
