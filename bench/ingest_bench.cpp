// ingest_bench: end-to-end ingest throughput against `wc -l` on the same file.
//
// Generates a synthetic log of at least --gigabytes (driftrec generate's writer), then, with
// the file in the page cache, times in one run:
//   anchor      `wc -l FILE`                              (the floor: just finding newlines)
//   parse_only  io::read_events in this process            (split, validate, map ids)
//   ingest      `driftrec ingest FILE --labels ... -o ...`  (read, sort, slice, compress, write)
// and reports MB/s for each, their ratios to wc -l, and the ingest's peak resident memory
// per event (wait4's ru_maxrss of the child). Prints one JSON object.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "io/event_reader.hpp"
#include "graph/synthetic_writer.hpp"

extern char** environ;

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct ChildRun {
  double seconds;
  long max_rss_kb;
  int status;
};

// Runs argv with stdout to `out_path`, returns wall time and the child's peak RSS.
ChildRun run_child(std::vector<std::string> args, const std::string& out_path) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid;
  auto t0 = Clock::now();
  if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + args[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  posix_spawn_file_actions_destroy(&fa);
  return {s, ru.ru_maxrss, status};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ingest throughput against wc -l on the same generated file; prints JSON"};
  double gigabytes = 1.0;
  std::string dir = (fs::temp_directory_path() / "driftrec-ingest-bench").string();
  bool keep = false;
  int repeats = 2;
  app.add_option("--gigabytes", gigabytes, "Size of the generated events.csv")->default_val(1.0);
  app.add_option("--dir", dir, "Work folder (generated data is reused if its size matches)")->default_val(dir);
  app.add_option("--repeats", repeats, "Timed runs of each step (the best is reported)")->default_val(2);
  app.add_flag("--keep", keep, "Keep the generated files and store");
  CLI11_PARSE(app, argc, argv);

  // About 27 bytes per line: "u12345,i123456,1600000000,1\n". 100k users keep the
  // planted-truth file (every user, every period) small next to the events.
  driftrec::graph::DriftConfig cfg;
  cfg.users = 100000;
  cfg.items = 200000;
  cfg.labels = 40;
  cfg.periods = 24;
  cfg.events_per_period = gigabytes * 1e9 / 26.0 / cfg.users / cfg.periods;
  cfg.seed = 7;
  fs::create_directories(dir);
  const fs::path events = fs::path(dir) / driftrec::graph::kSyntheticEventsFile;
  const fs::path labels = fs::path(dir) / driftrec::graph::kSyntheticLabelsFile;
  std::error_code ec;
  if (!fs::exists(events) || fs::file_size(events, ec) < gigabytes * 1e9) {
    std::cerr << "ingest_bench: generating " << gigabytes << " GB in " << dir << "\n";
    auto s = driftrec::graph::write_synthetic(cfg, dir);
    if (static_cast<double>(fs::file_size(events)) < gigabytes * 1e9) {
      std::cerr << "ingest_bench: generated file smaller than asked; raise --gigabytes slightly\n";
    }
    std::cerr << "ingest_bench: " << s.events << " events in " << s.seconds << " s\n";
  }
  const double bytes = static_cast<double>(fs::file_size(events));
  const std::string store = (fs::path(dir) / "bench.h5").string();
  const std::string out = (fs::path(dir) / "ingest.json").string();

  double wc_best = 1e300, parse_best = 1e300, ingest_best = 1e300;
  long rss_kb = 0;
  std::int64_t n_events = 0;
  nlohmann::json ingest_report;
  run_child({"/usr/bin/wc", "-l", events.string()}, "/dev/null");  // warm the page cache
  for (int r = 0; r < repeats; ++r) {
    ChildRun wc = run_child({"/usr/bin/wc", "-l", events.string()}, "/dev/null");
    wc_best = std::min(wc_best, wc.seconds);

    auto t0 = Clock::now();
    {
      driftrec::io::EventLog log;
      driftrec::io::read_events(events.string(), {}, log);
      n_events = static_cast<std::int64_t>(log.events.size());
    }
    parse_best = std::min(parse_best, std::chrono::duration<double>(Clock::now() - t0).count());

    ChildRun ing = run_child({DRIFTREC_CLI_PATH, "ingest", events.string(), "--labels", labels.string(),
                              "--slice", cfg.slice_spec(), "-o", store, "--force", "--json"},
                             out);
    if (!WIFEXITED(ing.status) || WEXITSTATUS(ing.status) != 0) {
      std::cerr << "ingest_bench: driftrec ingest failed\n";
      return 1;
    }
    if (ing.seconds < ingest_best) {
      ingest_best = ing.seconds;
      std::ifstream f(out);
      ingest_report = nlohmann::json::parse(f);
    }
    rss_kb = std::max(rss_kb, ing.max_rss_kb);
  }
  auto mbps = [&](double s) { return bytes / s / 1e6; };
  nlohmann::json j = {
      {"benchmark", "ingest"},
      {"file", events.string()},
      {"file_bytes", bytes},
      {"events", n_events},
      {"threads_ingest", "OpenMP default (all cores)"},
      {"anchor_wc_l", {{"seconds", wc_best}, {"mb_per_s", mbps(wc_best)}}},
      {"parse_only", {{"seconds", parse_best}, {"mb_per_s", mbps(parse_best)}, {"ratio_to_wc_l", wc_best / parse_best}}},
      {"ingest_end_to_end",
       {{"seconds", ingest_best},
        {"mb_per_s", mbps(ingest_best)},
        {"ratio_to_wc_l", wc_best / ingest_best},
        {"stages_seconds", ingest_report["seconds"]},
        {"peak_rss_bytes", rss_kb * 1024.0},
        {"peak_rss_bytes_per_event", rss_kb * 1024.0 / static_cast<double>(n_events)},
        {"store_bytes", static_cast<double>(fs::file_size(store))}}},
      {"goal_ratio_to_wc_l", 0.25},
      {"repeats", repeats},
      {"note", "best of --repeats runs; file in page cache; ratio = wc_l seconds / step seconds"}};
  std::cout << j.dump(2) << std::endl;
  if (!keep) {
    fs::remove(store, ec);
    fs::remove(out, ec);
  }
  return 0;
}
