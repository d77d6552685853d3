// Reading delimited text fast and reporting bad input precisely.
// LineReader hands out lines as views into a large read buffer (no copy per line);
// split_fields cuts a line into fields, honouring RFC 4180 quotes. Every error names
// the file, the line and the field, and what was expected and found.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "graph/types.hpp"

namespace driftrec::io {


// Longer lines are rejected: no log we read has them, and a missing newline in a huge
// file would otherwise grow the buffer without bound.
inline constexpr std::size_t kMaxLineBytes = 1 << 20;
// Ids are stored as fixed-length strings as wide as the longest one (see io/hdf5.hpp).
inline constexpr std::size_t kMaxIdBytes = 1024;

enum class OnError { fail, skip };
OnError parse_on_error(std::string_view s);  // "fail" | "skip"

// Callback for progress on long reads: bytes done, bytes total.
using ProgressFn = std::function<void(std::uint64_t done, std::uint64_t total)>;

// Printable excerpt of a field for messages: at most 60 bytes, non-printing bytes as \xNN.
std::string excerpt(std::string_view s);

// Counts of skipped lines per reason, each with the first place it happened.
class SkipReport {
 public:
  void add(const std::string& reason, const std::string& where);
  std::int64_t total() const { return total_; }
  bool empty() const { return total_ == 0; }
  // "skipped 3 lines: 2 x bad number in 'rating' (first at f.csv:7); ..."
  std::string summary() const;
  const std::map<std::string, std::pair<std::int64_t, std::string>>& reasons() const { return reasons_; }

 private:
  std::map<std::string, std::pair<std::int64_t, std::string>> reasons_;
  std::int64_t total_ = 0;
};

// A bad field on a line. `reason` is the short form used for skip counts.
struct FieldError {
  std::string reason;   // e.g. "bad number in 'rating'"
  std::string message;  // full sentence after "file:line: "
};

// What a file starting with `head` is when it is plainly not a text file driftrec reads:
// "a gzip-compressed file (decompress it first, e.g. gunzip -k FILE)", an HDF5 file, other
// archives, UTF-16 text (by its byte order mark); "" otherwise.
std::string not_text_kind(std::string_view head);

class LineReader {
 public:
  explicit LineReader(const std::string& path);  // throws InputError if it cannot be read
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Next line without its end-of-line (\n or \r\n); false at end of file. A UTF-8 byte
  // order mark at the start of the file is dropped. Throws InputError for a line longer
  // than kMaxLineBytes, a read failure, or a file that not_text_kind names (on the first
  // call).
  bool next(std::string_view& line);
  std::int64_t line_number() const { return line_no_; }
  const std::string& path() const { return path_; }
  std::string where() const;  // "path:line"
  std::uint64_t bytes_consumed() const { return consumed_; }
  std::uint64_t file_size() const { return size_; }

 private:
  bool refill();
  std::string path_;
  int fd_ = -1;
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes are buf_[begin_, end_)
  bool eof_ = false;
  bool head_checked_ = false;
  std::int64_t line_no_ = 0;
  std::uint64_t consumed_ = 0, size_ = 0;
};

// Splits `line` at `delim` (one or more bytes). With a one-byte delimiter a field that
// starts with '"' is quoted ("" inside is a quote); its unescaped text may live in
// `scratch`, which is overwritten. Returns false for an unterminated quote or text after
// a closing quote.
bool split_fields(std::string_view line, std::string_view delim,
                  std::vector<std::string_view>& fields, std::string& scratch);

std::string_view trim(std::string_view s);
std::string ascii_lower(std::string_view s);
bool parse_int64(std::string_view s, std::int64_t& out);
bool parse_finite_float(std::string_view s, float& out);
// A decimal number as a double (nan and inf included, as from_chars spells them). A
// magnitude beyond double's range reads as +-DBL_MAX and one below it as 0, so that the
// caller can say "too large" rather than "not a number".
bool parse_number(std::string_view s, double& out);
bool valid_utf8(std::string_view s);

// Checks an id field: non-empty, at most kMaxIdBytes, valid UTF-8. Returns the problem
// or an empty string.
std::string id_problem(std::string_view id);

}  // namespace driftrec::io
