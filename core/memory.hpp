// Memory a job may use, checked before it allocates: a job asked for more than the machine
// has (factorize --factors 100000, generate --events 1e11 for 10 users) would otherwise die
// of std::bad_alloc after minutes, or swap the machine to a halt. The estimates are the
// caller's (the big arrays it will hold); this only compares them with what is available.
#pragma once
#include <cstdint>
#include <string>

namespace driftrec::core {

// Bytes the system can give a new allocation now: MemAvailable of /proc/meminfo, else
// sysconf's available pages, and no more than the headroom of the process's memory cgroup
// where one sets a limit (cgroup_headroom); 0 when nothing can be read (then nothing is
// refused).
std::uint64_t available_memory();

// The cgroup's limit minus its usage (v2: memory.max - memory.current, v1:
// memory.limit_in_bytes - memory.usage_in_bytes under /sys/fs/cgroup); 0 when no limit is
// set or none can be read. The v1 usage counts page cache, so this errs low.
std::uint64_t cgroup_headroom();

// "1.5 GiB", "820 MiB", "12 KiB", "100 B".
std::string format_bytes(double bytes);

// Throws InputError when `estimate` bytes exceed `available` (0: unknown, never refuses):
// "<option>: <job> needs about 75.0 GiB (<what>), but 20.1 GiB of memory is available;
// <advice>". Estimates are doubles so that products of large counts cannot wrap.
void check_memory(double estimate, const std::string& option, const std::string& job, const std::string& what,
                  const std::string& advice, std::uint64_t available = available_memory());

}  // namespace driftrec::core
