// The service's counters in the Prometheus text exposition format (version 0.0.4):
// driftrec_http_requests_total{endpoint,code}, driftrec_http_request_duration_seconds (a
// histogram per endpoint), driftrec_reloads_total{outcome} and gauges of the model held.
// Endpoints are the route names, never ids: no label grows with the users.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace driftrec::serve {

enum class Endpoint { recommendations, interests, similar, healthz, metrics, other };
inline constexpr int kEndpoints = 6;
const char* endpoint_name(Endpoint e);
// The endpoint a request path belongs to.
Endpoint endpoint_of(const std::string& path);

struct ModelGauges {
  std::int64_t users = 0, items = 0, factors = 0;
  std::uint64_t generation = 0;
  std::size_t item_bytes = 0;
  double loaded_unix_seconds = 0;
};

class Metrics {
 public:
  // Latency histogram bounds, in seconds.
  static constexpr std::array<double, 13> kBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                   0.025,  0.05,    0.1,    0.25,  0.5,   1.0};
  // seconds < 0: the request failed before it was timed (counted, not in the histogram).
  void observe(Endpoint e, int status, double seconds);
  void reloaded(bool ok);
  std::string text(const ModelGauges& model) const;

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // counts per bound, not cumulative
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<int, int>, std::uint64_t> requests_;  // (endpoint, status)
  std::array<Histogram, kEndpoints> latency_{};
  std::uint64_t reloads_ok_ = 0, reloads_failed_ = 0;
};

}  // namespace driftrec::serve
