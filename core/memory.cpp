#include "core/memory.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"

namespace driftrec::core {

std::uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("MemAvailable:")) continue;
    std::istringstream fields(line.substr(13));
    std::uint64_t kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  return 0;
}

std::string format_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  std::size_t u = 0;
  while (bytes >= 1024 && u + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

void check_memory(double estimate, const std::string& option, const std::string& job, const std::string& what,
                  const std::string& advice, std::uint64_t available) {
  if (available == 0 || estimate <= static_cast<double>(available)) return;
  // core has no fmt: the message is put together by hand.
  throw InputError(option + ": " + job + " needs about " + format_bytes(estimate) + " of memory (" + what + "), but " +
                   format_bytes(static_cast<double>(available)) + " is available; " + advice);
}

}  // namespace driftrec::core
