// The clock of driftrec-mpi's timings (the read, setup, kernel and exchange seconds of each
// job's summary): this rank's monotonic wall clock.
#pragma once
#include <chrono>

namespace driftrec::mpi {

using Clock = std::chrono::steady_clock;

// Seconds from t0 to now.
inline double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace driftrec::mpi
