// The driftrec subcommands. Each add_* registers one subcommand on the app; its callback
// parses the arguments into a pipeline request, makes one pipeline call (pipeline/) and
// prints the summary. Errors travel as exceptions: InputError (bad usage or input) becomes
// exit 2, anything else exit 1.
#pragma once
#include <CLI/CLI.hpp>

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
void add_serve(CLI::App& app);

// Options every subcommand shares. Commands pass `threads` into the pipeline requests (or
// io::IngestOptions), which pass it into the options of every library call that runs
// threads; apply() only checks it (OpenMP's own settings are left alone).
struct CommonOptions {
  int threads = 0;  // 0: OpenMP's default
  void apply() const;
};
void add_threads_option(CLI::App& cmd, CommonOptions& opts);

// The lines `driftrec ingest` prints (the demo prints them too).
void print_ingest_report(const io::IngestReport& r);

// The --slice help of ingest and reslice.
inline constexpr const char* kSliceHelp =
    "day|week|month|quarter|year|<N>s|quantiles:<N>. quantiles:N cuts the time-sorted events into N "
    "groups of as equal size as possible; events sharing a time stay in one period, so there are at most "
    "as many periods as distinct event times, and with N >= the number of events every distinct time is a period";

// True when progress lines should be drawn (stderr is a terminal).
bool stderr_is_terminal();

// A progress printer for long steps: redraws one line on stderr when it is a terminal,
// prints nothing otherwise (an empty function). Finish the line with end_progress().
pipeline::Progress make_progress();
void end_progress();

}  // namespace driftrec::cli
