// The driftrec subcommands. Each add_* registers one subcommand on the app; its callback
// parses nothing by hand, calls one library function and prints. Errors travel as
// exceptions: InputError (bad usage or input) becomes exit 2, anything else exit 1.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "temporal/sequence_fit.hpp"
#include "io/ingest.hpp"

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

// `driftrec train` as a call (the demo runs it too).
struct TrainArgs {
  std::string store, name = "sequence";
  temporal::SequenceOptions options;
};
struct TrainSummary {
  nlohmann::json json;
};
TrainSummary run_train(const TrainArgs& args);

// The index of `id` in `ids`; InputError naming the store and what was looked for.
graph::Index find_id(const std::vector<std::string>& ids, const std::string& id, const char* what, const std::string& path);

// Options every subcommand shares.
struct CommonOptions {
  int threads = 0;  // 0: OpenMP's default
  void apply() const;
};
void add_threads_option(CLI::App& cmd, CommonOptions& opts);

// "all" or "last:N" (--keep options): the first period to keep out of `periods`.
// Throws InputError naming `option` on anything else.
std::size_t first_kept_period(const std::string& spec, std::size_t periods, const char* option);

// True when progress lines should be drawn (stderr is a terminal).
bool stderr_is_terminal();

// A progress printer for long steps: redraws one line on stderr when it is a terminal,
// prints nothing otherwise. Finish the line with end_progress().
io::StageProgress make_progress();
void end_progress();

}  // namespace driftrec::cli
