// Memory a job may use, checked before it allocates: a job asked for more than the machine
// has (factorize --factors 100000, generate --events 1e11 for 10 users) would otherwise die
// of std::bad_alloc after minutes, or swap the machine to a halt. The estimates are the
// caller's (the big arrays it will hold); this only compares them with what is available.
#pragma once
#include <cstdint>
#include <string>

namespace driftrec::core {

// Bytes the system can give a new allocation now: MemAvailable of /proc/meminfo, else
// sysconf's available pages; 0 when neither can be read (then nothing is refused).
std::uint64_t available_memory();

// "1.5 GiB", "820 MiB", "12 KiB", "100 B".
std::string format_bytes(double bytes);

// Throws InputError when `estimate` bytes exceed `available` (0: unknown, never refuses):
// "<option>: <job> needs about 75.0 GiB (<what>), but 20.1 GiB of memory is available;
// <advice>". Estimates are doubles so that products of large counts cannot wrap.
void check_memory(double estimate, const std::string& option, const std::string& job, const std::string& what,
                  const std::string& advice, std::uint64_t available = available_memory());

}  // namespace driftrec::core
