#include "core/memory.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "core/error.hpp"

namespace driftrec::core {

namespace {

// The first number in `path`; 0 when it cannot be read or is not a number ("max").
std::uint64_t read_number(const char* path) {
  std::ifstream in(path);
  std::uint64_t v = 0;
  return in >> v ? v : 0;
}

std::uint64_t system_available() {
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

}  // namespace

std::uint64_t cgroup_headroom() {
  // "No limit" reads as "max" (v2) or as a page-rounded 2^63 (v1).
  constexpr std::uint64_t kNoLimit = std::uint64_t{1} << 60;
  const struct {
    const char *limit, *usage;
  } files[] = {{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
               {"/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"}};
  for (const auto& f : files) {
    const std::uint64_t limit = read_number(f.limit);
    if (limit == 0 || limit >= kNoLimit) continue;
    const std::uint64_t usage = read_number(f.usage);
    return limit > usage ? limit - usage : 1;  // at or over the limit: nothing (1, not "unknown")
  }
  return 0;
}

std::uint64_t available_memory() {
  const std::uint64_t system = system_available(), cgroup = cgroup_headroom();
  if (system == 0 || cgroup == 0) return system == 0 ? cgroup : system;
  return system < cgroup ? system : cgroup;
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
