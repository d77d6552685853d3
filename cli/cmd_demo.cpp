// driftrec demo: the pipeline on the bundled MovieLens data.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
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
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  app.parse(args);
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
      "ingest (monthly slices) -> propagate (temporal label propagation) -> factorize (temporal ALS) -> train (GRU "
      "sequence model) -> evaluate (last 3 months, every baseline beside the models) -> predict and recommend for "
      "one user -> serve (the service started, queried once over HTTP and stopped). Each step is the subcommand "
      "of the same name; the store is <out>/movielens.h5.");
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
    io::IngestOptions o;
    o.event_files = {(fs::path(*data) / "ratings.csv").string()};
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
    run_command({"propagate", store, "--method", "rp3beta", "--threads", threads});
    run_command({"factorize", store, "--factors", "32", "--iterations", "5", "--eta", "1", "--gamma", "0.5",
                 "--keep-users", "last:3", "--threads", threads});
    run_command({"train", store, "--threads", threads});
    const std::string report = (fs::path(*out) / "evaluation.json").string();
    run_command({"evaluate", store, "--test-periods", "3", "--json", report, "--threads", threads});
    run_command({"predict", store, "--user", *user});
    run_command({"recommend", store, "--user", *user, "--model", "sequence", "--k", "10"});
    serve_once(store, *user);
    fmt::print("\ndemo finished in {:.1f} s; store {}, evaluation report {}\n",
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), store, report);
  });
}

}  // namespace driftrec::cli
