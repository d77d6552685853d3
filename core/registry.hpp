// A table of named implementations of one interface (the propagation backends, the ALS
// backends), each with a probe of whether it can run on this machine. A table rather than
// self-registration from static initialisers: a static library drops an object file that
// nothing refers to, and its registration with it.
//
// A CUDA backend, say, adds an entry whose probe asks the runtime for a device and answers
// "no CUDA device" when there is none (or "built without CUDA"), so it is listed by
// registered() but not by available(), and make() explains why it cannot be made.
#pragma once
#include <fmt/format.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace driftrec::core {

template <class Interface, class Options>
class Registry {
 public:
  struct Entry {
    std::string_view name;
    std::function<std::string()> unavailable_because;  // empty string: can run here
    std::function<std::unique_ptr<Interface>(const Options&)> make;
  };

  // `what` names the kind in messages ("backend", "ALS backend").
  Registry(std::string_view what, std::vector<Entry> entries)
      : what_(what), entries_(std::move(entries)) {}

  // InputError on an unknown name (listing the registered ones) or on one that cannot run
  // here (saying why, and listing those that can).
  std::unique_ptr<Interface> make(std::string_view name, const Options& options) const {
    const Entry* e = find(name);
    if (!e)
      throw InputError(fmt::format("{} '{}': unknown; registered: {}", what_, name,
                                   fmt::join(registered(), ", ")));
    if (const std::string why = e->unavailable_because(); !why.empty())
      throw InputError(fmt::format("{} '{}': not available on this machine ({}); available: {}",
                                   what_, name, why, fmt::join(available(), ", ")));
    return e->make(options);
  }

  std::vector<std::string> registered() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_) out.emplace_back(e.name);
    return out;
  }

  bool available(std::string_view name) const {
    const Entry* e = find(name);
    return e && e->unavailable_because().empty();
  }

  std::vector<std::string> available() const {
    std::vector<std::string> out;
    for (const Entry& e : entries_)
      if (e.unavailable_because().empty()) out.emplace_back(e.name);
    return out;
  }

 private:
  const Entry* find(std::string_view name) const {
    for (const Entry& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  std::string_view what_;
  std::vector<Entry> entries_;
};

}  // namespace driftrec::core
