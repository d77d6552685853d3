// Streams a planted-drift log to CSV files; see synthetic_writer.hpp for the layout. The
// speed comes from three choices: numbers are formatted by hand (std::to_chars into a
// growing byte buffer, no stream per field); each thread formats a whole block of users
// into its own buffers; blocks are written in user order from an OpenMP ordered section,
// one fwrite per file per block, while the other threads keep generating.
#include "graph/synthetic_writer.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/parallel.hpp"

namespace driftrec::graph {
namespace {

using graph::Index;

constexpr std::int64_t kBlockEvents = 1 << 17;  // ~4 MB of text per block
constexpr std::size_t kFlushBytes = 1 << 22;    // labels.csv is written in pieces this big
constexpr std::size_t kEventLine = 64;          // longest event line, with room to spare
constexpr std::size_t kTruthLine = 128;

// A growing byte buffer that hands out room for a line and is told where the line ended.
class TextBuffer {
 public:
  char* room(std::size_t n) {
    if (size_ + n > capacity_) grow(size_ + n);
    return data_.get() + size_;
  }
  void commit(const char* end) { size_ = static_cast<std::size_t>(end - data_.get()); }
  void append(std::string_view s) { commit(std::copy(s.begin(), s.end(), room(s.size()))); }
  std::string_view view() const { return {data_.get(), size_}; }
  std::size_t size() const { return size_; }
  void clear() { size_ = 0; }

 private:
  void grow(std::size_t need) {
    const std::size_t capacity = std::max({need, capacity_ * 2, std::size_t{1} << 16});
    auto data = std::make_unique_for_overwrite<char[]>(capacity);
    std::copy(data_.get(), data_.get() + size_, data.get());
    data_ = std::move(data);
    capacity_ = capacity;
  }
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

char* put_int(char* p, std::int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

char* put_label(char* p, Index label) {
  *p++ = 'g';
  if (label < 10) *p++ = '0';
  return put_int(p, label);
}

// A file written under a temporary name and renamed into place by commit(); removed if
// the object dies uncommitted.
class StagedFile {
 public:
  StagedFile(const std::filesystem::path& dir, const char* name)
      : final_(dir / name),
        temp_(dir / fmt::format(".{}.{}.tmp", name, static_cast<long>(::getpid()))) {
    file_ = std::fopen(temp_.c_str(), "wb");
    if (!file_) fail("cannot create");
  }
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile() {
    if (file_) std::fclose(file_);
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(temp_, ec);
    }
  }

  void write(std::string_view bytes) {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size())
      fail("cannot write");
    bytes_ += static_cast<std::int64_t>(bytes.size());
  }
  void close() {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail("cannot write");
  }
  void commit() {
    std::error_code ec;
    std::filesystem::rename(temp_, final_, ec);
    if (ec)
      throw std::runtime_error(
          fmt::format("cannot rename {} to {}: {}", temp_.string(), final_.string(), ec.message()));
    committed_ = true;
  }
  std::int64_t bytes() const { return bytes_; }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw std::runtime_error(
        fmt::format("{} {}: {}", what, temp_.string(), std::strerror(errno)));
  }
  std::filesystem::path final_;
  std::filesystem::path temp_;
  std::FILE* file_ = nullptr;
  std::int64_t bytes_ = 0;
  bool committed_ = false;
};

// One user's truth and events as CSV lines.
void format_user(const graph::DriftConfig& config, const graph::UserLog& log, Index user,
                 TextBuffer& events, TextBuffer& truth) {
  char prefix[32];
  prefix[0] = 'u';
  char* prefix_end = put_int(prefix + 1, user);
  *prefix_end++ = ',';
  const auto prefix_len = static_cast<std::size_t>(prefix_end - prefix);

  for (const auto& t : log.truth) {
    char* p = std::copy(prefix, prefix_end, truth.room(kTruthLine));
    p = put_int(p, t.period);
    *p++ = ',';
    p = put_int(p, config.period_begin(t.period));
    *p++ = ',';
    p = put_label(p, t.label);
    *p++ = ',';
    p = std::to_chars(p, p + 32, t.weight, std::chars_format::general, 9).ptr;
    *p++ = '\n';
    truth.commit(p);
  }
  char* p = events.room(kEventLine * log.events.size());
  for (const auto& e : log.events) {
    p = std::copy(prefix, prefix + prefix_len, p);
    *p++ = 'i';
    p = put_int(p, e.item);
    *p++ = ',';
    p = put_int(p, e.time);
    *p++ = ',';
    *p++ = '1';  // the generator's value is always 1
    *p++ = '\n';
  }
  events.commit(p);
}

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./-+:=@", c) != nullptr;
  });
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string synthetic_label_name(Index label) {
  char buf[32];
  return {buf, put_label(buf, label)};
}

SyntheticSummary write_synthetic(const graph::DriftConfig& config,
                                 const std::filesystem::path& dir,
                                 const SyntheticProgressFn& progress, int threads) {
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const graph::DriftGenerator generator(config, threads);  // validates the config and threads
  const int team = core::thread_count(threads);

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw InputError(fmt::format("--out: cannot create directory '{}': {}", dir.string(),
                                        ec ? ec.message() : "a file of that name exists"));

  SyntheticSummary s;
  s.dir = dir;
  s.slice = config.slice_spec();
  s.users = config.users;
  s.items = config.items;
  s.labels = config.labels;

  StagedFile labels_file(dir, kSyntheticLabelsFile);
  StagedFile truth_file(dir, kSyntheticTruthFile);
  StagedFile events_file(dir, kSyntheticEventsFile);

  // labels.csv: small, written first and serially.
  {
    TextBuffer buf;
    buf.append("item,label\n");
    for (Index i = 0; i < config.items; ++i) {
      if (!generator.item_published(i)) continue;
      ++s.labelled_items;
      for (Index l : generator.item_labels(i)) {
        char* p = buf.room(48);
        *p++ = 'i';
        p = put_int(p, i);
        *p++ = ',';
        p = put_label(p, l);
        *p++ = '\n';
        buf.commit(p);
        ++s.label_rows;
      }
      if (buf.size() >= kFlushBytes) {
        labels_file.write(buf.view());
        buf.clear();
      }
    }
    labels_file.write(buf.view());
  }
  truth_file.write("user,period,begin,label,weight\n");
  events_file.write("user,item,time,value\n");

  // Blocks of about kBlockEvents events, and enough blocks to keep every thread busy. The
  // block size changes nothing in the output: each user has its own random stream.
  const double per_user = config.events_per_period * config.periods;
  std::int64_t block = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(std::ceil(kBlockEvents / std::max(per_user, 1.0))), 1, 1 << 16);
  const std::int64_t spread = 8 * static_cast<std::int64_t>(team);
  block = std::max<std::int64_t>(1, std::min(block, (config.users + spread - 1) / spread));
  const std::int64_t n_blocks = (config.users + block - 1) / block;

  std::vector<std::uint8_t> item_seen(static_cast<std::size_t>(config.items), 0);
  SyntheticProgress report;
  report.users_total = config.users;

  // Blocks are generated in any order and written in block order (the ordered construct).
  // Once anything throws, the capture skips all that is left: no later block is written.
  struct ThreadState {
    TextBuffer events, truth;
    graph::UserLog log;
    std::vector<std::uint8_t> seen;  // items this thread's users touched
    std::int64_t active_users = 0;
    std::int64_t block_events = 0, block_truth = 0;
  };
  core::ExceptionCapture capture;
#pragma omp parallel num_threads(team)
  {
    std::optional<ThreadState> st;
    capture.run([&] {
      st.emplace();
      st->seen.assign(static_cast<std::size_t>(config.items), 0);
    });
#pragma omp for ordered schedule(dynamic, 1)
    for (std::int64_t b = 0; b < n_blocks; ++b) {
      capture.run([&] {
        st->events.clear();
        st->truth.clear();
        st->block_events = st->block_truth = 0;
        const std::int64_t end = std::min<std::int64_t>(config.users, (b + 1) * block);
        for (std::int64_t u = b * block; u < end; ++u) {
          generator.generate_user(static_cast<Index>(u), st->log);
          format_user(config, st->log, static_cast<Index>(u), st->events, st->truth);
          for (const auto& e : st->log.events) st->seen[static_cast<std::size_t>(e.item)] = 1;
          st->active_users += !st->log.events.empty();
          st->block_events += static_cast<std::int64_t>(st->log.events.size());
          st->block_truth += static_cast<std::int64_t>(st->log.truth.size());
        }
      });
      // Runs only if nothing has failed so far, so this block was generated in full.
#pragma omp ordered
      capture.run([&] {
        events_file.write(st->events.view());
        truth_file.write(st->truth.view());
        s.events += st->block_events;
        s.truth_rows += st->block_truth;
        report.users_done = std::min<std::int64_t>(config.users, (b + 1) * block);
        report.events = s.events;
        report.bytes = labels_file.bytes() + truth_file.bytes() + events_file.bytes();
        report.seconds = elapsed();
        if (progress) progress(report);
      });
    }
    if (st) {
#pragma omp critical(driftrec_synthetic_merge)
      {
        s.users_with_events += st->active_users;
        for (std::size_t i = 0; i < st->seen.size(); ++i) item_seen[i] |= st->seen[i];
      }
    }
  }
  capture.rethrow();
  for (auto v : item_seen) s.items_with_events += v;

  labels_file.close();
  truth_file.close();
  events_file.close();
  s.bytes = labels_file.bytes() + truth_file.bytes() + events_file.bytes();

  StagedFile meta_file(dir, kSyntheticMetaFile);
  meta_file.write(synthetic_meta(config, s).dump(2) + "\n");
  meta_file.close();
  // An old meta.json must not describe the new files while they are being renamed in.
  std::filesystem::remove(dir / kSyntheticMetaFile, ec);
  labels_file.commit();
  truth_file.commit();
  events_file.commit();
  meta_file.commit();
  s.seconds = elapsed();
  return s;
}

nlohmann::json synthetic_meta(const graph::DriftConfig& c, const SyntheticSummary& s) {
  auto in_dir = [&](const char* f) { return shell_quote((s.dir / f).string()); };
  nlohmann::json meta;
  meta["format"] = "driftrec-synthetic";
  meta["version"] = 1;
  meta["config"] = {
      {"users", c.users},
      {"items", c.items},
      {"labels", c.labels},
      {"periods", c.periods},
      {"period_seconds", c.period_seconds},
      {"start", c.start},
      {"events_per_period", c.events_per_period},
      {"activity_sigma", c.activity_sigma},
      {"popularity_exponent", c.popularity_exponent},
      {"labels_per_item", c.labels_per_item},
      {"labelled_fraction", c.labelled_fraction},
      {"drift", c.drift},
      {"jump", c.jump},
      {"user_labels", c.user_labels},
      {"seed", c.seed},
  };
  meta["slice"] = c.slice_spec();
  meta["first_period_begin"] = c.first_period_begin();
  meta["period_seconds"] = c.period_seconds;
  meta["end"] = c.end_time();
  meta["files"] = {{"events", kSyntheticEventsFile},
                   {"labels", kSyntheticLabelsFile},
                   {"truth", kSyntheticTruthFile}};
  meta["counts"] = {
      {"users", s.users},
      {"users_with_events", s.users_with_events},
      {"items", s.items},
      {"items_with_events", s.items_with_events},
      {"labels", s.labels},
      {"labelled_items", s.labelled_items},
      {"label_rows", s.label_rows},
      {"events", s.events},
      {"truth_rows", s.truth_rows},
      {"bytes", s.bytes},
  };
  meta["ingest"] = fmt::format("driftrec ingest {} --labels {} --slice {} -o store.h5",
                               in_dir(kSyntheticEventsFile), in_dir(kSyntheticLabelsFile),
                               c.slice_spec());
  return meta;
}

}  // namespace driftrec::graph
