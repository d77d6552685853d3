#include "serve/metrics.hpp"

#include <fmt/format.h>

namespace driftrec::serve {

namespace {
template <class... A>
void put(std::string& out, fmt::format_string<A...> f, A&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<A>(args)...);
}
}  // namespace

const char* endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::recommendations: return "recommendations";
    case Endpoint::interests: return "interests";
    case Endpoint::similar: return "similar";
    case Endpoint::healthz: return "healthz";
    case Endpoint::metrics: return "metrics";
    case Endpoint::other: return "other";
  }
  return "other";
}

Endpoint endpoint_of(const std::string& path) {
  if (path == "/healthz") return Endpoint::healthz;
  if (path == "/metrics") return Endpoint::metrics;
  const auto ends = [&](const char* tail) { return path.ends_with(tail); };
  if (path.starts_with("/v1/users/") && ends("/recommendations")) return Endpoint::recommendations;
  if (path.starts_with("/v1/users/") && ends("/interests")) return Endpoint::interests;
  if (path.starts_with("/v1/items/") && ends("/similar")) return Endpoint::similar;
  return Endpoint::other;
}

void Metrics::observe(Endpoint e, int status, double seconds) {
  const std::lock_guard lock(mutex_);
  ++requests_[{static_cast<int>(e), status}];
  if (seconds < 0) return;
  Histogram& h = latency_[static_cast<std::size_t>(e)];
  ++h.count;
  h.sum += seconds;
  for (std::size_t b = 0; b < kBuckets.size(); ++b)
    if (seconds <= kBuckets[b]) {
      ++h.buckets[b];
      break;
    }
}

void Metrics::reloaded(bool ok) {
  const std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

std::string Metrics::text(const ModelGauges& m) const {
  const std::lock_guard lock(mutex_);
  std::string out;
  put(out, "# HELP driftrec_http_requests_total HTTP requests answered, by endpoint and status code.\n");
  put(out, "# TYPE driftrec_http_requests_total counter\n");
  for (const auto& [key, n] : requests_)
    put(out, "driftrec_http_requests_total{{endpoint=\"{}\",code=\"{}\"}} {}\n", endpoint_name(static_cast<Endpoint>(key.first)),
         key.second, n);
  put(out, "# HELP driftrec_http_request_duration_seconds Time from routing a request to its response, by endpoint.\n");
  put(out, "# TYPE driftrec_http_request_duration_seconds histogram\n");
  for (int e = 0; e < kEndpoints; ++e) {
    const Histogram& h = latency_[static_cast<std::size_t>(e)];
    const char* name = endpoint_name(static_cast<Endpoint>(e));
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < kBuckets.size(); ++b) {
      cumulative += h.buckets[b];
      put(out, "driftrec_http_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"{}\"}} {}\n", name, kBuckets[b], cumulative);
    }
    put(out, "driftrec_http_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"+Inf\"}} {}\n", name, h.count);
    put(out, "driftrec_http_request_duration_seconds_sum{{endpoint=\"{}\"}} {}\n", name, h.sum);
    put(out, "driftrec_http_request_duration_seconds_count{{endpoint=\"{}\"}} {}\n", name, h.count);
  }
  put(out, "# HELP driftrec_reloads_total Model reloads, by outcome (a failed one keeps the model served).\n");
  put(out, "# TYPE driftrec_reloads_total counter\n");
  put(out, "driftrec_reloads_total{{outcome=\"ok\"}} {}\n", reloads_ok_);
  put(out, "driftrec_reloads_total{{outcome=\"failed\"}} {}\n", reloads_failed_);
  put(out, "# HELP driftrec_model_generation Loads of the model so far (1: the first).\n");
  put(out, "# TYPE driftrec_model_generation gauge\ndriftrec_model_generation {}\n", m.generation);
  put(out, "# HELP driftrec_model_users Users in the model served.\n");
  put(out, "# TYPE driftrec_model_users gauge\ndriftrec_model_users {}\n", m.users);
  put(out, "# HELP driftrec_model_items Items in the model served.\n");
  put(out, "# TYPE driftrec_model_items gauge\ndriftrec_model_items {}\n", m.items);
  put(out, "# HELP driftrec_model_factors Factors per item.\n");
  put(out, "# TYPE driftrec_model_factors gauge\ndriftrec_model_factors {}\n", m.factors);
  put(out, "# HELP driftrec_model_item_bytes Memory of the item factors as held (int8 codes, residuals and scales, or float32).\n");
  put(out, "# TYPE driftrec_model_item_bytes gauge\ndriftrec_model_item_bytes {}\n", m.item_bytes);
  put(out, "# HELP driftrec_model_loaded_timestamp_seconds When the model served was loaded (Unix time).\n");
  put(out, "# TYPE driftrec_model_loaded_timestamp_seconds gauge\ndriftrec_model_loaded_timestamp_seconds {:.3f}\n",
       m.loaded_unix_seconds);
  return out;
}

}  // namespace driftrec::serve
