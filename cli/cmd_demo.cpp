// driftrec demo: the pipeline on the bundled MovieLens data.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "graph/slicing.hpp"
#include "pipeline/store_jobs.hpp"
#include "serve/server.hpp"

#include <httplib.h>  // last: <resolv.h> defines _res, a parameter name in Eigen

namespace driftrec::cli {

namespace {

// Runs one driftrec subcommand in this process, exactly as the command line would.
void run_command(std::vector<std::string> args) {
  fmt::print("\n== driftrec");
  for (const auto& x : args) fmt::print(" {}", x);
  fmt::print("\n");
  std::fflush(stdout);
  CLI::App app{"driftrec", "driftrec"};
  app.require_subcommand(1);
  add_propagate(app);
  add_factorize(app);
  add_train(app);
  add_evaluate(app);
  add_recommend(app);
  add_export(app);
  add_update(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  app.parse(args);
}

// Splits ratings.csv (header, then userId,movieId,rating,timestamp) into the events
// before the month of its last event and those of that month, so that the demo can
// append the last month with `update`. Returns {before, last month}.
std::pair<std::string, std::string> hold_back_last_month(const std::string& ratings, const std::string& out) {
  std::ifstream in(ratings);
  if (!in) throw InputError(fmt::format("{}: cannot open", ratings));
  std::string header, line;
  std::getline(in, header);
  std::vector<std::pair<graph::Time, std::string>> rows;
  graph::Time last = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line == "\r") continue;
    const graph::Time t = std::stoll(line.substr(line.rfind(',') + 1));
    last = std::max(last, t);
    rows.emplace_back(t, std::move(line));
  }
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  graph::civil_from_days(last / 86400, y, m, d);
  const graph::Time month = graph::days_from_civil(y, m, 1) * 86400;
  const std::string before = (std::filesystem::path(out) / "ratings-before-last-month.csv").string();
  const std::string held = (std::filesystem::path(out) / "ratings-last-month.csv").string();
  std::ofstream a(before), b(held);
  a << header << '\n';
  b << header << '\n';
  for (const auto& [t, row] : rows) (t < month ? a : b) << row << '\n';
  if (!a.flush() || !b.flush()) throw std::runtime_error(fmt::format("cannot write {} and {}", before, held));
  return {before, held};
}

// `driftrec serve` in-process on a free port, queried once over HTTP and stopped.
void serve_once(const std::string& store, const std::string& user) {
  serve::ServerOptions o;
  o.port = 0;
  o.source.store = store;
  o.watch_interval = std::chrono::milliseconds(0);
  serve::Server server(o);
  const int port = server.start();
  const std::string path = "/v1/users/" + user + "/recommendations?k=5";
  fmt::print("\n== driftrec serve {} --port {} (int8 item factors), then GET {}\n", store, port, path);
  httplib::Client client("127.0.0.1", port);
  const auto reply = client.Get(path.c_str());
  if (!reply) throw InternalError("demo: the service did not answer: " + httplib::to_string(reply.error()));
  fmt::print("HTTP {}\n{}\n", reply->status, nlohmann::json::parse(reply->body).dump(2));
  server.stop();
}

}  // namespace

void add_demo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the whole pipeline on the bundled MovieLens data (ml-latest-small)");
  cmd->footer(
      "ingest (monthly slices, the last month held back) -> propagate (temporal label propagation) -> factorize (temporal ALS) -> update (appends the last month) -> train (GRU "
      "sequence model) -> evaluate (last 3 months, every baseline beside the models) -> predict and recommend for "
      "one user -> export every user's top 20 (<out>/recommendations.csv) -> serve (started, queried once over HTTP "
      "and stopped) -> report (report.html). Each step is the subcommand of the same name; the store is "
      "<out>/movielens.h5.");
  auto data = std::make_shared<std::string>(DRIFTREC_DATA_DIR "/movielens-latest-small");
  auto out = std::make_shared<std::string>("driftrec-demo");
  auto user = std::make_shared<std::string>("414");
  auto common = std::make_shared<CommonOptions>();
  cmd->add_option("--data", *data, "Folder with ratings.csv and movies.csv")->default_val(*data);
  cmd->add_option("--out", *out, "Folder for the demo's store (created; its store is replaced)")->default_val(*out);
  cmd->add_option("--user", *user, "User to predict and recommend for at the end")->default_val(*user);
  add_threads_option(*cmd, *common);
  cmd->callback([=] {
    common->apply();
    namespace fs = std::filesystem;
    const auto t0 = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::create_directories(*out, ec);
    if (ec || !fs::is_directory(*out))
      throw InputError(fmt::format("--out {}: cannot use it as a folder{}{}", *out, ec ? ": " : "", ec.message()));
    // The last month is held back and appended with `update` once the models exist.
    const auto [before, last_month] = hold_back_last_month((fs::path(*data) / "ratings.csv").string(), *out);
    io::IngestOptions o;
    o.event_files = {before};
    o.labels_file = (fs::path(*data) / "movies.csv").string();
    o.slicing = graph::Slicing::parse("month");
    o.output = (fs::path(*out) / "movielens.h5").string();
    o.overwrite = true;
    o.threads = common->threads;
    o.progress = make_progress();
    fmt::print("== driftrec ingest {} --labels {} --slice month -o {}\n", o.event_files[0], o.labels_file, o.output);
    io::IngestReport r = io::ingest(o);
    end_progress();
    print_ingest_report(r);
    const io::StoreInfo info = pipeline::describe_store(o.output);
    fmt::print("{}", info.to_text());

    const std::string store = o.output, threads = std::to_string(common->threads);
    run_command({"propagate", store, "--keep", "last:3", "--threads", threads});
    run_command({"factorize", store, "--factors", "32", "--iterations", "5", "--eta", "1", "--gamma", "0.5",
                 "--keep-users", "last:3", "--threads", threads});
    run_command({"update", store, last_month, "--labels", o.labels_file, "--threads", threads});
    run_command({"propagate", store, "--method", "rp3beta", "--threads", threads});
    run_command({"train", store, "--threads", threads});
    const std::string report = (fs::path(*out) / "evaluation.json").string();
    run_command({"evaluate", store, "--test-periods", "3", "--json", report, "--threads", threads});
    run_command({"predict", store, "--user", *user});
    run_command({"recommend", store, "--user", *user, "--model", "sequence", "--k", "10"});
    const std::string recs = (fs::path(*out) / "recommendations.csv").string();
    run_command({"export", store, "--model", "als", "--k", "20", "--out", recs, "--force", "--threads", threads});
    serve_once(store, *user);
    // The HTML report needs the Python module; without it the demo says so and goes on.
    const std::string html = (fs::path(*out) / "report.html").string();
    fmt::print("\n== driftrec report {} --out {} --evaluation {}\n", store, html, report);
    const bool reported = run_report({store, html, report, {}}) == 0;  // users: the most active, the most changeable
    if (!reported) fmt::print(stderr, "driftrec: warning: the demo wrote no HTML report (the line above says why)\n");
    fmt::print("\ndemo finished in {:.1f} s; store {}, evaluation report {}\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), store, report);
    if (reported) fmt::print("report: {}\n", html);
  });
}

}  // namespace driftrec::cli
