// What the pipeline tests share: a summary's JSON compared with what the CLI printed, less
// the fields that differ between two runs by nature (wall time) or by choice (the result
// name), the message of the InputError a call throws, and a small train result with a
// given item model.
#pragma once
#include <filesystem>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "pipeline/train.hpp"

namespace driftrec::test {

inline nlohmann::json without(nlohmann::json j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) j.erase(k);
  return j;
}

// The message of the InputError f() throws, or a note that it threw none.
template <class F>
std::string input_error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError thrown)";
}

// error_of(change): the message of the InputError job(q) throws, q being `base` after
// change(q).
template <class Request, class Job>
auto error_after(const Request& base, Job job) {
  return [base, job](auto change) {
    Request q = base;
    change(q);
    return input_error_of([&] { job(q); });
  };
}

// A copy of `store` beside it, named `name`; returns its path.
inline std::string copy_store(const std::string& store, const std::string& name) {
  const std::filesystem::path to = std::filesystem::path(store).parent_path() / name;
  std::filesystem::copy_file(store, to, std::filesystem::copy_options::overwrite_existing);
  return to.string();
}

// A small sequence model saved as `name`, ranking items by `items` (train --items: hybrid,
// ranker or best) and serving its own interests (what update steps forward).
inline pipeline::TrainSummary train_with_items(const std::string& store, const std::string& name,
                                               const std::string& items, int hidden) {
  pipeline::TrainRequest t;
  t.store = store;
  t.name = name;
  t.items = items;
  t.interests = "sequence";
  t.options.model.epochs = 2;
  t.options.model.hidden = hidden;
  t.options.model.seed = 1;
  t.threads = 2;
  return pipeline::train_store(t);
}

}  // namespace driftrec::test
