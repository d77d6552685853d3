// Progress of the long commands on stderr, drawn by one renderer for all of them: a bar
// with the share done, the time spent and an ETA that redraws one line when stderr is a
// terminal; plain lines when it is not (a log file, CI), one every 10% (at most one a
// second) or every 5 s, and a closing line with the total time; nothing with --quiet.
// The pipeline jobs report (stage, done, total) through pipeline::Progress; a job whose
// stage name changes while `total` stays (evaluate's "validate X", "test Y") is one run
// for the ETA, which restarts only when total changes or done goes back.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace driftrec::cli {

enum class ProgressStyle { off, bar, lines };

// off when quiet, bar on a terminal, lines otherwise.
ProgressStyle progress_style(bool quiet, bool terminal);

class ProgressRenderer {
 public:
  using Clock = std::function<double()>;  // seconds since any fixed point
  ProgressRenderer(ProgressStyle style, std::FILE* out, Clock clock = {});
  void update(const char* stage, std::uint64_t done, std::uint64_t total);
  // Clears the bar so that another line can be printed; it is drawn again at the next update.
  void pause();
  // Clears the bar, or prints the closing line; later updates start a new run.
  void finish();

 private:
  ProgressStyle style_;
  std::FILE* out_;
  Clock clock_;
  bool started_ = false, drawn_ = false;
  std::string stage_;
  std::uint64_t total_ = 0, done_ = 0;
  double first_ = 0;          // first update of all (for the closing line)
  double run_start_ = 0;      // first update of this run (for the ETA)
  double last_drawn_ = -1e9;  // the last line or redraw
  int last_decile_ = 0;       // lines: the tenths of the run already printed
};

// "4.2 s", "3:07", "1:02:03": a duration for people.
std::string format_duration(double seconds);

}  // namespace driftrec::cli
