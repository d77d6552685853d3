#include "serve/server.hpp"

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "serve/metrics.hpp"

namespace driftrec::serve {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// An answer other than 200, thrown by a handler and turned into a JSON error body.
struct HttpError {
  int status;
  std::string message;
};

void set_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  set_json(res, status, {{"error", message}, {"status", status}});
}

json title_json(const std::string& title) { return title.empty() ? json(nullptr) : json(title); }

// What identifies a version of the store file: replacing it by a rename changes the inode.
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino, st.st_size,
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Constant time in the token's content (only its length can leak), so a wrong guess does
// not tell how much of it matched.
bool same_token(const std::string& given, const std::string& token) {
  if (given.size() != token.size() || token.empty()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < token.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i]);
  return diff == 0;
}

thread_local Clock::time_point request_start{};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  httplib::Server http;
  Metrics metrics;
  std::atomic<std::shared_ptr<const Snapshot>> current;
  std::mutex reload_mutex;  // one load at a time
  std::string last_error;   // guarded by reload_mutex
  std::uint64_t generation = 0;
  FileStamp stamp;          // of the store as last loaded (guarded by reload_mutex)
  std::atomic<bool> reload_requested{false}, stop_requested{false}, stopping{false};
  std::mutex wait_mutex;
  std::condition_variable stopped_cv;
  bool stopped = true;  // guarded by wait_mutex
  std::thread listener, watcher;
  int port = -1;

  void install(std::shared_ptr<Snapshot> s) {
    s->generation = ++generation;
    s->loaded_unix_seconds = unix_seconds();
    current.store(std::move(s));
  }

  bool reload() {
    const std::lock_guard lock(reload_mutex);
    if (options.source.store.empty()) {
      last_error = "no store to reload from (the model was built in memory)";
      metrics.reloaded(false);
      return false;
    }
    const FileStamp before = stamp_of(options.source.store);
    try {
      install(std::make_shared<Snapshot>(load_snapshot(options.source)));
      stamp = before;
      last_error.clear();
      metrics.reloaded(true);
      return true;
    } catch (const std::exception& e) {
      stamp = before;  // retried when the file changes again
      last_error = e.what();
      metrics.reloaded(false);
      std::fprintf(stderr, "driftrec serve: reload failed, still serving generation %llu: %s\n",
                   static_cast<unsigned long long>(current.load()->generation), e.what());
      return false;
    }
  }

  bool store_changed() {
    const std::lock_guard lock(reload_mutex);
    const FileStamp now = stamp_of(options.source.store);
    return now.exists && !(now == stamp);
  }

  void watch() {
    auto next_look = Clock::now() + options.watch_interval;
    while (!stopping.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (stop_requested.exchange(false)) {
        http.stop();
        continue;
      }
      bool due = reload_requested.exchange(false);
      if (!due && options.watch_interval.count() > 0 && !options.source.store.empty() && Clock::now() >= next_look) {
        next_look = Clock::now() + options.watch_interval;
        due = store_changed();
      }
      if (due) reload();
    }
  }

  // ---- request handling ----

  void check_token(const httplib::Request& req) const {
    if (options.token.empty()) return;
    const std::string h = req.get_header_value("Authorization");
    if (!h.starts_with("Bearer ") || !same_token(h.substr(7), options.token))
      throw HttpError{401, "missing or wrong bearer token (Authorization: Bearer <token>)"};
  }

  // The parameters a route takes; anything else is a client mistake worth naming.
  static void check_params(const httplib::Request& req, std::initializer_list<const char*> allowed) {
    for (const auto& [name, value] : req.params) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || name == a;
      if (!ok) {
        std::string list;
        for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        throw HttpError{400, fmt::format("unknown parameter '{}' (this endpoint takes: {})", name.substr(0, 64), list)};
      }
    }
  }

  int k_param(const httplib::Request& req) const {
    if (!req.has_param("k")) return 10;
    const std::string v = req.get_param_value("k");
    long long k = 0;
    bool digits = !v.empty() && v.size() <= 9;
    for (char c : v) digits = digits && c >= '0' && c <= '9';
    if (digits) k = std::stoll(v);
    if (!digits || k < 1 || k > options.max_k)
      throw HttpError{400, fmt::format("k: expected an integer from 1 to {}, got '{}'", options.max_k, v.substr(0, 32))};
    return static_cast<int>(k);
  }

  static bool bool_param(const httplib::Request& req, const char* name, bool fallback) {
    if (!req.has_param(name)) return fallback;
    const std::string v = req.get_param_value(name);
    if (v == "true" || v == "1") return true;
    if (v == "false" || v == "0") return false;
    throw HttpError{400, fmt::format("{}: expected true, false, 1 or 0, got '{}'", name, v.substr(0, 32))};
  }

  std::string id_param(const httplib::Request& req) const {
    const std::string id = req.matches[1];
    if (id.size() > options.max_id_length)
      throw HttpError{400, fmt::format("id: longer than {} characters", options.max_id_length)};
    return id;
  }

  static std::int32_t find(const std::unordered_map<std::string, std::int32_t>& index, const std::string& id,
                           const char* what) {
    const auto it = index.find(id);
    if (it == index.end()) throw HttpError{404, fmt::format("no {} with id '{}'", what, id)};
    return it->second;
  }

  static json items_json(const Snapshot& s, const std::vector<Scored>& top, const char* score_name) {
    json list = json::array();
    for (const Scored& r : top) {
      const auto i = static_cast<std::size_t>(r.index);
      list.push_back({{"item", s.item_ids[i]}, {"title", title_json(s.item_titles[i])}, {score_name, r.score},
                      {"labels", s.item_labels[i]}});
    }
    return list;
  }

  json recommendations(const httplib::Request& req) const {
    check_params(req, {"k", "exclude_seen"});
    const std::string id = id_param(req);
    const int k = k_param(req);
    const bool exclude_seen = bool_param(req, "exclude_seen", true);
    const std::shared_ptr<const Snapshot> s = current.load();
    const std::int32_t u = find(s->user_index, id, "user");
    if (!exclude_seen && !s->can_include_seen())
      throw HttpError{400, fmt::format("exclude_seen: result '{}' ranks by the learned item ranker, which ranks only "
                                       "items new to the user",
                                       s->result)};
    json out = {{"user", id},           {"result", s->result},           {"ranked_by", s->ranked_by},
                {"period", s->period},  {"period_begin_utc", s->period_begin_utc}, {"exact", s->scores_exact()},
                {"generation", s->generation}, {"exclude_seen", exclude_seen},
                {"items", items_json(*s, s->recommend(u, k, exclude_seen), "score")}};
    if (!s->ranker_setting.empty()) out["ranker_setting"] = s->ranker_setting;
    return out;
  }

  json similar(const httplib::Request& req) const {
    check_params(req, {"k"});
    const std::string id = id_param(req);
    const int k = k_param(req);
    const std::shared_ptr<const Snapshot> s = current.load();
    const std::int32_t i = find(s->item_index, id, "item");
    const auto ii = static_cast<std::size_t>(i);
    return {{"item", id},         {"title", title_json(s->item_titles[ii])}, {"labels", s->item_labels[ii]},
            {"result", s->result}, {"period", s->period}, {"exact", s->exact}, {"generation", s->generation},
            {"items", items_json(*s, s->similar(i, k), "cosine")}};
  }

  json interests(const httplib::Request& req) const {
    check_params(req, {"k"});
    const std::string id = id_param(req);
    const int k = k_param(req);
    const std::shared_ptr<const Snapshot> s = current.load();
    const std::int32_t u = find(s->user_index, id, "user");
    if (!s->interests)
      throw HttpError{409, fmt::format("the store has no sequence model '{}' (run driftrec train {} --name {})",
                                       options.source.model, s->store.empty() ? "STORE" : s->store, options.source.model)};
    json list = json::array();
    for (const Snapshot::Interest& l : s->user_interests(u, k))
      list.push_back({{"label", s->interests->labels[static_cast<std::size_t>(l.label)]}, {"probability", l.probability},
                      {"new", l.is_new}});
    return {{"user", id}, {"model", s->interests->model}, {"generation", s->generation}, {"labels", list}};
  }

  json health(const httplib::Request&) const {
    const std::shared_ptr<const Snapshot> s = current.load();
    return {{"status", "ok"},          {"store", s->store},         {"result", s->result}, {"generation", s->generation},
            {"kind", s->kind},         {"ranked_by", s->ranked_by},
            {"ranker_setting", s->ranker_setting.empty() ? json(nullptr) : json(s->ranker_setting)},
            {"users", s->n_users()},   {"items", s->n_items()},     {"factors", s->factors}, {"exact", s->exact},
            {"interests", s->interests.has_value()}};
  }

  template <class F>
  void route(const char* pattern, bool needs_token, F answer) {
    http.Get(pattern, [this, needs_token, answer](const httplib::Request& req, httplib::Response& res) {
      try {
        if (needs_token) check_token(req);
        set_json(res, 200, (this->*answer)(req));
      } catch (const HttpError& e) {
        set_error(res, e.status, e.message);
        if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer");
      } catch (const std::exception& e) {
        set_error(res, 500, fmt::format("internal error: {}", e.what()));
      }
    });
  }

  ModelGauges gauges() const {
    const std::shared_ptr<const Snapshot> s = current.load();
    return {s->n_users(), s->n_items(), s->factors, s->generation, s->item_bytes(), s->loaded_unix_seconds};
  }

  void set_up_routes() {
    route(R"(/v1/users/([^/]+)/recommendations)", true, &Impl::recommendations);
    route(R"(/v1/users/([^/]+)/interests)", true, &Impl::interests);
    route(R"(/v1/items/([^/]+)/similar)", true, &Impl::similar);
    route("/healthz", false, &Impl::health);
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.text(gauges()), "text/plain; version=0.0.4; charset=utf-8");
    });
    http.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      request_start = Clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    // Answers httplib makes itself (no route, a body too large, a bad request line) get a
    // JSON body too.
    http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      const char* what = res.status == 404   ? "no such endpoint (see GET /healthz, /metrics, /v1/...)"
                         : res.status == 413 ? "request too large"
                         : res.status == 400 ? "malformed request"
                                             : "request failed";
      set_error(res, res.status, what);
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      double seconds = -1;
      if (request_start != Clock::time_point{}) {
        seconds = std::chrono::duration<double>(Clock::now() - request_start).count();
        request_start = {};
      }
      metrics.observe(endpoint_of(req.path), res.status, seconds);
    });
    http.set_payload_max_length(options.max_request_bytes);
    http.set_keep_alive_max_count(1000);
    http.set_tcp_nodelay(true);  // small JSON answers: Nagle with delayed ACKs would add ~40 ms
    if (options.threads > 0) {
      const auto n = static_cast<std::size_t>(options.threads);
      http.new_task_queue = [n] { return new httplib::ThreadPool(n); };
    }
  }
};

Server::Server(ServerOptions options, std::shared_ptr<Snapshot> initial) : impl_(std::make_unique<Impl>()) {
  if (options.max_k < 1) throw InputError(fmt::format("max_k: expected 1 or more, got {}", options.max_k));
  if (options.max_id_length < 1) throw InputError("max_id_length: expected 1 or more");
  if (options.port < 0 || options.port > 65535)
    throw InputError(fmt::format("port: expected 0 (any free port) to 65535, got {}", options.port));
  impl_->options = std::move(options);
  if (initial) {
    impl_->install(std::move(initial));
  } else {
    if (impl_->options.source.store.empty()) throw InputError("store: give a store to serve (or a snapshot)");
    impl_->stamp = stamp_of(impl_->options.source.store);
    impl_->install(std::make_shared<Snapshot>(load_snapshot(impl_->options.source)));
  }
  impl_->set_up_routes();
}

Server::~Server() { stop(); }

int Server::start() {
  Impl& m = *impl_;
  DRIFTREC_ASSERT(!m.listener.joinable());
  const auto& o = m.options;
  m.port = o.port == 0 ? m.http.bind_to_any_port(o.host) : (m.http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (m.port < 0)
    throw InputError(fmt::format("--host {} --port {}: cannot bind (in use, or not an address of this machine)", o.host,
                                 o.port));
  {
    const std::lock_guard lock(m.wait_mutex);
    m.stopped = false;
  }
  m.stopping = false;
  m.listener = std::thread([&m] {
    m.http.listen_after_bind();
    const std::lock_guard lock(m.wait_mutex);
    m.stopped = true;
    m.stopped_cv.notify_all();
  });
  m.watcher = std::thread([&m] { m.watch(); });
  return m.port;
}

void Server::stop() {
  Impl& m = *impl_;
  m.stopping = true;
  m.http.stop();
  if (m.listener.joinable()) m.listener.join();
  if (m.watcher.joinable()) m.watcher.join();
}

void Server::wait() {
  Impl& m = *impl_;
  std::unique_lock lock(m.wait_mutex);
  m.stopped_cv.wait(lock, [&m] { return m.stopped; });
}

int Server::port() const { return impl_->port; }
bool Server::reload() { return impl_->reload(); }

void Server::replace(std::shared_ptr<Snapshot> next) {
  DRIFTREC_ASSERT(next != nullptr);
  const std::lock_guard lock(impl_->reload_mutex);
  impl_->install(std::move(next));
}

void Server::request_reload() noexcept { impl_->reload_requested.store(true); }
void Server::request_stop() noexcept { impl_->stop_requested.store(true); }
std::shared_ptr<const Snapshot> Server::snapshot() const { return impl_->current.load(); }

std::string Server::last_reload_error() const {
  const std::lock_guard lock(impl_->reload_mutex);
  return impl_->last_error;
}

std::string Server::metrics_text() const { return impl_->metrics.text(impl_->gauges()); }

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("--token-file {}: cannot read it", path));
  std::string line;
  std::getline(in, line);
  const auto b = line.find_first_not_of(" \t\r");
  const auto e = line.find_last_not_of(" \t\r");
  if (b == std::string::npos) throw InputError(fmt::format("--token-file {}: the first line holds no token", path));
  return line.substr(b, e - b + 1);
}

}  // namespace driftrec::serve
