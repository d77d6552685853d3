// driftrec's recommendation service: an HTTP/1.1 server (cpp-httplib, a thread pool) over
// an immutable Snapshot (serve/snapshot.hpp).
//
//   GET /v1/users/{id}/recommendations?k=10&exclude_seen=true
//                                         ranked as the snapshot says (serve/snapshot.hpp):
//                                         ranked_by factors, hybrid or ranker in the answer
//   GET /v1/users/{id}/interests?k=10     predicted next-period labels, new ones flagged
//   GET /v1/items/{id}/similar?k=10
//   GET /healthz                          {"status":"ok", "result", "kind", "ranked_by", ...}
//   GET /metrics                          Prometheus text (serve/metrics.hpp)
//
// Answers are JSON; errors are {"error": "...", "status": N}: 400 for a malformed request
// (k outside [1, max_k], an unknown parameter, an id longer than max_id_length,
// exclude_seen=false where the learned item ranker ranks), 401 for a
// missing or wrong bearer token (when one is set; /healthz and /metrics stay open: they
// carry no user data), 404 for an unknown id or path, 409 for /interests when the store
// has no sequence model, 413 for a body over max_request_bytes.
//
// Reload: reload() loads the store again into a new snapshot and swaps the shared_ptr;
// requests in flight finish on the snapshot they started with, and a failed load keeps
// the one served. A watcher thread reloads when the store file's inode, size or mtime
// changes (driftrec replaces a store by renaming a finished copy over it) and when
// request_reload() was called (async-signal-safe: for SIGHUP).
#pragma once
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "serve/snapshot.hpp"

namespace driftrec::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;                    // 0: any free port (see Server::port())
  std::string token;               // "": no authentication
  int max_k = 1000;
  std::size_t max_id_length = 256;
  std::size_t max_request_bytes = 8192;  // request bodies (none is needed)
  int threads = 0;                 // worker threads; 0: cpp-httplib's default
  // How often the watcher looks at the store file; 0: never (reload() and
  // request_reload() still work).
  std::chrono::milliseconds watch_interval{1000};
  SnapshotSource source;           // where reload() loads from; store "": nothing to reload
};

class Server {
 public:
  // Loads the first snapshot from options.source, or serves `initial` when given (a model
  // built in memory). Throws InputError for a bad option or store.
  explicit Server(ServerOptions options, std::shared_ptr<Snapshot> initial = nullptr);
  ~Server();  // stop()
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and serves on background threads; returns the port. InputError if it cannot bind.
  int start();
  // Stops accepting, lets requests in flight finish, joins the threads. Idempotent.
  void stop();
  // Blocks until stop() or request_stop().
  void wait();
  int port() const;

  // Loads options.source again and swaps it in; false (the old one kept, the error in
  // last_reload_error()) if the load fails.
  bool reload();
  // Serves `next` from now on (a model built in memory).
  void replace(std::shared_ptr<Snapshot> next);
  // Async-signal-safe: the watcher thread reloads / stops soon after.
  void request_reload() noexcept;
  void request_stop() noexcept;

  std::shared_ptr<const Snapshot> snapshot() const;
  std::string last_reload_error() const;
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The token in a token file: its first line without surrounding blanks. InputError when
// the file cannot be read or the token is empty.
std::string read_token_file(const std::string& path);

}  // namespace driftrec::serve
