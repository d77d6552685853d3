#include "cli/progress.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/core.h>

namespace driftrec::cli {

namespace {

constexpr double kRedrawSeconds = 0.2;    // bar: at most five redraws a second
constexpr double kMinLineSeconds = 1.0;   // lines: a 10% step prints if a second has passed
constexpr double kMaxLineSeconds = 5.0;   // lines: and a line at least every 5 s
constexpr std::size_t kBarWidth = 24;
constexpr std::size_t kStageWidth = 32;

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

ProgressStyle progress_style(bool quiet, bool terminal) {
  if (quiet) return ProgressStyle::off;
  return terminal ? ProgressStyle::bar : ProgressStyle::lines;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 3600) return fmt::format("{}:{:02d}", s / 60, s % 60);
  return fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60);
}

ProgressRenderer::ProgressRenderer(ProgressStyle style, std::FILE* out, Clock clock)
    : style_(style), out_(out), clock_(clock ? std::move(clock) : Clock(steady_seconds)) {}

void ProgressRenderer::update(const char* stage, std::uint64_t done, std::uint64_t total) {
  if (style_ == ProgressStyle::off) return;
  const double now = clock_();
  if (!started_) {
    started_ = true;
    first_ = run_start_ = now;
    if (style_ == ProgressStyle::lines) last_drawn_ = now;  // the first line after a step or 5 s, not at once
  }
  if (total != total_ || done < done_) {  // a new run: the ETA starts again
    run_start_ = now;
    last_decile_ = 0;
  }
  stage_ = stage;
  total_ = total;
  done_ = std::min(done, total);
  const double fraction = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const double elapsed = now - run_start_;
  // Remaining time at the pace so far; unknown until some work is done.
  const std::string eta = done_ > 0 && elapsed > 0 ? format_duration(elapsed * (1 - fraction) / fraction) : "?";
  if (style_ == ProgressStyle::bar) {
    // The bar redraws one line: a long stage is cut. Lines keep it whole (evaluate's stages
    // end with the fit's own count, "test sequence_lstm: features: temporal ALS 3/24").
    const std::string name = stage_.size() > kStageWidth ? stage_.substr(0, kStageWidth - 3) + "..." : stage_;
    if (done_ < total_ && now - last_drawn_ < kRedrawSeconds) return;
    last_drawn_ = now;
    const auto filled = static_cast<std::size_t>(fraction * kBarWidth);
    fmt::print(out_, "\r\033[K{} [{}{}] {:5.1f}%  {} elapsed, ETA {}", name, std::string(filled, '#'),
               std::string(kBarWidth - filled, '.'), 100 * fraction, format_duration(now - first_), eta);
    std::fflush(out_);
    drawn_ = true;
    return;
  }
  const int decile = total_ ? static_cast<int>(done_ * 10 / total_) : 10;  // exact: no 5.999... tenths
  const bool step = decile > last_decile_ && now - last_drawn_ >= kMinLineSeconds;
  if (!step && now - last_drawn_ < kMaxLineSeconds) return;
  last_drawn_ = now;
  last_decile_ = decile;
  fmt::print(out_, "driftrec: {}: {:.0f}% ({}/{}), {} elapsed, ETA {}\n", stage_, 100 * fraction, done_, total_,
             format_duration(now - first_), eta);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressRenderer::pause() {
  if (style_ != ProgressStyle::bar || !drawn_) return;
  fmt::print(out_, "\r\033[K");
  std::fflush(out_);
  drawn_ = false;
  last_drawn_ = -1e9;
}

void ProgressRenderer::finish() {
  if (style_ == ProgressStyle::bar && drawn_) {
    fmt::print(out_, "\r\033[K");
    std::fflush(out_);
  } else if (style_ == ProgressStyle::lines && started_) {
    fmt::print(out_, "driftrec: {}: finished in {}\n", stage_, format_duration(clock_() - first_));
    std::fflush(out_);
  }
  *this = ProgressRenderer(style_, out_, std::move(clock_));
}

}  // namespace driftrec::cli
