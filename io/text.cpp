#include "io/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace driftrec::io {

OnError parse_on_error(std::string_view s) {
  if (s == "fail") return OnError::fail;
  if (s == "skip") return OnError::skip;
  throw InputError(fmt::format("--on-error: expected 'fail' or 'skip', found '{}'", s));
}

std::string excerpt(std::string_view s) {
  std::string out;
  std::size_t n = std::min<std::size_t>(s.size(), 60);
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f)
      out.push_back(static_cast<char>(c));
    else
      out += fmt::format("\\x{:02x}", c);
  }
  if (s.size() > n) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

void SkipReport::add(const std::string& reason, const std::string& where) {
  auto [it, fresh] = reasons_.try_emplace(reason, 0, where);
  ++it->second.first;
  ++total_;
}

std::string SkipReport::summary() const {
  std::string s = fmt::format("skipped {} line{}", total_, total_ == 1 ? "" : "s");
  const char* sep = ": ";
  for (const auto& [reason, info] : reasons_) {
    s += fmt::format("{}{} x {} (first at {})", sep, info.first, reason, info.second);
    sep = "; ";
  }
  return s;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0)
    throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd_, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd_);
      throw InputError(fmt::format("{}: is a directory, expected a file", path));
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  // 8 MiB, or less for a smaller regular file: zeroing 8 MiB for a label file of a few
  // lines cost more than reading it (the fuzzers read thousands of small files a second).
  constexpr std::uint64_t kBuffer = std::uint64_t{8} << 20;
  const bool small = S_ISREG(st.st_mode) && size_ < kBuffer;
  buf_.resize(small ? std::max<std::size_t>(size_ + 1, 4096) : kBuffer);
  ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

LineReader::~LineReader() {
  if (fd_ >= 0) ::close(fd_);
}

std::string LineReader::where() const { return fmt::format("{}:{}", path_, line_no_); }

bool LineReader::refill() {
  if (eof_) return false;
  if (begin_ > 0) {  // keep the partial line, move it to the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  ssize_t got;
  do {
    got = ::read(fd_, buf_.data() + end_, buf_.size() - end_);
  } while (got < 0 && errno == EINTR);
  if (got < 0) throw InputError(fmt::format("{}: read failed: {}", path_, std::strerror(errno)));
  if (got == 0) eof_ = true;
  end_ += static_cast<std::size_t>(got);
  return got > 0;
}

std::string not_text_kind(std::string_view head) {
  struct Magic {
    std::string_view bytes;
    const char* kind;
  };
  static constexpr Magic kMagic[] = {
      {"\x1f\x8b", "a gzip-compressed file; decompress it first (gunzip -k FILE)"},
      {"\x89HDF\r\n\x1a\n", "an HDF5 file (a driftrec store? `driftrec info` describes one), not a text log"},
      {"PK\x03\x04", "a zip archive; extract the text file first"},
      {"BZh", "a bzip2-compressed file; decompress it first (bunzip2 -k FILE)"},
      {"\xfd" "7zXZ", "an xz-compressed file; decompress it first (unxz -k FILE)"},
      {"\x28\xb5\x2f\xfd", "a zstd-compressed file; decompress it first (unzstd FILE)"},
      {"\xff\xfe", "UTF-16 text (little-endian byte order mark); convert it to UTF-8 first "
                   "(iconv -f UTF-16 -t UTF-8)"},
      {"\xfe\xff", "UTF-16 text (big-endian byte order mark); convert it to UTF-8 first "
                   "(iconv -f UTF-16 -t UTF-8)"},
  };
  for (const Magic& m : kMagic)
    if (head.starts_with(m.bytes)) return m.kind;
  return "";
}

bool LineReader::next(std::string_view& line) {
  if (!head_checked_) {
    head_checked_ = true;
    while (end_ - begin_ < 8 && refill()) {
    }
    if (const std::string kind = not_text_kind(std::string_view(buf_.data() + begin_, end_ - begin_)); !kind.empty())
      throw InputError(fmt::format("{}: is {}", path_, kind));
  }
  for (;;) {
    const char* start = buf_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    const void* nl = std::memchr(start, '\n', avail);
    if (nl == nullptr && !eof_) {
      if (avail > kMaxLineBytes) {
        ++line_no_;
        throw InputError(fmt::format("{}: line longer than {} bytes (missing line breaks or a "
                                     "binary file?)",
                                     where(), kMaxLineBytes));
      }
      refill();  // may move the buffer: look again
      continue;
    }
    std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start) : avail;
    if (nl == nullptr && len == 0) return false;  // end of file
    ++line_no_;
    if (len > kMaxLineBytes)
      throw InputError(fmt::format("{}: line longer than {} bytes", where(), kMaxLineBytes));
    const std::size_t used = len + (nl ? 1 : 0);
    begin_ += used;
    consumed_ += used;
    if (len > 0 && start[len - 1] == '\r') --len;
    line = std::string_view(start, len);
    if (line_no_ == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    return true;
  }
}

bool split_fields(std::string_view line, std::string_view delim,
                  std::vector<std::string_view>& fields, std::string& scratch) {
  fields.clear();
  const bool quotes = delim.size() == 1;
  scratch.clear();
  scratch.reserve(line.size());  // views into scratch must not move
  std::size_t pos = 0;
  for (;;) {
    if (quotes && pos < line.size() && line[pos] == '"') {
      std::size_t start = scratch.size();
      std::size_t i = pos + 1;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            scratch.push_back('"');
            i += 2;
            continue;
          }
          break;
        }
        scratch.push_back(line[i++]);
      }
      fields.emplace_back(scratch.data() + start, scratch.size() - start);
      pos = i + 1;  // after the closing quote; the delimiter (or end) must follow
      if (pos == line.size()) return true;
      if (line.compare(pos, delim.size(), delim) != 0) return false;
      pos += delim.size();
      continue;
    }
    std::size_t next = line.find(delim, pos);
    if (next == std::string_view::npos) {
      fields.push_back(line.substr(pos));
      return true;
    }
    fields.push_back(line.substr(pos, next - pos));
    pos = next + delim.size();
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool parse_int64(std::string_view s, std::int64_t& out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

bool parse_finite_float(std::string_view s, float& out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty() && std::isfinite(out);
}

bool parse_number(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (s.empty() || p != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Overflow or underflow: strtod on a copy tells which.
    const double v = std::strtod(std::string(s).c_str(), nullptr);
    out = std::isinf(v) ? std::copysign(std::numeric_limits<double>::max(), v) : 0.0;
    return true;
  }
  return ec == std::errc();
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) { ++p; continue; }
    int extra;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) { extra = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= extra) return false;
    for (int k = 1; k <= extra; ++k) {
      if ((p[k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3F);
    }
    // Reject overlong forms, surrogates and code points past U+10FFFF.
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

std::string id_problem(std::string_view id) {
  if (id.empty()) return "expected a non-empty id";
  if (id.size() > kMaxIdBytes) return fmt::format("expected an id of at most {} bytes", kMaxIdBytes);
  if (!valid_utf8(id)) return "expected an id in UTF-8";
  if (id.find('\0') != std::string_view::npos) return "expected an id without NUL bytes";
  return {};
}

}  // namespace driftrec::io
