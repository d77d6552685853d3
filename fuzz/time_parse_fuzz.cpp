// libFuzzer harness of io/time_parse (the time fields of every log): the whole input is
// one field, parsed in every format after format detection. Properties checked beyond
// "no crash": a parsed time lies in [kMinTime, kMaxTime]; a field flagged out of range
// gives no time; and every parsed time survives the round trip through the ISO-8601 form
// `driftrec info` prints (io::format_time) and parse_iso8601.
#include <cstdlib>
#include <string_view>

#include "core/error.hpp"
#include "io/store_info.hpp"
#include "io/time_parse.hpp"

namespace {

using driftrec::io::TimeFormat;

void check(std::string_view field, TimeFormat f) {
  bool out_of_range = true;
  const auto t = driftrec::io::parse_time(field, f, out_of_range);
  if (t && out_of_range) std::abort();
  if (!t) return;
  if (*t < driftrec::io::kMinTime || *t > driftrec::io::kMaxTime) std::abort();
  const std::string iso = driftrec::io::format_time(*t);
  const auto back = driftrec::io::parse_iso8601(iso);
  if (!back || *back != *t) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view field(reinterpret_cast<const char*>(data), size);
  const TimeFormat detected = driftrec::io::detect_time_format(field);
  if (detected == TimeFormat::auto_detect) std::abort();  // detection always decides
  check(field, detected);
  for (TimeFormat f : {TimeFormat::seconds, TimeFormat::millis, TimeFormat::iso}) check(field, f);
  (void)driftrec::io::parse_iso8601(field);
  try {
    (void)driftrec::io::to_string(driftrec::io::parse_time_format(field));
  } catch (const driftrec::Error&) {
  }
  return 0;
}
