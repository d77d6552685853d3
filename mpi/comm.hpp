// The MPI layer of driftrec-mpi: the communicator with its rank and size, the byte counter
// the benchmark reads (every exchange of the distributed kernels goes through here), and
// the agreement that turns one rank's exception into the same error on every rank.
//
// Failures: a rank that throws inside a phase does not reach the next collective call, so
// every phase ends with agree(): an allreduce of "did I fail" (the lowest failed rank wins)
// and a broadcast of that rank's message and exit code. Every rank then throws RankFailure,
// rank 0 reports "rank R: <message>", and the job exits non-zero with rank 0's temporary
// file removed. A rank killed outright is mpirun's to report (it names the rank and ends
// the job); the store is only ever replaced by rank 0's final rename.
#pragma once
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace driftrec::mpi {

struct Comm {
  MPI_Comm comm = MPI_COMM_WORLD;
  int rank = 0;
  int size = 1;

  static Comm world();
  bool root() const { return rank == 0; }
};

// Bytes this process handed to MPI for other ranks (to itself not counted), by kind.
struct Traffic {
  std::uint64_t exchange_bytes = 0;   // ghost rows of the label-propagation half-steps
  std::uint64_t setup_bytes = 0;      // per-period set-up: edges to their item owners, requests
  std::uint64_t exchanges = 0;        // calls of the ghost exchange
};
Traffic& traffic();

// One rank's failure, as every rank learns it from agree().
class RankFailure : public Error {
 public:
  RankFailure(int rank, int exit_code, const std::string& message)
      : Error(message), rank_(rank), exit_code_(exit_code) {}
  int rank() const { return rank_; }
  int exit_code() const { return exit_code_; }

 private:
  int rank_;
  int exit_code_;
};

// The CLI's exit code for an exception: 2 for InputError and NumericalError, else 1.
int exit_code_of(const std::exception& e);

// Runs `phase` on this rank, then agrees with every other rank: returns when no rank
// failed, else throws RankFailure for the lowest failed rank on every rank.
void run_phase(const Comm& c, const std::function<void()>& phase);

// The tests' fault injection: throws InternalError("fault injected ...") on rank
// DRIFTREC_MPI_FAIL_RANK in period DRIFTREC_MPI_FAIL_PERIOD (0 when unset); nothing when
// DRIFTREC_MPI_FAIL_RANK is unset. The jobs call it inside a period's first run_phase, so
// the failure travels as any rank's failure does.
void inject_fault(const Comm& c, std::size_t period);

// Collective: the sum of v over the ranks.
std::uint64_t sum_all(const Comm& c, std::uint64_t v);

// Element counts -> displacements (exclusive prefix sums).
std::vector<int> displacements(const std::vector<int>& counts);

// MPI_Alltoallv of T with counts in elements; counts sent to other ranks are added to
// `counter` (in bytes).
template <class T>
std::vector<T> alltoallv(const Comm& c, const std::vector<T>& send, const std::vector<int>& send_counts,
                         std::uint64_t& counter);

// The element counts every rank sends each rank: recv[q] = what q sends to this rank.
std::vector<int> exchange_counts(const Comm& c, const std::vector<int>& send_counts);

// MPI_Gatherv of rows x cols floats to rank 0 (rows per rank given); rank 0 gets the
// concatenation in rank order.
std::vector<float> gather_rows(const Comm& c, const float* local, std::int64_t local_rows, std::int64_t cols,
                               const std::vector<std::int64_t>& rows_per_rank);

}  // namespace driftrec::mpi
