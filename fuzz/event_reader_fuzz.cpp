// libFuzzer harness of io::read_events (the interaction-log reader of `driftrec ingest`).
// Input: two option bytes, then the file. Byte 0 picks the format, header mode and
// on_error; byte 1 the time format, the delimiter and (bit 7) whether the first line of
// the rest is a --columns spec. Whatever the bytes, the reader must either throw
// driftrec::Error or return events whose ids, times and values keep the documented
// invariants; any other exception, crash or sanitizer report is a bug.
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "fuzz/fuzz_util.hpp"
#include "io/event_reader.hpp"

namespace {

using driftrec::io::EventReadOptions;

constexpr std::array<const char*, 5> kFormats = {"auto", "movielens-csv", "movielens-dat", "ml100k", "delimited"};
constexpr std::array<const char*, 3> kHeaders = {"auto", "yes", "no"};
constexpr std::array<const char*, 7> kDelimiters = {"", ",", "tab", ";", "pipe", "::", "space"};
constexpr std::array<driftrec::io::TimeFormat, 4> kTimes = {
    driftrec::io::TimeFormat::auto_detect, driftrec::io::TimeFormat::seconds, driftrec::io::TimeFormat::millis,
    driftrec::io::TimeFormat::iso};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  EventReadOptions o;
  const unsigned b0 = data[0] % 30, b1 = data[1];
  o.format = kFormats[b0 % 5];
  o.header = kHeaders[(b0 / 5) % 3];
  o.on_error = (b0 / 15) ? driftrec::io::OnError::skip : driftrec::io::OnError::fail;
  o.time_format = kTimes[b1 & 3];
  o.delimiter = kDelimiters[((b1 >> 2) & 0x1F) % 7];
  data += 2;
  size -= 2;
  if (b1 & 0x80) {
    std::size_t n = 0;
    while (n < size && data[n] != '\n') ++n;
    o.columns.assign(reinterpret_cast<const char*>(data), n);
    const std::size_t skip = n < size ? n + 1 : n;
    data += skip;
    size -= skip;
  }
  const std::string path = driftrec::fuzz::write_scratch("events.csv", data, size);
  driftrec::io::EventLog log;
  try {
    driftrec::io::validate_event_options(o);
    driftrec::io::read_events(path, o, log);
  } catch (const driftrec::Error&) {
    return 0;
  }
  for (const auto& e : log.events) {
    if (e.user < 0 || e.user >= log.users.size() || e.item < 0 || e.item >= log.items.size()) std::abort();
    if (e.time < driftrec::io::kMinTime || e.time > driftrec::io::kMaxTime) std::abort();
    if (!std::isfinite(e.value)) std::abort();
  }
  return 0;
}
