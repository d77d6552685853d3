// The driftrec subcommands. Each add_* registers one subcommand on the app; its callback
// parses the arguments into a pipeline request, makes one pipeline call (pipeline/) and
// prints the summary. Errors travel as exceptions: InputError (bad usage or input) becomes
// exit 2, anything else exit 1.
#pragma once
#include <CLI/CLI.hpp>

#include "cli/options.hpp"
#include "cli/progress.hpp"
#include "io/ingest.hpp"
#include "pipeline/common.hpp"

namespace driftrec::cli {

void add_ingest(CLI::App& app);
void add_info(CLI::App& app);
void add_reslice(CLI::App& app);
void add_generate(CLI::App& app);
void add_demo(CLI::App& app);
void add_factorize(CLI::App& app);
void add_recommend(CLI::App& app);  // recommend and similar-items
void add_propagate(CLI::App& app);
void add_evaluate(CLI::App& app);
void add_train(CLI::App& app);  // train and predict
void add_report(CLI::App& app);
void add_export(CLI::App& app);
void add_update(CLI::App& app);
void add_serve(CLI::App& app);

// driftrec report's arguments; run_report runs the Python module driftrec.report on them
// and returns its exit status (0 ok, 2 bad input or the module missing, 1 otherwise).
struct ReportArgs {
  std::string store, out, evaluation;
  std::vector<std::string> users;
};
int run_report(const ReportArgs& a);

// Options every subcommand shares. Commands pass `threads` into the pipeline requests (or
// io::IngestOptions), which pass it into the options of every library call that runs
// threads; apply() only checks it (OpenMP's own settings are left alone).
struct CommonOptions {
  int threads = 0;  // 0: OpenMP's default
  bool quiet = false;  // --quiet: no progress (add_quiet_option)
  void apply() const;
};
void add_threads_option(CLI::App& cmd, CommonOptions& opts);

// How ingest and update read event logs and label files: the options both take (--format,
// --delimiter, --columns, --header, --time-format, --negative, --labels-format,
// --genre-names, --on-error). The enum-valued ones are kept as strings until the command's
// callback parses them with apply_reader_options.
struct ReaderOptions {
  std::string on_error = "fail", time_format = "auto", negative = "refuse";
};
void add_reader_options(CLI::App& cmd, io::EventReadOptions& events, io::LabelReadOptions& labels, ReaderOptions& r);
void apply_reader_options(const ReaderOptions& r, io::EventReadOptions& events, io::LabelReadOptions& labels);
// --quiet, for the commands whose progress make_progress(opts) draws.
void add_quiet_option(CLI::App& cmd, CommonOptions& opts);

// The lines `driftrec ingest` prints (the demo prints them too).
void print_ingest_report(const io::IngestReport& r);

// The --slice help of ingest and reslice.
inline constexpr const char* kSliceHelp =
    "day|week|month|quarter|year|<N>s|quantiles:<N>. quantiles:N cuts the time-sorted events into N "
    "groups of as equal size as possible; events sharing a time stay in one period, so there are at most "
    "as many periods as distinct event times, and with N >= the number of events every distinct time is a period";

// True when progress lines should be drawn (stderr is a terminal).
bool stderr_is_terminal();

// The progress of a long step (cli/progress.hpp), drawn on stderr until end_progress().
// make_progress(opts): a bar with an ETA on a terminal, plain periodic lines otherwise,
// nothing with --quiet (propagate, factorize, train, evaluate, update).
// make_progress(): the bar on a terminal, nothing otherwise (ingest, reslice, generate,
// whose output people and tests read line by line).
pipeline::Progress make_progress(const CommonOptions& opts);
pipeline::Progress make_progress();
void pause_progress();  // clears the bar before printing another line to stderr
void end_progress();

}  // namespace driftrec::cli
