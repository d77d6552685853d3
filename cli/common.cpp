// What every subcommand shares: --threads, --quiet and the progress on stderr (cli/progress.hpp).
#include <unistd.h>

#include <cstdio>
#include <memory>

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

void add_quiet_option(CLI::App& cmd, CommonOptions& opts) {
  cmd.add_flag("--quiet", opts.quiet,
               "No progress on stderr (by default a bar with an ETA on a terminal, otherwise a line every 10% or 5 s)");
}

namespace {
// The renderer of the step running now; end_progress() closes it.
std::shared_ptr<ProgressRenderer> g_progress;

pipeline::Progress start_progress(ProgressStyle style) {
  end_progress();
  if (style == ProgressStyle::off) return {};
  g_progress = std::make_shared<ProgressRenderer>(style, stderr);
  return [r = g_progress](const char* stage, std::uint64_t done, std::uint64_t total) { r->update(stage, done, total); };
}
}  // namespace

pipeline::Progress make_progress() {
  return start_progress(stderr_is_terminal() ? ProgressStyle::bar : ProgressStyle::off);
}

pipeline::Progress make_progress(const CommonOptions& opts) { return start_progress(progress_style(opts.quiet, stderr_is_terminal())); }

void pause_progress() {
  if (g_progress) g_progress->pause();
}

void end_progress() {
  if (g_progress) g_progress->finish();
  g_progress.reset();
}

}  // namespace driftrec::cli
