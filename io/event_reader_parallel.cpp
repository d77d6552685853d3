// read_events_parallel: ingest's reader. The file is cut into one part of whole lines per
// thread; each thread reads its part into its own rows of the columns with ids of its own,
// and the parts' ids are merged in file order afterwards, which numbers them as one reader
// of the whole file would. Any line the plain path does not take (a line to skip or refuse,
// a quoted field...) hands the whole file back to read_events, which reports it.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "core/parallel.hpp"
#include "io/event_layout.hpp"
#include "io/event_reader.hpp"
#include "io/part_ids.hpp"
#include "io/plain_line.hpp"

namespace driftrec::io {
namespace {

// One byte range of a file, read by one thread of read_events_parallel.
struct Part {
  std::uint64_t begin = 0, end = 0;  // bytes [begin, end): whole lines
  std::uint64_t first_row = 0;       // where its rows start in the columns
  std::uint64_t capacity = 0;        // rows reserved for it: its line count
  std::uint64_t rows = 0;            // events read
  std::int64_t lines = 0;            // lines read, blank ones too
  std::optional<TimeFormat> format;  // auto: the format of its first time
  std::int64_t format_line = 0;      // the line of that time within the part (1-based)
  std::int64_t negative_dropped = 0, negative_clipped = 0;
  PartIds users, items;  // the part's own ids, in order of first appearance in it
  bool simple = true;  // false: it has a line to leave to read_events
};

class Fd {
 public:
  explicit Fd(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Bytes [pos, pos + want) of fd into `to`; false on a read error or a short file.
bool read_at(int fd, char* to, std::size_t want, std::uint64_t pos) {
  while (want > 0) {
    const ssize_t got = ::pread(fd, to, want, static_cast<off_t>(pos));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    to += got;
    pos += static_cast<std::uint64_t>(got);
    want -= static_cast<std::size_t>(got);
  }
  return true;
}

// Calls f(line) for each line of bytes [begin, end) of fd (without its \n or \r\n), as
// LineReader cuts them. False when f does, on a read error, or on a line longer than
// kMaxLineBytes (read_events then names the problem).
template <class F>
bool for_each_line(int fd, std::uint64_t begin, std::uint64_t end, F&& f) {
  constexpr std::size_t kBlock = std::size_t{4} << 20;
  static_assert(kBlock > 2 * kMaxLineBytes);
  std::vector<char> buf(kBlock);
  std::uint64_t pos = begin;
  std::size_t have = 0;  // unread bytes at the start of buf
  auto one = [&](const char* s, std::size_t len) {
    if (len > kMaxLineBytes) return false;
    if (len > 0 && s[len - 1] == '\r') --len;
    return f(std::string_view(s, len));
  };
  while (pos < end) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock - have, end - pos));
    if (!read_at(fd, buf.data() + have, want, pos)) return false;
    have += want;
    pos += want;
    std::size_t at = 0;
    for (;;) {
      const char* s = buf.data() + at;
      const auto* nl = static_cast<const char*>(std::memchr(s, '\n', have - at));
      if (nl == nullptr) break;
      if (!one(s, static_cast<std::size_t>(nl - s))) return false;
      at += static_cast<std::size_t>(nl - s) + 1;
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
    if (have > kMaxLineBytes) return false;
  }
  return have == 0 || one(buf.data(), have);  // a last line without its \n
}

// The first line start at or after `pos` (the byte after a \n), or `end`.
std::optional<std::uint64_t> line_start_after(int fd, std::uint64_t pos, std::uint64_t end) {
  if (pos >= end) return end;
  std::vector<char> buf(kMaxLineBytes + 2);
  const std::uint64_t from = pos - 1;  // pos > 0: a part never starts the file
  const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - from));
  if (!read_at(fd, buf.data(), want, from)) return std::nullopt;
  const auto* nl = static_cast<const char*>(std::memchr(buf.data(), '\n', want));
  if (nl == nullptr) return want == end - from ? std::optional<std::uint64_t>(end) : std::nullopt;
  return from + static_cast<std::uint64_t>(nl - buf.data()) + 1;
}

std::optional<std::uint64_t> count_lines(int fd, std::uint64_t begin, std::uint64_t end) {
  constexpr std::size_t kBlock = std::size_t{1} << 20;
  std::vector<char> buf(kBlock);
  std::uint64_t lines = 1;  // a last line without its \n
  for (std::uint64_t pos = begin; pos < end;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, end - pos));
    if (!read_at(fd, buf.data(), want, pos)) return std::nullopt;
    lines += static_cast<std::uint64_t>(std::count(buf.data(), buf.data() + want, '\n'));
    pos += want;
  }
  return lines;
}

// Reads the lines of one part into rows [first_row, first_row + capacity) of `out`, with
// the part's own ids. Returns false at the first line read_events would not read as a
// plain event (it then reads the whole file and reports or skips that line).
bool read_part(int fd, const Layout& L, const EventReadOptions& o, Part& part, graph::EventColumns& out,
               const std::atomic<bool>& stop) {
  std::vector<std::string_view> f;
  std::string scratch;
  std::string last_user;
  Index last_user_code = -1;
  const bool auto_time = L.time_format == TimeFormat::auto_detect;
  // The plain path (io/plain_line.hpp) where it gives what the general functions would.
  const bool plain_delim = L.delim.size() == 1 && L.delim[0] != '"';
  const bool plain_time = L.time_format != TimeFormat::iso;
  std::uint64_t row = part.first_row;
  const std::uint64_t row_end = part.first_row + part.capacity;
  const bool simple = for_each_line(fd, part.begin, part.end, [&](std::string_view line) {
    ++part.lines;
    if (line.empty() || trim(line).empty()) return true;
    if ((part.lines & 0xFFFF) == 0 && stop.load(std::memory_order_relaxed)) return false;
    if (L.header && line == L.header_line) return false;
    const bool plain = plain_delim && split_plain(line, L.delim[0], f);
    if (!plain && !split_fields(line, L.delim, f, scratch)) return false;
    if (f.size() != L.n_fields) return false;
    std::string_view u = f[L.col[kUser]], i = f[L.col[kItem]], t = f[L.col[kTime]];
    if (plain) {
      if (u.empty() || i.empty() || u.size() > kMaxIdBytes || i.size() > kMaxIdBytes) return false;
    } else {
      u = trim(u);
      i = trim(i);
      t = trim(t);
      if (!id_problem(u).empty() || !id_problem(i).empty()) return false;
    }
    TimeFormat own;
    graph::Time time;
    std::int64_t number = 0;
    if (plain && plain_time && plain_integer(t, number)) {
      // detect_time_format's rule for an integer: milliseconds from 10^11 on.
      own = auto_time ? (number >= 100000000000LL || number <= -100000000000LL ? TimeFormat::millis : TimeFormat::seconds)
                      : L.time_format;
      time = own == TimeFormat::millis ? number / 1000 - (number % 1000 < 0 ? 1 : 0) : number;
      if (time < kMinTime || time > kMaxTime) return false;
    } else {
      own = auto_time ? detect_time_format(t) : L.time_format;
      bool out_of_range = false;
      const std::optional<graph::Time> parsed = parse_time(t, own, out_of_range);
      if (!parsed) return false;
      time = *parsed;
    }
    if (auto_time) {
      if (!part.format) {
        part.format = own;
        part.format_line = part.lines;
      } else if (own != *part.format) {
        return false;
      }
    }
    float value = 1.0f;
    if (L.col[kValue] >= 0) {
      const std::string_view v = plain ? f[L.col[kValue]] : trim(f[L.col[kValue]]);
      if (!plain || !plain_count(v, value)) {
        double parsed = 0;
        if (!parse_number(v, parsed)) return false;
        const ValueCheck check = check_value(parsed, o.negative);
        if (check.kind == ValueCheck::bad) return false;
        if (check.kind == ValueCheck::drop) {
          ++part.negative_dropped;
          return true;
        }
        part.negative_clipped += check.clipped;
        value = check.value;
        if (!check.clipped) parse_finite_float(v, value);
      }
    }
    if (u != last_user) {
      last_user_code = static_cast<Index>(part.users.code(u));
      last_user.assign(u);
    }
    DRIFTREC_ASSERT(row < row_end);
    out.time[row] = time;
    out.user[row] = last_user_code;
    out.item[row] = static_cast<Index>(part.items.code(i));
    out.value[row] = value;
    ++row;
    ++part.rows;
    return true;
  });
  if (!simple) return false;
  part.users.resolve(out.user.data() + part.first_row, part.rows);
  part.items.resolve(out.item.data() + part.first_row, part.rows);
  return true;
}

// Local ids of the parts -> the log's: each part's ids in their order of first appearance,
// parts in file order, which is the order one reader of the whole file would number them.
// An empty map for a part means its local ids are the log's already.
std::vector<std::vector<Index>> merge_ids(std::vector<Part>& parts, IdMap& global, PartIds Part::*local) {
  std::vector<std::vector<Index>> map(parts.size());
  for (std::size_t p = 0; p < parts.size(); ++p) {
    PartIds& m = parts[p].*local;
    const Index before = global.size();
    auto& to = map[p];
    to.resize(static_cast<std::size_t>(m.size()));
    bool same = true;
    for (Index j = 0; j < m.size(); ++j) {
      const Index g = global.find_or_add(m.name(j));
      to[static_cast<std::size_t>(j)] = g;
      same = same && g == j;
    }
    if (same && before == 0) to.clear();  // the first part of the first file: nothing to rewrite
    m = PartIds();
  }
  return map;
}

}  // namespace

bool read_events_parallel(const std::string& path, const EventReadOptions& o, int threads, EventLog& log,
                          graph::EventColumns& out, std::uint64_t min_part_bytes) {
  core::check_threads(threads);
  Layout L;
  std::uint64_t data_begin = 0, size = 0;
  std::int64_t base_line = 0;  // lines before data_begin
  {
    LineReader reader(path);
    std::string_view line;
    std::uint64_t before = 0;
    bool any = false;
    for (;;) {
      before = reader.bytes_consumed();
      if (!reader.next(line)) break;
      if (!trim(line).empty()) {
        any = true;
        break;
      }
    }
    if (!any) return false;  // read_events says the file is empty
    L = resolve_layout(path, line, reader.line_number(), o);
    size = reader.file_size();
    data_begin = L.header ? reader.bytes_consumed() : before;
    base_line = L.header ? reader.line_number() : reader.line_number() - 1;
  }
  if (L.delim.size() != 1) return false;
  Fd fd(path);
  if (fd.get() < 0) return false;
  if (data_begin == 0 && size >= 3) {  // LineReader drops a byte order mark
    char head[3];
    if (!read_at(fd.get(), head, 3, 0)) return false;
    if (std::string_view(head, 3) == "\xEF\xBB\xBF") data_begin = 3;
  }

  // Parts of whole lines, one a thread; a small file is one part.
  const int team = core::thread_count(threads);
  const std::uint64_t bytes = size - data_begin;
  const std::size_t n_parts = bytes < min_part_bytes ? 1 : static_cast<std::size_t>(team);
  std::vector<Part> parts(n_parts);
  std::uint64_t at = data_begin;
  for (std::size_t p = 0; p < n_parts; ++p) {
    parts[p].begin = at;
    if (p + 1 == n_parts) {
      at = size;
    } else {
      const auto cut = line_start_after(fd.get(), std::max(at, data_begin + bytes * (p + 1) / n_parts), size);
      if (!cut) return false;
      at = *cut;
    }
    parts[p].end = at;
  }
  core::ParallelFor per_part{threads, core::Schedule::dynamic};
  per_part.parallel = n_parts > 1;
  std::atomic<bool> failed{false};
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    Part& part = parts[static_cast<std::size_t>(p)];
    const auto lines = count_lines(fd.get(), part.begin, part.end);
    if (!lines) failed = true;
    part.capacity = lines.value_or(0);
  });
  if (failed) return false;

  const std::size_t old_rows = out.size();
  std::uint64_t rows = old_rows;
  for (Part& part : parts) {
    part.first_row = rows;
    rows += part.capacity;
  }
  out.time.resize(rows);
  out.user.resize(rows);
  out.item.resize(rows);
  out.value.resize(rows);
  auto give_up = [&] {
    out.time.resize(old_rows);
    out.user.resize(old_rows);
    out.item.resize(old_rows);
    out.value.resize(old_rows);
    return false;
  };
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    Part& part = parts[static_cast<std::size_t>(p)];
    part.simple = read_part(fd.get(), L, o, part, out, failed);
    if (!part.simple) failed = true;
  });
  if (failed) return give_up();
  // "auto": every time of the file in the format of its first one, as read_events wants.
  const Part* first_timed = nullptr;
  for (const Part& part : parts)
    if (part.format) {
      if (first_timed && *part.format != *first_timed->format) return give_up();
      if (!first_timed) first_timed = &part;
    }

  // Commit: global ids, then the rows of the parts made contiguous.
  const auto user_map = merge_ids(parts, log.users, &Part::users);
  const auto item_map = merge_ids(parts, log.items, &Part::items);
  core::parallel_for(static_cast<std::int64_t>(n_parts), per_part, [&](std::int64_t p) {
    const Part& part = parts[static_cast<std::size_t>(p)];
    const auto& um = user_map[static_cast<std::size_t>(p)];
    const auto& im = item_map[static_cast<std::size_t>(p)];
    for (std::uint64_t r = part.first_row; r < part.first_row + part.rows; ++r) {
      if (!um.empty()) out.user[r] = um[static_cast<std::size_t>(out.user[r])];
      if (!im.empty()) out.item[r] = im[static_cast<std::size_t>(out.item[r])];
    }
  });
  std::uint64_t to = old_rows;
  std::int64_t lines = base_line, format_line = 0;
  for (const Part& part : parts) {
    if (&part == first_timed) format_line = lines + part.format_line;
    lines += part.lines;
    if (part.first_row != to) {
      const auto from = static_cast<std::ptrdiff_t>(part.first_row), n = static_cast<std::ptrdiff_t>(part.rows);
      const auto dst = static_cast<std::ptrdiff_t>(to);
      std::copy(out.time.begin() + from, out.time.begin() + from + n, out.time.begin() + dst);
      std::copy(out.user.begin() + from, out.user.begin() + from + n, out.user.begin() + dst);
      std::copy(out.item.begin() + from, out.item.begin() + from + n, out.item.begin() + dst);
      std::copy(out.value.begin() + from, out.value.begin() + from + n, out.value.begin() + dst);
    }
    to += part.rows;
    log.negative_dropped += part.negative_dropped;
    log.negative_clipped += part.negative_clipped;
  }
  out.time.resize(to);
  out.user.resize(to);
  out.item.resize(to);
  out.value.resize(to);
  if (L.col[kValue] < 0) log.has_value = false;
  if (first_timed)
    log.notes.push_back(fmt::format("{}: times read as {} (detected at line {}; every line checked to agree)", path,
                                    describe(*first_timed->format), format_line));
  log.notes.push_back(fmt::format("{}: format {}, {} lines{}", path, L.format, lines, L.header ? " with a header" : ""));
  if (o.progress) o.progress(size, size);
  return true;
}


}  // namespace driftrec::io
