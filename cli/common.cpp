// What every subcommand shares: --threads and the progress line on stderr.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/core.h>

#include "cli/commands.hpp"

namespace driftrec::cli {

void CommonOptions::apply() const {
  if (threads < 0) throw InputError("--threads: expected a positive number or 0 (all cores)");
}

void add_threads_option(CLI::App& cmd, CommonOptions& opts) {
  cmd.add_option("--threads", opts.threads, "OpenMP threads (0: all cores)")->default_val(0);
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

namespace {
bool g_progress_drawn = false;
}

pipeline::Progress make_progress() {
  if (!stderr_is_terminal()) return {};
  return [last = std::chrono::steady_clock::time_point{}](const char* stage, std::uint64_t done,
                                                        std::uint64_t total) mutable {
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last < std::chrono::milliseconds(200)) return;
    last = now;
    double pct = total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0;
    fmt::print(stderr, "\r\033[K{}: {:5.1f}%", stage, pct);
    std::fflush(stderr);
    g_progress_drawn = true;
  };
}

void end_progress() {
  if (g_progress_drawn) fmt::print(stderr, "\r\033[K");
  g_progress_drawn = false;
}

}  // namespace driftrec::cli
