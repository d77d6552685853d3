// driftrec serve: the recommendation service over a store (serve/server.hpp). SIGHUP, or a
// new store file renamed into place (driftrec factorize, train, update), reloads the
// model without dropping requests; SIGINT and SIGTERM stop it.
#include <atomic>
#include <csignal>
#include <cstdio>

#include <fmt/core.h>

#include "cli/commands.hpp"
#include "serve/server.hpp"

namespace driftrec::cli {

namespace {

std::atomic<serve::Server*> signalled_server{nullptr};

// Installed before the store is loaded: a SIGHUP then is ignored (the load reads the
// newest store anyway), and SIGINT/SIGTERM end the process as they would by default.
extern "C" void driftrec_serve_on_signal(int sig) {
  serve::Server* s = signalled_server.load();
  if (!s) {
    if (sig != SIGHUP) {
      std::signal(sig, SIG_DFL);
      std::raise(sig);
    }
    return;
  }
  if (sig == SIGHUP)
    s->request_reload();
  else
    s->request_stop();
}

}  // namespace

void add_serve(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", "Serve recommendations, interests and similar items over HTTP (JSON)");
  cmd->footer(
      "GET /v1/users/{id}/recommendations?k=10&exclude_seen=true, /v1/users/{id}/interests?k=10, "
      "/v1/items/{id}/similar?k=10, /healthz, /metrics (Prometheus). Recommendations rank by --result: a "
      "factorize result's factors, or a train result's item model (hybrid or the learned item ranker, refitted on "
      "every period at each load; ranked_by in the answers). Item factors are held as int8 with one scale "
      "per row unless --exact; a 2-bit residual per factor re-ranks the int8 scan's 4k best. The model reloads on "
      "SIGHUP and when the store file is replaced.\n"
      "Example: driftrec serve ml.h5 --port 8080 &  curl 'http://127.0.0.1:8080/v1/users/414/recommendations?k=5'");
  struct Args {
    serve::ServerOptions options;
    std::string token_file;
    int watch_ms = 1000;
  };
  auto a = std::make_shared<Args>();
  auto& o = a->options;
  o.port = 8080;
  cmd->add_option("store", o.source.store, "Store with a factorize result (and optionally a train result)")->required();
  cmd->add_option("--port", o.port, "TCP port; 0 picks a free one (printed)")->default_val(8080);
  cmd->add_option("--host", o.host, "Address to bind; other than 127.0.0.1 exposes the service beyond this machine")
      ->default_val("127.0.0.1");
  cmd->add_option("--token-file", a->token_file,
                  "File whose first line is a bearer token every /v1 request must send (Authorization: Bearer ...)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--exact", o.source.exact, "Score with float32 item factors instead of int8 (about 3x the memory)");
  cmd->add_option("--result", o.source.result,
                  "Result whose recommendations to serve: a factorize result (x_u . y_i, int8 unless --exact), or a "
                  "train result (the item model train chose, hybrid or ranker, ranked as recommend --model ranks it)")
      ->default_val("als");
  cmd->add_option("--model", o.source.model, "Train result for /interests (absent: /interests answers 409)")
      ->default_val("sequence");
  cmd->add_option("--max-k", o.max_k, "Largest k a request may ask for")->default_val(1000);
  cmd->add_option("--workers", o.threads, "Worker threads (0: cpp-httplib's default)")->default_val(0);
  cmd->add_option("--watch-ms", a->watch_ms, "How often to look for a replaced store file, ms (0: only SIGHUP)")
      ->default_val(1000);
  cmd->callback([a] {
    if (a->watch_ms < 0) throw InputError(fmt::format("--watch-ms: expected 0 or more, got {}", a->watch_ms));
    if (a->options.threads < 0) throw InputError(fmt::format("--workers: expected 0 or more, got {}", a->options.threads));
    a->options.watch_interval = std::chrono::milliseconds(a->watch_ms);
    if (!a->token_file.empty()) a->options.token = serve::read_token_file(a->token_file);
    struct sigaction sa {};
    sa.sa_handler = driftrec_serve_on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
    serve::Server server(a->options);
    const int port = server.start();
    signalled_server.store(&server);
    const auto s = server.snapshot();
    fmt::print("driftrec serve: {} users, {} items, {} factors ({}), result {} period {}, ranked by {}{}{}\n",
               s->n_users(), s->n_items(), s->factors, s->exact ? "float32" : "int8", s->result, s->period,
               s->ranked_by, s->ranker_setting.empty() ? "" : " (" + s->ranker_setting + ")",
               s->interests ? ", interests from " + s->interests->model : ", no interests");
    fmt::print("listening on http://{}:{}\n", a->options.host, port);
    std::fflush(stdout);
    server.wait();
    signalled_server.store(nullptr);
    server.stop();
    fmt::print("driftrec serve: stopped\n");
  });
}

}  // namespace driftrec::cli
