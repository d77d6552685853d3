// The progress renderer (cli/progress.hpp): plain periodic lines when stderr is not a
// terminal (every 10% at most once a second, at least every 5 s, a closing line), a bar
// with an ETA on a terminal, nothing with --quiet; and the commands' stderr through it.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/progress.hpp"
#include "tests/test_util.hpp"

using namespace driftrec;
using driftrec::cli::ProgressRenderer;
using driftrec::cli::ProgressStyle;
using driftrec::test::run_cli;
using driftrec::test::TempDir;

namespace {

// Runs `feed` against a renderer writing into a temporary file, on a clock the test moves.
struct Rendered {
  std::string text;
  std::vector<std::string> lines;
};

template <class Feed>
Rendered render(ProgressStyle style, Feed feed) {
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  double now = 0;
  {
    ProgressRenderer r(style, f, [&now] { return now; });
    feed(r, now);
  }
  std::fflush(f);
  std::rewind(f);
  Rendered out;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.text.append(buf, n);
  std::fclose(f);
  std::size_t start = 0;
  for (std::size_t at; (at = out.text.find('\n', start)) != std::string::npos; start = at + 1)
    out.lines.push_back(out.text.substr(start, at - start));
  return out;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("progress lines: one per 10% of a run taking 20 s, then the closing line", "[cli][progress]") {
  // 200 steps of 0.1 s: a 10% step every 2 s, never 5 s without one.
  auto r = render(ProgressStyle::lines, [](ProgressRenderer& p, double& now) {
    for (int done = 0; done <= 200; ++done, now += 0.1) p.update("propagate", done, 200);
    p.finish();
  });
  INFO(r.text);
  REQUIRE(r.lines.size() == 11);  // 10%, 20%, ... 100% and "finished"
  for (int k = 0; k < 10; ++k) {
    CHECK_THAT(r.lines[k], Catch::StartsWith(fmt::format("driftrec: propagate: {}% ({}/200)", 10 * (k + 1),
                                                         20 * (k + 1))));
    CHECK_THAT(r.lines[k], Catch::Contains("ETA"));
  }
  // At 50% after 10 s the pace says 10 s remain.
  CHECK_THAT(r.lines[4], Catch::Contains("10.0 s elapsed, ETA 10.0 s"));
  CHECK(r.lines[10] == "driftrec: propagate: finished in 20.1 s");
  CHECK(count(r.text, "\r") == 0);
}

TEST_CASE("progress lines: a slow run prints a line at least every 5 s between its 10% steps", "[cli][progress]") {
  // 1% every 2 s: a 10% step takes 20 s, so the 5 s rule prints in between.
  auto r = render(ProgressStyle::lines, [](ProgressRenderer& p, double& now) {
    for (int done = 0; done <= 20; ++done, now += 2) p.update("factorize", done, 100);
  });
  INFO(r.text);
  // Updates every 2 s: a line every 6 s (the first update 5 s after the last), and one at 10%.
  REQUIRE(r.lines.size() == 8);  // t = 6, 12, 18, 20 (10%), 26, 32, 38, 40 (20%)
  CHECK_THAT(r.lines[3], Catch::StartsWith("driftrec: factorize: 10% (10/100), 20.0 s elapsed, ETA 3:00"));
  for (const auto& line : r.lines) CHECK_THAT(line, Catch::StartsWith("driftrec: factorize: "));
}

TEST_CASE("progress lines: a fast run prints only the closing line", "[cli][progress]") {
  auto r = render(ProgressStyle::lines, [](ProgressRenderer& p, double& now) {
    for (int done = 0; done <= 10; ++done, now += 0.01) p.update("train", done, 10);
    p.finish();
  });
  REQUIRE(r.lines.size() == 1);
  CHECK_THAT(r.lines[0], Catch::StartsWith("driftrec: train: finished in 0.1 s"));
}

TEST_CASE("progress bar: redraws one line with the share, the time and an ETA, and clears it", "[cli][progress]") {
  auto r = render(ProgressStyle::bar, [](ProgressRenderer& p, double& now) {
    for (int done = 0; done <= 4; ++done, now += 1) p.update("evaluate", done, 4);
    p.finish();
  });
  INFO(r.text);
  CHECK(r.lines.empty());  // never a newline
  CHECK(count(r.text, "\r\033[K") == 6);  // five redraws and the clearing
  CHECK_THAT(r.text, Catch::Contains("evaluate [############............]  50.0%  2.0 s elapsed, ETA 2.0 s"));
  CHECK_THAT(r.text, Catch::Contains("100.0%"));
}

TEST_CASE("progress off (--quiet): nothing at all", "[cli][progress]") {
  auto r = render(ProgressStyle::off, [](ProgressRenderer& p, double& now) {
    for (int done = 0; done <= 100; ++done, now += 1) p.update("propagate", done, 100);
    p.finish();
  });
  CHECK(r.text.empty());
}

TEST_CASE("progress style: quiet wins, else a bar on a terminal and lines elsewhere", "[cli][progress]") {
  CHECK(cli::progress_style(true, true) == ProgressStyle::off);
  CHECK(cli::progress_style(true, false) == ProgressStyle::off);
  CHECK(cli::progress_style(false, true) == ProgressStyle::bar);
  CHECK(cli::progress_style(false, false) == ProgressStyle::lines);
  CHECK(cli::format_duration(4.25) == "4.2 s");
  CHECK(cli::format_duration(187) == "3:07");
  CHECK(cli::format_duration(3723) == "1:02:03");
}

TEST_CASE("propagate, factorize, train: stderr not a terminal gets progress lines, --quiet none", "[cli][progress]") {
  TempDir dir;
  const std::string store = test::generated_store(
      dir, "--users 120 --items 80 --labels 5 --periods 5 --events-per-period 4 --labelled-fraction 0.8 --seed 3");
  for (const std::string cmd : {"propagate", "factorize --factors 4 --iterations 2", "train --epochs 2 --hidden 4"}) {
    const std::string name = cmd.substr(0, cmd.find(' '));
    auto loud = run_cli(fmt::format("{} '{}'", cmd, store));
    INFO(cmd << ": " << loud.err);
    REQUIRE(loud.exit_code == 0);
    // The closing line always comes; the periodic ones need a run longer than a second.
    CHECK_THAT(loud.err, Catch::Contains("driftrec: ") && Catch::Contains(": finished in "));
    CHECK_THAT(loud.err, !Catch::Contains("\r"));
    auto quiet = run_cli(fmt::format("{} '{}' --quiet", cmd, store));
    REQUIRE(quiet.exit_code == 0);
    CHECK(quiet.err.empty());
    CHECK(quiet.out.find(name == "train" ? "/results/sequence" : "/results/") != std::string::npos);
  }
}

TEST_CASE("progress lines keep a long stage whole; the bar cuts it to its width", "[cli][progress]") {
  // evaluate's stages inside a fit end with the fit's own count, which a cut would lose.
  const std::string stage = "test sequence_lstm: features: temporal ALS 3/24";
  auto lines = render(ProgressStyle::lines, [&](ProgressRenderer& p, double& now) {
    p.update(stage.c_str(), 5, 63);
    now += 6;  // past the 5 s at which a line is due without a 10% step
    p.update(stage.c_str(), 5, 63);
  });
  INFO(lines.text);
  REQUIRE(lines.lines.size() == 1);
  CHECK_THAT(lines.lines[0], Catch::StartsWith("driftrec: " + stage + ": 8% (5/63)"));
  auto bar = render(ProgressStyle::bar, [&](ProgressRenderer& p, double&) { p.update(stage.c_str(), 5, 63); });
  CHECK_THAT(bar.text, Catch::Contains("test sequence_lstm: features:..."));
  CHECK(count(bar.text, "3/24") == 0);
}
