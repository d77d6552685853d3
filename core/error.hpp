// driftrec's one error hierarchy, with one meaning per class, so that every front end (the
// CLI, the Python module, a C++ caller) can tell the user what to do:
//
//   Error                 base of everything driftrec throws on purpose
//   +- InputError         bad input or options: the message names the file, line, field or
//   |                     argument and what was expected (CLI exit 2; Python ValueError)
//   +- NumericalError     a numerical failure the user can fix by changing a parameter (ALS
//   |                     breaking down at regularization 0, a loss that stops being finite):
//   |                     the message names the parameter to change (CLI exit 2)
//   +- InternalError      a failure that is not the user's to fix: an I/O error of the
//                         system, a library call that failed (CLI exit 1)
//
// A broken internal invariant is not an exception: DRIFTREC_ASSERT aborts with file:line
// (the faiss FAISS_ASSERT / FAISS_THROW_IF_NOT split). DRIFTREC_THROW_IF_NOT checks a
// caller's input and throws InputError with the message given.
#pragma once
#include <stdexcept>
#include <string>

namespace driftrec {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class InputError : public Error {
 public:
  using Error::Error;
};

class NumericalError : public Error {
 public:
  using Error::Error;
};

class InternalError : public Error {
 public:
  using Error::Error;
};

namespace core {
// Prints "driftrec: internal invariant broken at FILE:LINE: CONDITION" and aborts.
[[noreturn]] void assertion_failed(const char* condition, const char* file, int line) noexcept;
}  // namespace core

}  // namespace driftrec

#define DRIFTREC_ASSERT(condition)                                                    \
  do {                                                                                \
    if (!(condition)) ::driftrec::core::assertion_failed(#condition, __FILE__, __LINE__); \
  } while (false)

#define DRIFTREC_THROW_IF_NOT(condition, message)                \
  do {                                                           \
    if (!(condition)) throw ::driftrec::InputError(message);     \
  } while (false)
