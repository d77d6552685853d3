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

void add_reader_options(CLI::App& cmd, io::EventReadOptions& events, io::LabelReadOptions& labels, ReaderOptions& r) {
  cmd.add_option("--labels-format", labels.format, "auto|movielens|ml100k|long")->default_val("auto");
  cmd.add_option("--genre-names", labels.genre_names, "u.genre for --labels u.item (default: beside it)");
  cmd.add_option("--format", events.format, "auto|movielens-csv|movielens-dat|ml100k|delimited")->default_val("auto");
  cmd.add_option("--delimiter", events.delimiter,
                 "Field delimiter for delimited files: one character (',' ';' '|'), tab, space, pipe or '::'; default: "
                 "guessed");
  cmd.add_option("--columns", events.columns, "user=..,item=..,time=..[,value=..] by header name or 1-based position");
  cmd.add_option("--header", events.header, "Is the first line a header? auto|yes|no")->default_val("auto");
  cmd.add_option("--time-format", r.time_format,
                 "auto|seconds|millis|iso (auto: detected from the times, which must all be in one format)")
      ->default_val("auto");
  cmd.add_option("--negative", r.negative,
                 "Negative values: refuse (exit 2), drop (skip the event) or clip (count it as 0); the report counts them")
      ->default_val("refuse");
  cmd.add_option("--on-error", r.on_error,
                 "fail: stop at the first bad line (exit 2, nothing written); skip: skip bad lines and report counts")
      ->default_val("fail");
}

void apply_reader_options(const ReaderOptions& r, io::EventReadOptions& events, io::LabelReadOptions& labels) {
  events.on_error = io::parse_on_error(r.on_error);
  labels.on_error = events.on_error;
  events.time_format = io::parse_time_format(r.time_format);
  events.negative = io::parse_negative_values(r.negative);
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
