// `driftrec generate`: writes a synthetic interaction log with planted interest drift and
// its known truth (pipeline::generate: graph/generator.hpp, graph/synthetic_writer.hpp),
// ready for `ingest`.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "graph/types.hpp"
#include "pipeline/store_jobs.hpp"

namespace driftrec::cli {
namespace {

struct GenerateOptions {
  CommonOptions common;
  std::string out;
  std::int64_t users = 10000;
  std::int64_t items = 5000;
  std::int64_t labels = 20;
  std::int64_t periods = 12;
  std::int64_t period_seconds = graph::kDefaultPeriodSeconds;
  std::int64_t start = graph::kDefaultStart;
  double events_per_period = 5.0;
  double events = 0;  // a double so that 1e7 is accepted as well as 10000000
  bool events_given = false;  // --events replaces --events-per-period
  double activity_sigma = 1.0;
  double popularity_exponent = 1.0;
  std::int64_t labels_per_item = 3;
  double labelled_fraction = 1.0;
  double drift = 0.25;
  double jump = 0.15;
  std::int64_t user_labels = 3;
  std::uint64_t seed = 42;
  bool force = false;
  bool json = false;
};

// Counts travel as 64-bit so that 3000000000 is reported, not wrapped.
graph::Index count_option(std::int64_t v, const char* option) {
  if (v <= 0 || v > std::numeric_limits<graph::Index>::max())
    throw InputError(
        fmt::format("{}: expected a positive count below 2^31, got {}", option, v));
  return static_cast<graph::Index>(v);
}

graph::DriftConfig make_config(const GenerateOptions& o) {
  graph::DriftConfig c;
  c.users = count_option(o.users, "--users");
  c.items = count_option(o.items, "--items");
  c.labels = count_option(o.labels, "--labels");
  c.periods = count_option(o.periods, "--periods");
  c.labels_per_item = count_option(o.labels_per_item, "--labels-per-item");
  c.user_labels = count_option(o.user_labels, "--user-labels");
  c.period_seconds = o.period_seconds;
  c.start = o.start;
  c.events_per_period = o.events_per_period;
  if (o.events_given) {
    if (!(o.events >= 1) || !std::isfinite(o.events) || o.events != std::floor(o.events))
      throw InputError(fmt::format(
          "--events: expected a positive whole number of events (10000000 or 1e7), got {}", o.events));
    // Activity averages exactly 1 over users, so this mean gives N events up to noise.
    c.events_per_period = o.events /
                          (static_cast<double>(c.users) * static_cast<double>(c.periods));
  }
  c.activity_sigma = o.activity_sigma;
  c.popularity_exponent = o.popularity_exponent;
  c.labelled_fraction = o.labelled_fraction;
  c.drift = o.drift;
  c.jump = o.jump;
  c.seed = o.seed;
  c.validate();
  return c;
}

void run_generate(const GenerateOptions& o) {
  o.common.apply();
  pipeline::GenerateRequest q;
  q.config = make_config(o);
  q.out = o.out;
  q.threads = o.common.threads;
  q.force = o.force;
  q.progress = make_progress();
  const pipeline::GenerateSummary r = pipeline::generate(q);
  end_progress();

  const graph::SyntheticSummary& s = r.files;
  const std::string line = fmt::format(
      "generated {} events ({} active users, {} items, {} periods of {}) in {:.2f} s: "
      "{:.2f} M events/s, {:.0f} MB/s -> {}",
      s.events, s.users_with_events, s.items_with_events, r.config.periods, s.slice, s.seconds,
      s.events_per_second() / 1e6, s.megabytes_per_second(), s.dir.string());
  if (o.json) {
    fmt::print("{}\n", r.to_json().dump(2));
    fmt::print(stderr, "{}\n", line);
  } else {
    fmt::print("{}\n", line);
  }
}

}  // namespace

void add_generate(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "generate", "Write a synthetic event log with planted interest drift and its known truth");
  cmd->footer(
      "Each user has a few labels (genres) whose weights drift from period to period (a\n"
      "Dirichlet random walk, --drift) and now and then jump to a label the user never had\n"
      "(--jump). Per period a user makes Poisson(--events-per-period x activity) events, each\n"
      "an item of a label drawn from the user's current interests, items Zipf-popular.\n"
      "The same --seed gives the same files for any --threads.\n\n"
      "Files written under --out DIR:\n"
      "  events.csv  user,item,time,value      u<N>,i<N>,<Unix seconds>,1\n"
      "  labels.csv  item,label                one row per (item, label g<NN>); only the\n"
      "                                        --labelled-fraction of items is listed\n"
      "  truth.csv   user,period,begin,label,weight\n"
      "                                        the planted interests of every user in every\n"
      "                                        period (weights sum to 1 per user and period)\n"
      "  meta.json   the settings, the counts written and the --slice that recovers the periods\n"
      "If DIR holds any of them already, generate refuses (exit 2) unless --force.\n\n"
      "Example:\n"
      "  driftrec generate --out synth --users 100000 --events 10000000\n"
      "  driftrec ingest synth/events.csv --labels synth/labels.csv --slice 2592000s -o store.h5\n"
      "(with --period-seconds P, pass --slice Ps; meta.json holds the exact ingest command)");

  cmd->add_option("-o,--out", o->out, "Directory to write (created if missing)")->required();
  cmd->add_flag("--force", o->force,
                "Replace events.csv, labels.csv, truth.csv and meta.json if --out holds them already "
                "(without it generate refuses, exit 2, and writes nothing)");
  cmd->add_option("--users", o->users, "Number of users")->capture_default_str();
  cmd->add_option("--items", o->items, "Number of items")->capture_default_str();
  cmd->add_option("--labels", o->labels, "Number of labels (genres), at most --items")
      ->capture_default_str();
  cmd->add_option("--periods", o->periods, "Number of periods")->capture_default_str();
  cmd->add_option("--period-seconds", o->period_seconds,
                  "Length of a period in seconds (default 30 days); periods are aligned to "
                  "multiples of it, so `--slice <N>s` recovers them")
      ->capture_default_str();
  cmd->add_option("--start", o->start,
                  "Unix time the log starts at (rounded up to a period boundary)")
      ->capture_default_str();
  auto* per_period =
      cmd->add_option("--events-per-period", o->events_per_period,
                      "Mean events per user per period (scaled by each user's activity)")
          ->capture_default_str();
  auto* events = cmd->add_option("--events", o->events,
                  "Target total number of events instead: sets --events-per-period to "
                  "N / (users x periods)")
      ->excludes(per_period);
  cmd->add_option("--activity-sigma", o->activity_sigma,
                  "Lognormal sigma of per-user activity (0: every user equally active)")
      ->capture_default_str();
  cmd->add_option("--popularity-exponent", o->popularity_exponent,
                  "Zipf exponent of item popularity (0: uniform)")
      ->capture_default_str();
  cmd->add_option("--labels-per-item", o->labels_per_item,
                  "Each item carries 1..this many labels")
      ->capture_default_str();
  cmd->add_option("--labelled-fraction", o->labelled_fraction,
                  "Fraction of items whose labels are written to labels.csv (the rest are "
                  "cold / unlabelled)")
      ->capture_default_str();
  cmd->add_option("--drift", o->drift,
                  "Step of the Dirichlet random walk on a user's label weights, in [0, 1]")
      ->capture_default_str();
  cmd->add_option("--jump", o->jump,
                  "Probability per user and period that interest jumps to a new label")
      ->capture_default_str();
  cmd->add_option("--user-labels", o->user_labels,
                  "Labels a user starts with (the support never exceeds twice this)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  add_threads_option(*cmd, o->common);
  cmd->add_flag("--json", o->json, "Print meta.json plus timings as JSON on stdout");
  cmd->callback([o, events] {
    o->events_given = events->count() > 0;
    run_generate(*o);
  });
}

}  // namespace driftrec::cli
