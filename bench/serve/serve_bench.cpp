// serve_bench: what `driftrec serve` costs and how close its int8 scores rank to float32.
//
//   recall   recall@20 of the int8 top-20 (as served: the int8 scan, then its candidates
//            re-ranked with the 2-bit residuals; and, for comparison, the int8 scan alone)
//            against the exact float32 top-20 (items the user had left out, as served),
//            over every user of a store (--store) or over --queries users of a generated
//            catalogue (--items x --factors)
//   latency  a Server on 127.0.0.1 over the generated int8 catalogue and one client
//            (cpp-httplib, one keep-alive connection, one request in flight: single-query
//            latency) sending --requests GET /v1/users/{id}/recommendations?k=20; p50, p99,
//            max, requests per second, errors, and the resident memory of the process
//            (server and client) before and after the run
//
// The generated catalogue is shaped like factors of implicit ALS rather than isotropic
// noise: items around --clusters centres, row lengths log-normal (popularity), users a
// blend of two centres. --shape gaussian gives i.i.d. N(0,1) factors instead, the hardest
// case for any quantiser (the top scores crowd together). Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "serve/server.hpp"

#include <httplib.h>

using namespace driftrec;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

// CPU time of this thread: the scan's own cost, apart from waiting for a core.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

std::shared_ptr<serve::Snapshot> generated(std::int64_t items, std::int64_t users, int factors, int clusters,
                                           const std::string& shape, std::uint64_t seed, bool exact) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::lognormal_distribution<float> length(0.0f, 0.5f);
  std::uniform_int_distribution<int> pick(0, clusters - 1);
  std::vector<float> centres(static_cast<std::size_t>(clusters) * factors);
  for (float& x : centres) x = normal(rng);
  auto s = std::make_shared<serve::Snapshot>();
  s->factors = factors;
  s->exact = exact;
  s->item_ids.resize(static_cast<std::size_t>(items));
  s->item_factors.resize(static_cast<std::size_t>(items) * factors);
  for (std::int64_t i = 0; i < items; ++i) {
    s->item_ids[static_cast<std::size_t>(i)] = fmt::format("i{}", i);
    float* y = s->item_factors.data() + i * factors;
    if (shape == "gaussian") {
      for (int f = 0; f < factors; ++f) y[f] = normal(rng);
    } else {
      const float* c = centres.data() + static_cast<std::ptrdiff_t>(pick(rng)) * factors;
      const float l = length(rng);
      for (int f = 0; f < factors; ++f) y[f] = l * (c[f] + 0.7f * normal(rng));
    }
  }
  s->user_ids.resize(static_cast<std::size_t>(users));
  s->user_factors.resize(static_cast<std::size_t>(users) * factors);
  for (std::int64_t u = 0; u < users; ++u) {
    s->user_ids[static_cast<std::size_t>(u)] = fmt::format("u{}", u);
    float* x = s->user_factors.data() + u * factors;
    const float* a = centres.data() + static_cast<std::ptrdiff_t>(pick(rng)) * factors;
    const float* b = centres.data() + static_cast<std::ptrdiff_t>(pick(rng)) * factors;
    for (int f = 0; f < factors; ++f) x[f] = shape == "gaussian" ? normal(rng) : 0.6f * a[f] + 0.4f * b[f] + 0.3f * normal(rng);
  }
  serve::finish_snapshot(*s);
  return s;
}

// The same snapshot with the other representation of the item factors.
std::shared_ptr<serve::Snapshot> quantized_copy(const serve::Snapshot& exact) {
  auto s = std::make_shared<serve::Snapshot>(exact);
  s->exact = false;
  serve::finish_snapshot(*s);
  return s;
}

json recall_at_20(const serve::Snapshot& exact, const serve::Snapshot& int8, std::int64_t queries, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::int32_t> users;
  if (queries >= exact.n_users()) {
    for (std::int32_t u = 0; u < exact.n_users(); ++u) users.push_back(u);
  } else {
    std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(exact.n_users() - 1));
    for (std::int64_t q = 0; q < queries; ++q) users.push_back(pick(rng));
  }
  std::int64_t misses = 0, misses_within_bound = 0;
  double hits = 0, hits_int8_alone = 0, total = 0, worst = 1, int8_seconds = 0, exact_seconds = 0, int8_cpu_seconds = 0;
  for (std::int32_t u : users) {
    const auto t0 = Clock::now();
    const auto a = exact.recommend(u, 20, true);
    const auto t1 = Clock::now();
    const double cpu0 = thread_cpu_seconds();
    const auto b = int8.recommend(u, 20, true);
    int8_cpu_seconds += thread_cpu_seconds() - cpu0;
    exact_seconds += std::chrono::duration<double>(t1 - t0).count();
    int8_seconds += std::chrono::duration<double>(Clock::now() - t1).count();
    {
      const serve::ScoreRows alone{nullptr, &int8.item_codes, int8.n_items(), int8.factors, 0};
      const auto c = serve::top_k(alone, int8.user_factors.data() + static_cast<std::int64_t>(u) * int8.factors, 20,
                                  int8.seen.row(u), -1, {});
      for (const serve::Scored& x : c)
        hits_int8_alone += std::any_of(a.begin(), a.end(), [&](const serve::Scored& y) { return y.index == x.index; });
    }
    double h = 0;
    // A miss is "within the bound" when the item ranked in has an exact score below the
    // exact 20th by no more than the two items' bounds after re-ranking, (s/8) sum|q_f|
    // each: a near-tie the codes and residuals cannot resolve.
    const float* q = exact.user_factors.data() + static_cast<std::int64_t>(u) * exact.factors;
    double l1 = 0;
    for (int f = 0; f < exact.factors; ++f) l1 += std::fabs(q[f]);
    double top_scale = 0;
    for (const serve::Scored& y : a) top_scale = std::max<double>(top_scale, int8.item_codes.scales[static_cast<std::size_t>(y.index)]);
    for (const serve::Scored& x : b) {
      const bool hit = std::any_of(a.begin(), a.end(), [&](const serve::Scored& y) { return y.index == x.index; });
      h += hit;
      if (hit || a.empty()) continue;
      ++misses;
      double score = 0;
      for (int f = 0; f < exact.factors; ++f)
        score += static_cast<double>(q[f]) * exact.item_factors[static_cast<std::size_t>(x.index) * static_cast<std::size_t>(exact.factors) + static_cast<std::size_t>(f)];
      const double bound = 0.125 * (int8.item_codes.scales[static_cast<std::size_t>(x.index)] + top_scale) * l1;
      misses_within_bound += a.back().score - score <= bound * 1.001 ? 1 : 0;
    }
    hits += h;
    total += static_cast<double>(a.size());
    worst = std::min(worst, a.empty() ? 1.0 : h / static_cast<double>(a.size()));
  }
  return {{"recall_at_20", hits / total}, {"recall_at_20_int8_scan_alone", hits_int8_alone / total},
          {"rerank_candidates", 20 * serve::kRerankFactor}, {"worst_query_recall", worst}, {"misses", misses},
          {"misses_within_quantisation_bound", misses_within_bound}, {"queries", users.size()},
          {"items", exact.n_items()}, {"factors", exact.factors},
          {"int8_item_mib", static_cast<double>(int8.item_bytes()) / (1 << 20)},
          {"int8_bytes_per_factor",
           static_cast<double>(int8.item_bytes()) / static_cast<double>(exact.n_items() * exact.factors)},
          {"float32_item_mib", static_cast<double>(exact.item_bytes()) / (1 << 20)},
          {"scan_ms_per_query_int8", 1e3 * int8_seconds / static_cast<double>(users.size())},
          {"scan_cpu_ms_per_query_int8", 1e3 * int8_cpu_seconds / static_cast<double>(users.size())},
          {"scan_ms_per_query_float32", 1e3 * exact_seconds / static_cast<double>(users.size())}};
}

json load(serve::Server& server, std::int64_t requests, std::int64_t users, std::uint64_t seed) {
  httplib::Client c("127.0.0.1", server.port());
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  c.set_read_timeout(30, 0);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> pick(0, users - 1);
  auto one = [&](std::vector<double>* latencies) {
    const std::string path = fmt::format("/v1/users/u{}/recommendations?k=20", pick(rng));
    const auto t0 = Clock::now();
    auto r = c.Get(path.c_str());
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (latencies) latencies->push_back(s);
    return r && r->status == 200 && r->body.find("\"items\":[{") != std::string::npos;
  };
  for (int i = 0; i < 200; ++i) one(nullptr);  // warm the connection, pages and caches
  const double rss_before = rss_mib();
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(requests));
  std::int64_t errors = 0;
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < requests; ++i) errors += one(&lat) ? 0 : 1;
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rss_after = rss_mib();
  std::sort(lat.begin(), lat.end());
  auto q = [&](double p) { return 1e3 * lat[static_cast<std::size_t>(p * static_cast<double>(lat.size() - 1))]; };
  return {{"requests", requests},       {"errors", errors},         {"in_flight", 1},
          {"p50_ms", q(0.50)},          {"p99_ms", q(0.99)},        {"max_ms", 1e3 * lat.back()},
          {"requests_per_second", static_cast<double>(requests) / seconds},
          {"rss_mib_before", rss_before}, {"rss_mib_after", rss_after}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"serve_bench: int8 recall against float32, and the service's latency and memory"};
  std::string store, shape = "als-like";
  std::int64_t items = 100000, users = 10000, queries = 500, requests = 2000;
  int factors = 64, clusters = 256;
  std::uint64_t seed = 1;
  bool no_latency = false;
  app.add_option("--store", store, "Recall only, on this store's factorize result 'als' (every user)");
  app.add_option("--items", items, "Generated catalogue: items");
  app.add_option("--users", users, "Generated catalogue: users");
  app.add_option("--factors", factors, "Generated catalogue: factors");
  app.add_option("--clusters", clusters, "Generated catalogue: item clusters");
  app.add_option("--shape", shape, "als-like | gaussian")->check(CLI::IsMember({"als-like", "gaussian"}));
  app.add_option("--queries", queries, "Users sampled for recall");
  app.add_option("--requests", requests, "Requests timed (one in flight)");
  app.add_option("--seed", seed, "Seed");
  app.add_flag("--no-latency", no_latency, "Recall only");
  CLI11_PARSE(app, argc, argv);
  try {
    json out;
    if (!store.empty()) {
      serve::SnapshotSource src;
      src.store = store;
      src.exact = true;
      const serve::Snapshot exact = serve::load_snapshot(src);
      const auto int8 = quantized_copy(exact);
      out = {{"data", store}, {"recall", recall_at_20(exact, *int8, exact.n_users(), seed)}};
    } else {
      const double rss_start = rss_mib();
      auto exact = generated(items, users, factors, clusters, shape, seed, true);
      auto int8 = quantized_copy(*exact);
      out = {{"data", fmt::format("generated {} ({} items x {} factors, {} users)", shape, items, factors, users)},
             {"avx2", serve::dot_int8_uses_avx2()},
             {"recall", recall_at_20(*exact, *int8, queries, seed + 1)}};
      exact.reset();  // serve int8 only, as `driftrec serve` does
      if (!no_latency) {
        std::fprintf(stderr, "serve_bench: %lld requests against %lld items\n", static_cast<long long>(requests),
                     static_cast<long long>(items));
        serve::ServerOptions o;
        o.watch_interval = std::chrono::milliseconds(0);
        serve::Server server(o, int8);
        int8.reset();
        server.start();
        out["rss_mib_process_start"] = rss_start;
        out["latency"] = load(server, requests, users, seed + 2);
        server.stop();
      }
    }
    std::printf("%s\n", out.dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "serve_bench: %s\n", e.what());
    return 2;
  }
  return 0;
}
