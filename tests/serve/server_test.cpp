// serve/server: the service started in-process on a free port answers each endpoint as
// the pipeline computes it (exact mode against pipeline::recommend, similar_items and
// predict), refuses bad requests with JSON errors (400, 401, 404, 409, 413), exposes
// Prometheus metrics, and reloads a replaced store without failing a request; a train
// result's recommendations are ranked by the item model train chose, as recommend --model.
#include "serve/server.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <regex>
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "pipeline/factorize.hpp"
#include "pipeline/recommend.hpp"
#include "pipeline/train.hpp"
#include "pipeline/update.hpp"
#include "tests/pipeline/compare.hpp"
#include "tests/test_util.hpp"

// Last: <resolv.h>, which httplib.h includes, defines _res, a parameter name in Eigen.
#include <httplib.h>

using namespace driftrec;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kLog = "--users 150 --items 120 --labels 6 --periods 6 --events-per-period 6 --seed 21";

// A generated store with a factorize result "als" and a sequence model "sequence", made
// once for the file's tests; copies are taken where a test changes it.
struct Fixture {
  test::TempDir dir;
  std::string store;
  Fixture() {
    store = test::generated_store(dir, kLog);
    factorize(store, 8, 1);
    pipeline::TrainRequest t;
    t.store = store;
    t.options.model.epochs = 2;
    t.options.model.hidden = 8;
    t.threads = 2;
    t.interests = "sequence";  // update steps only the cell's own interests (not the mixture's)
    pipeline::train_store(t);
  }
  static void factorize(const std::string& store, int factors, std::uint64_t seed) {
    pipeline::FactorizeRequest f;
    f.store = store;
    f.options.als.factors = factors;
    f.options.als.iterations = 2;
    f.options.als.seed = seed;
    f.threads = 2;
    pipeline::factorize_store(f);
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

serve::ServerOptions options_for(const std::string& store, bool exact) {
  serve::ServerOptions o;
  o.source.store = store;
  o.source.exact = exact;
  o.watch_interval = std::chrono::milliseconds(0);
  o.threads = 4;
  return o;
}

struct Reply {
  int status = 0;
  json body;
  std::string text;
  std::string content_type;
};

Reply get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  auto r = c.Get(path.c_str(), headers);
  INFO(path << ": " << httplib::to_string(r.error()));
  REQUIRE(r);
  Reply out{r->status, json(), r->body, r->get_header_value("Content-Type")};
  if (out.content_type.starts_with("application/json")) out.body = json::parse(r->body);
  return out;
}

void check_error(const Reply& r, int status) {
  CHECK(r.status == status);
  REQUIRE(r.content_type.starts_with("application/json"));
  CHECK(r.body.at("status") == status);
  CHECK(!r.body.at("error").get<std::string>().empty());
}

void check_same_items(const json& served, const std::vector<pipeline::RankedItem>& want, const char* score) {
  REQUIRE(served.size() == want.size());
  for (std::size_t r = 0; r < want.size(); ++r) {
    CAPTURE(r);
    CHECK(served[r].at("item") == want[r].item);
    CHECK(served[r].at(score).get<float>() == Approx(want[r].score).epsilon(1e-5).margin(1e-6));
    CHECK(served[r].at("labels") == want[r].labels);
  }
}

}  // namespace

TEST_CASE("/interests ranks with the result's new-label boost, as predict does", "[serve][server]") {
  const Fixture& f = fixture();
  test::TempDir dir;
  const std::string store = (dir / "boost.h5").string();
  std::filesystem::copy_file(f.store, store);
  {  // A large boost on never-had labels, so that the order is not p's alone.
    io::SequenceResult r = io::read_sequence_result(io::Store::open(store), "sequence");
    r.new_label_boost = 50;
    io::StoreWriter w(store, io::StoreWriter::Amend{});
    io::write_sequence_result(w, "sequence", r);
    w.commit();
  }
  serve::Server server(options_for(store, true));
  const int port = server.start();
  const std::vector<std::string> users = io::Store::open(store).users();
  int promoted = 0;  // a new label above a more probable one
  for (std::size_t u = 0; u < users.size(); u += 13) {
    CAPTURE(users[u]);
    pipeline::PredictRequest p;
    p.store = store;
    p.user = users[u];
    p.top = 4;
    const pipeline::Prediction want = pipeline::predict(p);
    const Reply r = get(port, fmt::format("/v1/users/{}/interests?k=4", users[u]));
    REQUIRE(r.status == 200);
    REQUIRE(r.body.at("labels").size() == want.labels.size());
    for (std::size_t l = 0; l < want.labels.size(); ++l) {
      CHECK(r.body["labels"][l].at("label") == want.labels[l].label);
      CHECK(r.body["labels"][l].at("new") == want.labels[l].is_new);
      if (l > 0 && want.labels[l - 1].probability < want.labels[l].probability) ++promoted;
    }
  }
  CHECK(promoted > 0);
}

TEST_CASE("with --exact the service answers what recommend, similar_items and predict compute", "[serve][server]") {
  const Fixture& f = fixture();
  serve::Server server(options_for(f.store, true));
  const int port = server.start();
  const io::Store st = io::Store::open(f.store);
  for (std::size_t u : {0, 17, 101}) {
    const std::string user = st.users()[u];
    CAPTURE(user);
    pipeline::RecommendRequest q;
    q.store = f.store;
    q.user = user;
    q.k = 7;
    Reply r = get(port, fmt::format("/v1/users/{}/recommendations?k=7", user));
    REQUIRE(r.status == 200);
    CHECK(r.body.at("user") == user);
    CHECK(r.body.at("exact") == true);
    check_same_items(r.body.at("items"), pipeline::recommend(q).items, "score");
    q.include_seen = true;
    r = get(port, fmt::format("/v1/users/{}/recommendations?k=7&exclude_seen=false", user));
    REQUIRE(r.status == 200);
    check_same_items(r.body.at("items"), pipeline::recommend(q).items, "score");

    pipeline::PredictRequest p;
    p.store = f.store;
    p.user = user;
    p.top = 4;
    r = get(port, fmt::format("/v1/users/{}/interests?k=4", user));
    REQUIRE(r.status == 200);
    const pipeline::Prediction want = pipeline::predict(p);
    REQUIRE(r.body.at("labels").size() == want.labels.size());
    for (std::size_t l = 0; l < want.labels.size(); ++l) {
      CHECK(r.body["labels"][l].at("label") == want.labels[l].label);
      CHECK(r.body["labels"][l].at("probability").get<float>() == Approx(want.labels[l].probability));
      CHECK(r.body["labels"][l].at("new") == want.labels[l].is_new);
    }
  }
  for (std::size_t i : {0, 55}) {
    const std::string item = st.items()[i];
    pipeline::SimilarItemsRequest q;
    q.store = f.store;
    q.item = item;
    q.k = 5;
    const Reply r = get(port, fmt::format("/v1/items/{}/similar?k=5", item));
    REQUIRE(r.status == 200);
    check_same_items(r.body.at("items"), pipeline::similar_items(q).items, "cosine");
  }
  const Reply h = get(port, "/healthz");
  CHECK(h.status == 200);
  CHECK(h.body.at("status") == "ok");
  CHECK(h.body.at("users") == st.n_users());
  CHECK(h.body.at("items") == st.n_items());
  CHECK(h.body.at("interests") == true);
  CHECK(h.body.at("generation") == 1);
}

TEST_CASE("int8 scoring ranks close to float32 and leaves out the items a user had", "[serve][server]") {
  const Fixture& f = fixture();
  serve::Server exact(options_for(f.store, true)), int8(options_for(f.store, false));
  const auto e = exact.snapshot();
  const auto q = int8.snapshot();
  CHECK(!q->exact);
  // codes, 2-bit residuals (four per byte) and a float scale
  CHECK(q->item_bytes() == static_cast<std::size_t>(q->n_items() * (q->factors + (q->factors + 3) / 4 + 4)));
  CHECK(e->item_bytes() == static_cast<std::size_t>(e->n_items() * e->factors * 4));
  double hits = 0, total = 0;
  for (std::int32_t u = 0; u < q->n_users(); ++u) {
    const auto a = e->recommend(u, 10, true), b = q->recommend(u, 10, true);
    REQUIRE(a.size() == b.size());
    for (const serve::Scored& x : b) {
      CHECK(!std::binary_search(q->seen.row(u).begin(), q->seen.row(u).end(), x.index));
      hits += std::any_of(a.begin(), a.end(), [&](const serve::Scored& y) { return y.index == x.index; });
    }
    total += static_cast<double>(a.size());
  }
  INFO("recall@10 of int8 against float32: " << hits / total);
  CHECK(hits / total >= 0.95);
}

TEST_CASE("bad requests get JSON errors: 400, 401, 404, 409, 413", "[serve][server]") {
  const Fixture& f = fixture();
  test::TempDir dir;
  test::write_file(dir / "token", "  s3cret-token \n");
  serve::ServerOptions o = options_for(f.store, false);
  o.token = serve::read_token_file((dir / "token").string());
  CHECK(o.token == "s3cret-token");
  o.max_k = 50;
  o.max_id_length = 16;
  o.max_request_bytes = 1024;
  o.source.model = "no-such-model";
  serve::Server server(o);
  const int port = server.start();
  const std::string user = io::Store::open(f.store).users()[0], item = io::Store::open(f.store).items()[0];
  const httplib::Headers auth{{"Authorization", "Bearer s3cret-token"}};

  // 401 before anything else, and /healthz stays open.
  check_error(get(port, fmt::format("/v1/users/{}/recommendations", user)), 401);
  check_error(get(port, fmt::format("/v1/users/{}/recommendations", user), {{"Authorization", "Bearer wrong-token!"}}), 401);
  check_error(get(port, fmt::format("/v1/users/{}/recommendations", user), {{"Authorization", "s3cret-token"}}), 401);
  CHECK(get(port, "/healthz").status == 200);
  CHECK(get(port, fmt::format("/v1/users/{}/recommendations", user), auth).status == 200);

  for (const char* query : {"?k=0", "?k=51", "?k=abc", "?k=-3", "?k=", "?k=99999999999", "?exclude_seen=maybe",
                            "?kk=3", "?k=3&user=1"}) {
    CAPTURE(query);
    check_error(get(port, fmt::format("/v1/users/{}/recommendations{}", user, query), auth), 400);
  }
  check_error(get(port, fmt::format("/v1/items/{}/similar?k=51", item), auth), 400);
  check_error(get(port, fmt::format("/v1/users/{}/recommendations", std::string(17, '7')), auth), 400);
  CHECK(get(port, fmt::format("/v1/users/{}/recommendations?k=50", user), auth).body.at("items").size() == 50);

  check_error(get(port, "/v1/users/no-such-user/recommendations", auth), 404);
  check_error(get(port, "/v1/users/no-such-user/interests", auth), 404);
  check_error(get(port, "/v1/items/no-such-item/similar", auth), 404);
  check_error(get(port, "/v2/anything", auth), 404);
  check_error(get(port, fmt::format("/v1/users/{}/interests", user), auth), 409);

  httplib::Client c("127.0.0.1", port);
  auto big = c.Post(fmt::format("/v1/users/{}/recommendations", user).c_str(), auth, std::string(4096, 'x'),
                    "text/plain");
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK(json::parse(big->body).at("status") == 413);
}

TEST_CASE("metrics are Prometheus text with request counters and latency histograms per endpoint",
          "[serve][server]") {
  const Fixture& f = fixture();
  serve::Server server(options_for(f.store, false));
  const int port = server.start();
  const std::string user = io::Store::open(f.store).users()[3];
  for (int i = 0; i < 5; ++i) CHECK(get(port, fmt::format("/v1/users/{}/recommendations?k=3", user)).status == 200);
  CHECK(get(port, "/v1/users/nobody/recommendations").status == 404);
  CHECK(get(port, fmt::format("/v1/users/{}/interests", user)).status == 200);
  // A request is counted once its reply has gone out, so a reply can reach this client
  // before its counter and its histogram land: read /metrics until every count below shows
  // (at most ~5 s), then check them all.
  const std::vector<std::string> counts = {
      "driftrec_http_requests_total{endpoint=\"recommendations\",code=\"200\"} 5\n",
      "driftrec_http_requests_total{endpoint=\"recommendations\",code=\"404\"} 1\n",
      "driftrec_http_requests_total{endpoint=\"interests\",code=\"200\"} 1\n",
      "driftrec_http_request_duration_seconds_count{endpoint=\"recommendations\"} 6\n",
      "driftrec_http_request_duration_seconds_count{endpoint=\"interests\"} 1\n",
      "driftrec_http_request_duration_seconds_bucket{endpoint=\"recommendations\",le=\"+Inf\"} 6\n"};
  const auto all_counted = [&](const std::string& text) {
    return std::all_of(counts.begin(), counts.end(), [&](const std::string& c) { return text.find(c) != std::string::npos; });
  };
  Reply m = get(port, "/metrics");
  for (int i = 0; i < 250 && !all_counted(m.text); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m = get(port, "/metrics");
  }
  REQUIRE(m.status == 200);
  CHECK(m.content_type.starts_with("text/plain; version=0.0.4"));
  const std::string& t = m.text;
  const std::regex sample(R"(^driftrec_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.e]+$)");
  std::istringstream lines(t);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.starts_with("# HELP driftrec_") || line.starts_with("# TYPE driftrec_")) continue;
    CAPTURE(line);
    CHECK(std::regex_match(line, sample));
    ++samples;
  }
  CHECK(samples > 40);
  for (const std::string& c : counts) CHECK(t.find(c) != std::string::npos);
  CHECK(t.find("# TYPE driftrec_http_request_duration_seconds histogram") != std::string::npos);
  CHECK(t.find(user) == std::string::npos);  // no per-user labels
  CHECK(t.find("nobody") == std::string::npos);
  // Buckets are cumulative.
  const std::regex bucket(R"re(driftrec_http_request_duration_seconds_bucket\{endpoint="recommendations",le="[^"]+"\} (\d+))re");
  long previous = 0;
  for (auto it = std::sregex_iterator(t.begin(), t.end(), bucket); it != std::sregex_iterator(); ++it) {
    const long n = std::stol((*it)[1]);
    CHECK(n >= previous);
    previous = n;
  }
  CHECK(previous == 6);
}

TEST_CASE("a replaced store is reloaded (watch and request_reload) while concurrent requests all succeed",
          "[serve][server]") {
  const Fixture& f = fixture();
  test::TempDir dir;
  const std::string served = (dir / "served.h5").string(), next = (dir / "next.h5").string();
  fs::copy_file(f.store, served);
  fs::copy_file(f.store, next);
  Fixture::factorize(next, 5, 99);  // another model: 5 factors

  serve::ServerOptions o = options_for(served, false);
  o.watch_interval = std::chrono::milliseconds(50);
  serve::Server server(o);
  const int port = server.start();
  const std::string user = io::Store::open(f.store).users()[5];
  const std::string path = fmt::format("/v1/users/{}/recommendations?k=5", user);
  CHECK(get(port, path).body.at("generation") == 1);

  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      while (!done.load()) {
        auto r = c.Get(path.c_str());
        (r && r->status == 200 && json::parse(r->body).at("items").size() == 5 ? ok : failed)++;
      }
    });
  auto wait_for_generation = [&](std::uint64_t g) {
    for (int i = 0; i < 400 && server.snapshot()->generation < g; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return server.snapshot()->generation;
  };
  // The update pattern: a finished file renamed over the served one.
  fs::copy_file(next, served + ".tmp");
  fs::rename(served + ".tmp", served);
  CHECK(wait_for_generation(2) == 2);
  CHECK(server.snapshot()->factors == 5);
  server.request_reload();  // what SIGHUP does
  CHECK(wait_for_generation(3) == 3);
  CHECK(server.reload());
  CHECK(server.snapshot()->generation == 4);
  done = true;
  for (auto& c : clients) c.join();
  CHECK(failed == 0);
  CHECK(ok > 10);

  pipeline::RecommendRequest q;
  q.store = served;
  q.user = user;
  q.k = 5;
  const Reply r = get(port, path);
  CHECK(r.body.at("generation") == 4);
  serve::Server exact(options_for(served, true));
  const json e = get(exact.start(), path).body;
  check_same_items(e.at("items"), pipeline::recommend(q).items, "score");
}

TEST_CASE("after update steps the sequence model forward, a reload serves the stepped interests", "[serve][server]") {
  const Fixture& f = fixture();
  test::TempDir dir;
  const std::string served = (dir / "served.h5").string();
  fs::copy_file(f.store, served);
  serve::Server server(options_for(served, true));
  const int port = server.start();
  const io::Store before = io::Store::open(served);
  const std::vector<std::string> users = before.users(), items = before.items();
  // A new period: three known users with a few known items each.
  const graph::Time t = before.periods().end.back() + 100;
  std::string events = "user,item,time,value\n";
  for (std::size_t u : {0, 17, 101})
    for (std::size_t i : {3, 40, 77}) events += fmt::format("{},{},{},1\n", users[u], items[(u + i) % items.size()], t + static_cast<graph::Time>(u));
  test::write_file(dir / "new.csv", events);
  auto interests = [&](const std::string& user) { return get(port, fmt::format("/v1/users/{}/interests?k=6", user)); };
  const Reply old = interests(users[17]);
  REQUIRE(old.status == 200);

  pipeline::UpdateRequest q;
  q.store = served;
  q.event_files = {(dir / "new.csv").string()};
  q.threads = 2;
  const pipeline::UpdateSummary sum = pipeline::update_store(q);
  const auto stepped = std::find_if(sum.results.begin(), sum.results.end(),
                                    [](const pipeline::UpdatedResult& r) { return r.kind == "sequence_model"; });
  REQUIRE(stepped != sum.results.end());
  CHECK(stepped->steps == 1);
  REQUIRE(server.reload());
  for (std::size_t u : {0, 17, 101}) {
    pipeline::PredictRequest p;
    p.store = served;
    p.user = users[u];
    p.top = 6;
    const pipeline::Prediction want = pipeline::predict(p);
    const Reply r = interests(users[u]);
    REQUIRE(r.status == 200);
    REQUIRE(r.body.at("labels").size() == want.labels.size());
    for (std::size_t l = 0; l < want.labels.size(); ++l) {
      CHECK(r.body["labels"][l].at("label") == want.labels[l].label);
      CHECK(r.body["labels"][l].at("probability").get<float>() == Approx(want.labels[l].probability));
    }
  }
  CHECK(interests(users[17]).body.at("labels") != old.body.at("labels"));
}

namespace {

// The service's recommendations for `user` against pipeline::recommend with `model`.
void check_as_recommend(int port, const std::string& store, const std::string& model, const std::string& user,
                        bool exclude_seen) {
  CAPTURE(model, user, exclude_seen);
  pipeline::RecommendRequest q;
  q.store = store;
  q.user = user;
  q.k = 7;
  q.model = model;
  q.include_seen = !exclude_seen;
  q.threads = 2;
  const pipeline::Recommendations want = pipeline::recommend(q);
  const Reply r = get(port, fmt::format("/v1/users/{}/recommendations?k=7&exclude_seen={}", user, exclude_seen));
  REQUIRE(r.status == 200);
  CHECK(r.body.at("result") == model);
  CHECK(r.body.at("ranked_by") == want.ranked_by);
  CHECK(r.body.at("exact") == true);  // a train result ranks in float32, as recommend
  check_same_items(r.body.at("items"), want.items, "score");
}

// A copy of the fixture's store in `dir` with a train result "rk" that chose the ranker.
std::string copy_with_ranker_result(const test::TempDir& dir) {
  const std::string served = (dir / "served.h5").string();
  fs::copy_file(fixture().store, served);
  test::train_with_items(served, "rk", "ranker", 8);
  return served;
}

}  // namespace

TEST_CASE("a train result's recommendations are ranked by the item model train chose, as recommend --model ranks",
          "[serve][server][ranker]") {
  test::TempDir dir;
  const std::string served = copy_with_ranker_result(dir);
  test::train_with_items(served, "hy", "hybrid", 8);
  const std::vector<std::string> users = io::Store::open(served).users();

  serve::ServerOptions o = options_for(served, false);
  o.source.result = "hy";
  serve::Server hybrid(o);
  const int hybrid_port = hybrid.start();
  CHECK(get(hybrid_port, "/healthz").body.at("ranked_by") == "hybrid");
  for (std::size_t u : {0, 17, 101})
    for (bool exclude_seen : {true, false}) check_as_recommend(hybrid_port, served, "hy", users[u], exclude_seen);

  o.source.result = "rk";
  serve::Server ranker(o);
  const int port = ranker.start();
  const Reply h = get(port, "/healthz");
  CHECK(h.body.at("kind") == "sequence_model");
  CHECK(h.body.at("ranked_by") == "ranker");
  CHECK(h.body.at("ranker_setting").is_string());
  for (std::size_t u : {0, 17, 101}) check_as_recommend(port, served, "rk", users[u], true);
  check_error(get(port, fmt::format("/v1/users/{}/recommendations?exclude_seen=false", users[0])), 400);
  const Reply hy = get(hybrid_port, fmt::format("/v1/users/{}/recommendations?k=7", users[17]));
  const Reply rk = get(port, fmt::format("/v1/users/{}/recommendations?k=7", users[17]));
  CHECK(hy.body.at("items") != rk.body.at("items"));  // the two models rank differently here
  CHECK(get(port, fmt::format("/v1/items/{}/similar?k=3", io::Store::open(served).items()[5])).status == 200);
}

TEST_CASE("a train result that chose the ranker is ranked by the updated store after update and reload; dropped by "
          "update, the reload fails naming it",
          "[serve][server][ranker]") {
  test::TempDir dir;
  const std::string served = copy_with_ranker_result(dir);
  serve::ServerOptions o = options_for(served, false);
  o.source.result = "rk";
  serve::Server server(o);
  const int port = server.start();
  const io::Store before = io::Store::open(served);
  const std::vector<std::string> users = before.users(), items = before.items();
  auto events_at = [&](graph::Time t) {
    std::string events = "user,item,time,value\n";
    for (std::size_t u : {0, 17, 101})
      for (std::size_t i : {3, 40, 77})
        events += fmt::format("{},{},{},1\n", users[u], items[(u + i) % items.size()], t + static_cast<graph::Time>(u));
    return events;
  };
  pipeline::UpdateRequest q;
  q.store = served;
  q.event_files = {(dir / "new.csv").string()};
  q.threads = 2;

  // A new period: rk is stepped forward, keeps train's choice, and the reload ranks by the
  // ranker refitted on the updated store.
  test::write_file(dir / "new.csv", events_at(before.periods().end.back() + 100));
  const pipeline::UpdateSummary stepped = pipeline::update_store(q);
  CHECK(std::any_of(stepped.results.begin(), stepped.results.end(),
                    [](const pipeline::UpdatedResult& r) { return r.name == "rk" && r.steps == 1; }));
  REQUIRE(server.reload());
  CHECK(server.snapshot()->ranked_by == "ranker");
  CHECK(server.snapshot()->period == before.n_slices());  // the new last period
  for (std::size_t u : {0, 17, 101}) check_as_recommend(port, served, "rk", users[u], true);

  // Events inside the new last period: the sequence model cannot be stepped over a period
  // it has read, so update drops it with the reason, and the service keeps what it served.
  test::write_file(dir / "new.csv", events_at(io::Store::open(served).periods().begin.back() + 1));
  const pipeline::UpdateSummary dropped = pipeline::update_store(q);
  const auto it = std::find(dropped.dropped_results.begin(), dropped.dropped_results.end(), "rk (sequence_model)");
  REQUIRE(it != dropped.dropped_results.end());
  CHECK(!dropped.dropped_reasons[static_cast<std::size_t>(it - dropped.dropped_results.begin())].empty());
  CHECK_FALSE(server.reload());
  CHECK_THAT(server.last_reload_error(), Catch::Contains("rk"));
  CHECK(server.snapshot()->generation == 2);
  CHECK(get(port, fmt::format("/v1/users/{}/recommendations", users[0])).status == 200);
}

TEST_CASE("a failed reload keeps the model served and is counted", "[serve][server]") {
  const Fixture& f = fixture();
  test::TempDir dir;
  const std::string served = (dir / "served.h5").string();
  fs::copy_file(f.store, served);
  serve::ServerOptions o = options_for(served, false);
  serve::Server server(o);
  const int port = server.start();
  test::write_file(dir / "broken", "not a store");
  fs::rename(dir / "broken", served);
  CHECK_FALSE(server.reload());
  CHECK(server.last_reload_error().find(served) != std::string::npos);
  CHECK(server.snapshot()->generation == 1);
  const std::string user = io::Store::open(f.store).users()[0];
  CHECK(get(port, fmt::format("/v1/users/{}/recommendations", user)).status == 200);
  CHECK(server.metrics_text().find("driftrec_reloads_total{outcome=\"failed\"} 1\n") != std::string::npos);
}

TEST_CASE("a snapshot built in memory is served, and options out of range are refused", "[serve][server]") {
  auto s = std::make_shared<serve::Snapshot>();
  s->user_ids = {"u0", "u1"};
  s->item_ids = {"a", "b", "c"};
  s->factors = 2;
  s->user_factors = {1, 0, 0, 1};
  s->item_factors = {1, 0, 0, 2, 0.5f, 0.5f};
  serve::finish_snapshot(*s);
  serve::ServerOptions o;
  serve::Server server(o, s);
  const int port = server.start();
  const Reply r = get(port, "/v1/users/u1/recommendations?k=2");
  REQUIRE(r.status == 200);
  CHECK(r.body["items"][0].at("item") == "b");
  CHECK(r.body["items"][1].at("item") == "c");
  CHECK(r.body["items"][0].at("title").is_null());
  check_error(get(port, "/v1/users/u1/interests"), 409);
  CHECK_FALSE(server.reload());  // nothing to reload from
  serve::ServerOptions bad;
  bad.max_k = 0;
  CHECK_THROWS_AS(serve::Server(bad, s), InputError);
  bad = {};
  bad.port = 70000;
  CHECK_THROWS_AS(serve::Server(bad, s), InputError);
  CHECK_THROWS_AS(serve::Server(serve::ServerOptions{}), InputError);
  CHECK_THROWS_AS(serve::read_token_file("/nonexistent/token"), InputError);
}
