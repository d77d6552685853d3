// A C++ analytics call without the CLI: open a driftrec store, run temporal label
// propagation over its periods and print one user's top interests in each of the last
// periods. Usage: user_interests STORE USER_ID [TOP]
#include <algorithm>
#include <cstdio>
#include <exception>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/store.hpp"
#include "propagation/temporal_propagation.hpp"

namespace dr = driftrec;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s STORE USER_ID [TOP]\n", argv[0]);
    return 2;
  }
  const int top = argc > 3 ? std::stoi(argv[3]) : 3;
  try {
    const auto store = dr::io::Store::open(argv[1]);
    const auto users = store.users();
    const auto user_it = std::find(users.begin(), users.end(), std::string(argv[2]));
    if (user_it == users.end()) throw dr::InputError(std::string("no user with id ") + argv[2]);
    const auto user = static_cast<Eigen::Index>(user_it - users.begin());

    std::vector<dr::graph::CsrMatrix> slices;
    for (std::size_t k = 0; k < store.n_slices(); ++k) slices.push_back(store.slice(k));
    const auto results = dr::propagation::propagate_temporal(slices, store.item_labels(), {});

    const auto labels = store.labels();
    const std::size_t first = results.size() > 3 ? results.size() - 3 : 0;
    for (std::size_t t = first; t < results.size(); ++t) {
      const auto& f = results[t].interests;
      std::vector<int> order(static_cast<std::size_t>(f.cols()));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return f(user, a) > f(user, b); });
      std::printf("period %zu (%s):", t, results[t].converged ? "converged" : "not converged");
      for (int j = 0; j < std::min<int>(top, static_cast<int>(order.size())); ++j)
        std::printf("  %s %.3f", labels[static_cast<std::size_t>(order[j])].c_str(), f(user, order[j]));
      std::printf("\n");
    }
  } catch (const dr::InputError& e) {
    std::fprintf(stderr, "user_interests: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "user_interests: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
