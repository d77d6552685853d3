#include "pipeline/export.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "io/atomic_file.hpp"
#include "io/factors_result.hpp"
#include "io/id_map.hpp"
#include "io/sequence_result.hpp"
#include "io/store.hpp"
#include "io/table_file.hpp"
#include "temporal/label_ranking.hpp"
#include "io/text.hpp"
#include "pipeline/ranking.hpp"

namespace driftrec::pipeline {
namespace mf = matrix_factorization;
using graph::Index;

namespace {

enum class What { recommendations, interests, similar_items };

What parse_what(const std::string& s) {
  if (s == "recommendations") return What::recommendations;
  if (s == "interests") return What::interests;
  if (s == "similar-items") return What::similar_items;
  throw InputError(fmt::format("what '{}': expected recommendations, interests or similar-items", s));
}

void check_request(const ExportRequest& q, What what) {
  if (q.k < 1) throw InputError(fmt::format("k: expected 1 or more, got {}", q.k));
  if (q.format != "csv" && q.format != "hdf5")
    throw InputError(fmt::format("format '{}': expected csv or hdf5", q.format));
  if (q.chunk < 1) throw InputError(fmt::format("chunk: expected 1 or more users, got {}", q.chunk));
  core::check_threads(q.threads);
  if (q.out.empty()) throw InputError("out: expected the path of the file to write");
  if (what == What::similar_items && q.users != "all")
    throw InputError("users: similar-items exports every item; give no users file");
  if (what != What::recommendations && (q.include_seen || !q.filter_items.empty()))
    throw InputError(fmt::format("{}: include_seen and filter_items apply to recommendations only",
                                 q.include_seen ? "include_seen" : "filter_items"));
  if (q.full && what != What::interests) throw InputError("full: applies to interests only");
  if (q.users != "all" && !std::filesystem::is_regular_file(q.users))
    throw InputError(fmt::format("users '{}': expected all or a file of user ids, one per line", q.users));
}

// The rows to export: every user, or the users of a file in its order (blank lines skipped).
std::vector<Index> user_rows(const std::string& spec, const std::vector<std::string>& ids) {
  std::vector<Index> rows;
  if (spec == "all") {
    rows.resize(ids.size());
    std::iota(rows.begin(), rows.end(), Index{0});
    return rows;
  }
  const io::IdMap map = io::IdMap::from_names(ids);
  io::LineReader r(spec);
  std::string_view line;
  while (r.next(line)) {
    const std::string_view id = io::trim(line);
    if (id.empty()) continue;
    const Index u = map.find(id);
    if (u < 0) throw InputError(fmt::format("users: {}: no user '{}' in the store", r.where(), id));
    rows.push_back(u);
  }
  return rows;
}

// A CSV field: quoted (RFC 4180) when it holds a comma, a quote or a line break.
void put_field(std::string& out, const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// Where the rows go: a CSV file or HDF5 tables; chunks arrive in row order.
class Output {
 public:
  virtual ~Output() = default;
  // Rows [first, first + count) of every table, row-major over `cols` values each.
  virtual void rows(std::int64_t first, std::int64_t count, const std::vector<std::string>& csv_lines,
                    const std::vector<std::pair<std::string, const void*>>& tables) = 0;
  virtual void close() = 0;
};

class CsvOutput : public Output {
 public:
  CsvOutput(const std::string& path, const std::string& header) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) throw std::runtime_error(fmt::format("cannot create {}", path));
    put(header + "\n");
  }
  ~CsvOutput() override {
    if (file_) std::fclose(file_);
  }
  void rows(std::int64_t, std::int64_t, const std::vector<std::string>& lines,
            const std::vector<std::pair<std::string, const void*>>&) override {
    for (const std::string& s : lines) put(s);
  }
  void close() override {
    const bool ok = std::fflush(file_) == 0 && std::ferror(file_) == 0;
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok || !closed) throw std::runtime_error(fmt::format("cannot write {} (disk full?)", path_));
  }

 private:
  void put(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), file_) != s.size())
      throw std::runtime_error(fmt::format("cannot write {} (disk full?)", path_));
  }
  std::string path_;
  std::FILE* file_;
};

class HdfOutput : public Output {
 public:
  explicit HdfOutput(const std::string& path) : file(path) {}
  void rows(std::int64_t first, std::int64_t count, const std::vector<std::string>&,
            const std::vector<std::pair<std::string, const void*>>& tables) override {
    for (const auto& [name, data] : tables)
      file.write_rows(name, static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(count), data);
  }
  void close() override { file.close(); }
  io::TableFile file;
};

std::string fmt_float(float x) { return fmt::format("{}", x); }

}  // namespace

ExportSummary export_store(const ExportRequest& q) {
  const auto start = std::chrono::steady_clock::now();
  const What what = parse_what(q.what);
  check_request(q, what);
  const io::Store store = io::Store::open(q.store);
  const bool csv = q.format == "csv";

  ExportSummary s;
  s.store = q.store;
  s.what = q.what;
  s.model = q.model;
  s.format = q.format;
  s.out = q.out;
  s.threads = core::thread_count(q.threads);
  // Recommendations: UserRanking names the kind ("ranker" is no stored result).
  if (what != What::recommendations) s.kind = io::result_kind(store, q.model);

  // What each kind needs, read and checked before the output is created.
  std::optional<UserRanking> ranking;
  std::optional<io::SequenceResult> sequence;
  History history;
  mf::Factors unit;
  mf::PackedItems packed;
  graph::CsrMatrix self;  // similar-items: each item excludes itself
  int width = q.k;        // values per row
  if (what == What::recommendations) {
    RankingOptions o;
    o.result = q.model;
    o.include_seen = q.include_seen;
    o.filter_items = q.filter_items;
    o.threads = q.threads;
    ranking.emplace(store, o);
    ranking->check_k(q.k);
    s.kind = ranking->kind();
    s.ranked_by = ranking->ranked_by();
    s.period = ranking->period();
    s.quiet_users = ranking->quiet_users();
  } else if (what == What::interests) {
    if (s.kind != "sequence_model")
      throw InputError(fmt::format("model: interests come from a train result (sequence_model); '{}' is {}", q.model,
                                   s.kind));
    sequence = io::read_sequence_result(store, q.model);
    s.ranked_by = sequence->interests;
    s.period = store.n_slices() - 1;
    history = user_history(store, store.periods().end[s.period]);
    width = q.full ? static_cast<int>(store.n_labels()) : std::min<int>(q.k, static_cast<int>(store.n_labels()));
  } else {
    if (s.kind != "temporal_als")
      throw InputError(fmt::format("model: similar items come from a factorize result (temporal_als); '{}' is {}",
                                   q.model, s.kind));
    io::StoredFactors f = io::read_factors(store, q.model);
    s.ranked_by = "cosine";
    s.period = f.period;
    unit = mf::unit_rows(f.model.item);
    packed = mf::PackedItems(unit.data(), static_cast<Index>(unit.rows()), static_cast<int>(unit.cols()));
    self.n_rows = self.n_cols = store.n_items();
    self.indptr.resize(static_cast<std::size_t>(store.n_items()) + 1);
    std::iota(self.indptr.begin(), self.indptr.end(), graph::Offset{0});
    self.indices.resize(static_cast<std::size_t>(store.n_items()));
    std::iota(self.indices.begin(), self.indices.end(), Index{0});
    self.data.assign(self.indices.size(), 1.0f);
  }
  s.k = width;
  const std::vector<std::string> user_ids = store.users(), item_ids = store.items();
  const std::vector<std::string> titles = store.item_titles(), label_names = store.labels();
  const graph::CsrMatrix item_labels = what == What::interests ? store.item_labels() : graph::CsrMatrix{};
  const std::vector<Index> rows = what == What::similar_items ? user_rows("all", item_ids) : user_rows(q.users, user_ids);
  s.rows = static_cast<std::int64_t>(rows.size());

  // The store, the users file and the items filter are inputs: an output onto one of
  // them is refused rather than replacing it.
  io::AtomicFile target(q.out, q.force, {q.store, q.users, q.filter_items});
  std::unique_ptr<Output> out;
  const char* header = what == What::recommendations ? "user,rank,item,title,score,period"
                       : what == What::similar_items ? "item,rank,similar_item,title,cosine"
                       : q.full                      ? "user,label,probability,new"
                                                     : "user,rank,label,probability,new";
  const auto n_rows = static_cast<std::uint64_t>(rows.size());
  const auto cols = static_cast<std::uint64_t>(width);
  if (csv) {
    out = std::make_unique<CsvOutput>(target.temp_path(), header);
  } else {
    auto h = std::make_unique<HdfOutput>(target.temp_path());
    io::TableFile& t = h->file;
    std::vector<std::string> row_ids;
    row_ids.reserve(rows.size());
    for (Index r : rows) row_ids.push_back(what == What::similar_items ? item_ids[r] : user_ids[r]);
    t.add_strings(what == What::similar_items ? "row_ids" : "user_ids", row_ids);
    t.add_strings("item_ids", item_ids);
    if (store.has_titles()) t.add_strings("item_titles", titles);
    if (what == What::interests) {
      t.add_strings("label_names", label_names);
      if (!q.full) t.add("labels", io::TableFile::Type::int32, n_rows, cols);
      t.add("probability", io::TableFile::Type::float32, n_rows, cols);
      t.add("new", io::TableFile::Type::int8, n_rows, cols);
    } else {
      t.add("items", io::TableFile::Type::int32, n_rows, cols);
      t.add("scores", io::TableFile::Type::float32, n_rows, cols);
      if (what == What::recommendations) t.add("period", io::TableFile::Type::int32, n_rows, 0);
    }
    t.attr("what", q.what);
    t.attr("model", q.model);
    t.attr("kind", s.kind);
    t.attr("ranked_by", s.ranked_by);
    t.attr("k", static_cast<std::int64_t>(width));
    t.attr("period", static_cast<std::int64_t>(s.period));
    t.attr("store", q.store);
    out = std::move(h);
  }

  // One chunk's buffers, reused: memory is a chunk's, whatever the number of users.
  const std::int64_t chunk = q.chunk;
  std::vector<Index> items(static_cast<std::size_t>(chunk) * cols);
  std::vector<float> scores(items.size());
  std::vector<std::int8_t> is_new(items.size());
  std::vector<std::int32_t> periods(static_cast<std::size_t>(chunk));
  std::vector<std::string> lines(csv ? static_cast<std::size_t>(chunk) : 0);
  core::ParallelFor pf;
  pf.threads = q.threads;
  pf.schedule = core::Schedule::dynamic;
  pf.chunk = 64;
  for (std::int64_t first = 0; first < s.rows; first += chunk) {
    const std::int64_t count = std::min(chunk, s.rows - first);
    const std::span<const Index> block(rows.data() + first, static_cast<std::size_t>(count));
    if (what == What::recommendations) {
      ranking->rank(block, width, items.data(), scores.data(), periods.data());
    } else if (what == What::similar_items) {
      mf::Exclusions ex;
      ex.seen = &self;
      ex.rows = block;
      mf::Factors queries(count, unit.cols());
      for (std::int64_t r = 0; r < count; ++r) queries.row(r) = unit.row(block[static_cast<std::size_t>(r)]);
      mf::top_k_dot(queries.data(), count, packed, ex, width, items.data(), scores.data(), q.threads);
    }
    if (what == What::interests || csv) {
      core::parallel_for(count, pf, [&](std::int64_t r) {
        const Index u = block[static_cast<std::size_t>(r)];
        const std::size_t base = static_cast<std::size_t>(r) * cols;
        if (what == What::interests) {
          const auto& p = sequence->next_interests;
          const auto row = history.seen.indices.begin();
          const std::vector<std::uint8_t> had = labels_had(
              std::span<const Index>(&*(row + history.seen.indptr[u]),
                                     static_cast<std::size_t>(history.seen.row_length(u))),
              item_labels);
          std::vector<Index> order(static_cast<std::size_t>(p.cols()));
          std::iota(order.begin(), order.end(), Index{0});
          if (!q.full)  // as predict ranks them (temporal/label_ranking.hpp)
            order = temporal::ranked_labels(std::span<const float>(p.row(u).data(), order.size()), had,
                                            static_cast<float>(sequence->new_label_boost), order.size());
          for (int j = 0; j < width; ++j) {
            const Index l = order[static_cast<std::size_t>(j)];
            items[base + j] = l;
            scores[base + j] = p(u, l);
            is_new[base + j] = had[static_cast<std::size_t>(l)] ? 0 : 1;
          }
        }
        if (!csv) return;
        std::string& line = lines[static_cast<std::size_t>(r)];
        line.clear();
        const std::string& id = what == What::similar_items ? item_ids[u] : user_ids[u];
        for (int j = 0; j < width; ++j) {
          const Index i = items[base + j];
          if (i < 0) break;
          put_field(line, id);
          if (what == What::interests) {
            if (!q.full) line += fmt::format(",{}", j + 1);
            line += ',';
            put_field(line, label_names[static_cast<std::size_t>(i)]);
            line += fmt::format(",{},{}\n", fmt_float(scores[base + j]), is_new[base + j] ? 1 : 0);
          } else {
            line += fmt::format(",{},", j + 1);
            put_field(line, item_ids[static_cast<std::size_t>(i)]);
            line += ',';
            if (store.has_titles()) put_field(line, titles[static_cast<std::size_t>(i)]);
            line += ',' + fmt_float(scores[base + j]);
            if (what == What::recommendations) line += fmt::format(",{}", periods[static_cast<std::size_t>(r)]);
            line += '\n';
          }
        }
      });
    }
    for (std::int64_t r = 0; r < count; ++r)
      for (int j = 0; j < width; ++j) s.lines += items[static_cast<std::size_t>(r) * cols + j] >= 0;
    if (csv) lines.resize(static_cast<std::size_t>(count));
    std::vector<std::pair<std::string, const void*>> tables;
    if (what == What::interests) {
      if (!q.full) tables.push_back({"labels", items.data()});
      tables.push_back({"probability", scores.data()});
      tables.push_back({"new", is_new.data()});
    } else {
      tables.push_back({"items", items.data()});
      tables.push_back({"scores", scores.data()});
      if (what == What::recommendations) tables.push_back({"period", periods.data()});
    }
    out->rows(first, count, lines, tables);
    if (q.progress) q.progress("export", static_cast<std::uint64_t>(first + count), static_cast<std::uint64_t>(s.rows));
  }
  out->close();
  target.commit();
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

nlohmann::json ExportSummary::to_json() const {
  return {{"store", store},   {"what", what},       {"model", model},         {"kind", kind}, {"ranked_by", ranked_by},
          {"format", format}, {"out", out},         {"k", k},                 {"period", period},
          {"rows", rows},     {"lines", lines},     {"quiet_users", quiet_users}, {"threads", threads},
          {"seconds", seconds}, {"rows_per_second", rows_per_second()}};
}

}  // namespace driftrec::pipeline
