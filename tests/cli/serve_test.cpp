// driftrec serve as a process: prints its port, answers HTTP, reloads on SIGHUP, stops
// with exit 0 on SIGTERM; a store it cannot serve exits 2 before binding.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "pipeline/factorize.hpp"
#include "tests/test_util.hpp"

#include <httplib.h>  // last: <resolv.h> defines _res, a parameter name in Eigen

using namespace driftrec;
using json = nlohmann::json;

namespace {

constexpr const char* kLog = "--users 80 --items 60 --labels 4 --periods 4 --events-per-period 5 --seed 8";

// driftrec with `args`, stdout and stderr into files; its pid.
pid_t spawn_cli(const std::vector<std::string>& args, const std::string& out, const std::string& err) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(127);
    std::vector<char*> argv{const_cast<char*>(DRIFTREC_CLI_PATH)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(DRIFTREC_CLI_PATH, argv.data());
    _exit(127);
  }
  return pid;
}

int exit_code_of(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 600; ++i) {  // 30 s
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

}  // namespace

TEST_CASE("driftrec serve prints its port, answers, reloads on SIGHUP and exits 0 on SIGTERM", "[cli][serve]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  pipeline::FactorizeRequest f;
  f.store = store;
  f.options.als.factors = 4;
  f.options.als.iterations = 1;
  pipeline::factorize_store(f);
  test::write_file(dir / "token", "tok\n");
  const std::string out = (dir / "out").string(), err = (dir / "err").string();
  const pid_t pid = spawn_cli({"serve", store, "--port", "0", "--exact", "--watch-ms", "0", "--token-file",
                               (dir / "token").string()},
                              out, err);
  int port = 0;
  for (int i = 0; i < 600 && port == 0; ++i) {
    std::smatch m;
    const std::string text = test::read_file(out);
    const std::regex listening(R"(listening on http://127\.0\.0\.1:(\d+))");
    if (std::regex_search(text, m, listening)) port = std::stoi(m[1]);
    else std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  INFO(test::read_file(err));
  REQUIRE(port > 0);
  httplib::Client c("127.0.0.1", port);
  const httplib::Headers auth{{"Authorization", "Bearer tok"}};
  auto h = c.Get("/healthz");
  REQUIRE(h);
  CHECK(json::parse(h->body).at("exact") == true);
  CHECK(json::parse(h->body).at("generation") == 1);
  auto noauth = c.Get("/v1/items/x/similar");
  REQUIRE(noauth);
  CHECK(noauth->status == 401);

  kill(pid, SIGHUP);
  int generation = 1;
  for (int i = 0; i < 200 && generation == 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = c.Get("/healthz");
    REQUIRE(r);
    generation = json::parse(r->body).at("generation");
  }
  CHECK(generation == 2);
  kill(pid, SIGTERM);
  CHECK(exit_code_of(pid) == 0);
  CHECK(test::read_file(out).find("driftrec serve: stopped") != std::string::npos);
}

TEST_CASE("driftrec serve exits 2 on a store without factors and on bad options", "[cli][serve]") {
  test::TempDir dir;
  const std::string store = test::generated_store(dir, kLog);
  auto r = test::run_cli(fmt::format("serve '{}' --port 0", store));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("als") != std::string::npos);
  r = test::run_cli(fmt::format("serve '{}' --port 0 --watch-ms -5", store));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--watch-ms") != std::string::npos);
  r = test::run_cli(fmt::format("serve '{}' --token-file '{}'", store, (dir / "missing").string()));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--token-file") != std::string::npos);
  r = test::run_cli(fmt::format("serve '{}' --port 70000", store));
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("port") != std::string::npos);
  // A result that ranks no recommendations the service can serve (label propagation).
  REQUIRE(test::run_cli(fmt::format("propagate '{}' --name lp", store)).exit_code == 0);
  r = test::run_cli(fmt::format("serve '{}' --port 0 --result lp", store));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("lp") && Catch::Contains("factorize") && Catch::Contains("train"));
}
