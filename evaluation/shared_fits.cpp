#include "evaluation/shared_fits.hpp"

namespace driftrec::evaluation {

std::uint64_t training_fingerprint(const Training& t) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&](std::uint64_t v) {
    h ^= v;
    h *= 1099511628211ull;
  };
  mix(t.period);
  for (std::size_t k = 0; k < t.events.user.size(); ++k) {
    mix(static_cast<std::uint64_t>(t.events.user[k]));
    mix(static_cast<std::uint64_t>(t.events.item[k]));
    mix(static_cast<std::uint64_t>(t.events.time[k]));
  }
  return h;
}

void SharedFits::want(const std::string& key) {
  std::lock_guard lock(mutex_);
  wanted_.insert(key);
}

std::size_t SharedFits::computed() const {
  std::lock_guard lock(mutex_);
  return computed_;
}

std::size_t SharedFits::served() const {
  std::lock_guard lock(mutex_);
  return served_;
}

}  // namespace driftrec::evaluation
