// core/error.hpp: the three error classes are driftrec::Error and std::runtime_error and are
// told apart by type, DRIFTREC_THROW_IF_NOT throws InputError with the message given (and
// evaluates its condition once), and DRIFTREC_ASSERT aborts with file:line and the
// condition (checked in a forked child, since it ends the process).
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <string>
#include <type_traits>

#include <sys/wait.h>
#include <unistd.h>

using namespace driftrec;

TEST_CASE("every error class is a driftrec::Error and a std::runtime_error", "[core][error]") {
  STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, Error>);
  STATIC_REQUIRE(std::is_base_of_v<Error, InputError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, NumericalError>);
  STATIC_REQUIRE(std::is_base_of_v<Error, InternalError>);
  // No class is another's: a front end maps each to its own exit code.
  STATIC_REQUIRE_FALSE(std::is_base_of_v<InputError, NumericalError>);
  STATIC_REQUIRE_FALSE(std::is_base_of_v<NumericalError, InputError>);
  STATIC_REQUIRE_FALSE(std::is_base_of_v<InputError, InternalError>);
  STATIC_REQUIRE_FALSE(std::is_base_of_v<InternalError, NumericalError>);

  REQUIRE_THROWS_MATCHES(throw NumericalError("raise --regularization"), Error,
                         Catch::Matchers::Message("raise --regularization"));
  REQUIRE_THROWS_MATCHES(throw InternalError("disk full"), std::runtime_error,
                         Catch::Matchers::Message("disk full"));
  // Caught by the most specific handler, not a sibling's.
  auto kind = [](auto thrower) -> std::string {
    try {
      thrower();
    } catch (const InputError&) {
      return "input";
    } catch (const NumericalError&) {
      return "numerical";
    } catch (const InternalError&) {
      return "internal";
    } catch (const Error&) {
      return "error";
    }
    return "none";
  };
  CHECK(kind([] { throw InputError("x"); }) == "input");
  CHECK(kind([] { throw NumericalError("x"); }) == "numerical");
  CHECK(kind([] { throw InternalError("x"); }) == "internal");
  CHECK(kind([] { throw Error("x"); }) == "error");
  CHECK(kind([] {}) == "none");
}

TEST_CASE("DRIFTREC_THROW_IF_NOT throws InputError with the message when the check fails",
          "[core][error]") {
  int evaluated = 0;
  auto check = [&](int k) {
    DRIFTREC_THROW_IF_NOT(++evaluated, "never thrown");
    DRIFTREC_THROW_IF_NOT(k >= 1, "k: expected at least 1, got " + std::to_string(k));
  };
  CHECK_NOTHROW(check(3));
  CHECK(evaluated == 1);  // the condition runs once
  REQUIRE_THROWS_MATCHES(check(0), InputError, Catch::Matchers::Message("k: expected at least 1, got 0"));
  CHECK(evaluated == 2);
}

TEST_CASE("DRIFTREC_ASSERT aborts with the file, the line and the condition", "[core][error]") {
  int pipe_fd[2];
  REQUIRE(pipe(pipe_fd) == 0);
  const int line = __LINE__ + 7;  // the DRIFTREC_ASSERT below
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    dup2(pipe_fd[1], STDERR_FILENO);
    std::signal(SIGABRT, SIG_DFL);  // Catch2's handler would report a failure from the child
    const int rows = 2;
    DRIFTREC_ASSERT(rows == 3);
    _exit(0);  // not reached when the assertion aborts
  }
  close(pipe_fd[1]);
  std::string err;
  char buf[256];
  for (ssize_t got; (got = read(pipe_fd[0], buf, sizeof buf)) > 0;) err.append(buf, static_cast<std::size_t>(got));
  close(pipe_fd[0]);
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGABRT);
  CHECK(err == std::string("driftrec: internal invariant broken at ") + __FILE__ + ":" +
                   std::to_string(line) + ": rows == 3\n");
}

TEST_CASE("DRIFTREC_ASSERT does nothing when the invariant holds", "[core][error]") {
  int evaluated = 0;
  DRIFTREC_ASSERT(++evaluated == 1);
  CHECK(evaluated == 1);
}
