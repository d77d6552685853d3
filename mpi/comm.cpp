// The MPI helpers of mpi/comm.hpp.
#include "mpi/comm.hpp"

#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace driftrec::mpi {
namespace {

template <class T>
MPI_Datatype mpi_type();
template <>
MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <>
MPI_Datatype mpi_type<std::int32_t>() { return MPI_INT32_T; }
template <>
MPI_Datatype mpi_type<std::int64_t>() { return MPI_INT64_T; }

}  // namespace

Comm Comm::world() {
  Comm c;
  MPI_Comm_rank(c.comm, &c.rank);
  MPI_Comm_size(c.comm, &c.size);
  return c;
}

Traffic& traffic() {
  static Traffic t;
  return t;
}

int exit_code_of(const std::exception& e) {
  if (const auto* f = dynamic_cast<const RankFailure*>(&e)) return f->exit_code();
  if (dynamic_cast<const InputError*>(&e) || dynamic_cast<const NumericalError*>(&e)) return 2;
  return 1;
}

void run_phase(const Comm& c, const std::function<void()>& phase) {
  int code = 0;
  std::string message;
  try {
    phase();
  } catch (const std::exception& e) {
    code = exit_code_of(e);
    message = e.what();
  }
  int failed = code ? c.rank : INT_MAX, first = INT_MAX;
  MPI_Allreduce(&failed, &first, 1, MPI_INT, MPI_MIN, c.comm);
  if (first == INT_MAX) return;
  // The failed rank's message and code reach every rank.
  int header[2] = {code, static_cast<int>(message.size())};
  MPI_Bcast(header, 2, MPI_INT, first, c.comm);
  message.resize(static_cast<std::size_t>(header[1]));
  MPI_Bcast(message.data(), header[1], MPI_CHAR, first, c.comm);
  throw RankFailure(first, header[0], fmt::format("rank {} of {}: {}", first, c.size, message));
}

void inject_fault(const Comm& c, std::size_t period) {
  const char* rank = std::getenv("DRIFTREC_MPI_FAIL_RANK");
  if (!rank) return;
  const char* at = std::getenv("DRIFTREC_MPI_FAIL_PERIOD");
  if (std::atoi(rank) == c.rank && static_cast<std::size_t>(at ? std::atoll(at) : 0) == period)
    throw InternalError(fmt::format("fault injected by DRIFTREC_MPI_FAIL_RANK in period {}", period));
}

std::uint64_t sum_all(const Comm& c, std::uint64_t v) {
  std::uint64_t out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_UINT64_T, MPI_SUM, c.comm);
  return out;
}

std::vector<int> displacements(const std::vector<int>& counts) {
  std::vector<int> d(counts.size(), 0);
  for (std::size_t i = 1; i < counts.size(); ++i) d[i] = d[i - 1] + counts[i - 1];
  return d;
}

std::vector<int> exchange_counts(const Comm& c, const std::vector<int>& send_counts) {
  std::vector<int> recv(static_cast<std::size_t>(c.size));
  MPI_Alltoall(send_counts.data(), 1, MPI_INT, recv.data(), 1, MPI_INT, c.comm);
  return recv;
}

template <class T>
std::vector<T> alltoallv(const Comm& c, const std::vector<T>& send, const std::vector<int>& send_counts,
                         std::uint64_t& counter) {
  const std::vector<int> recv_counts = exchange_counts(c, send_counts);
  const std::vector<int> sd = displacements(send_counts), rd = displacements(recv_counts);
  std::vector<T> recv(static_cast<std::size_t>(rd.back() + recv_counts.back()));
  for (int q = 0; q < c.size; ++q)
    if (q != c.rank) counter += static_cast<std::uint64_t>(send_counts[q]) * sizeof(T);
  MPI_Alltoallv(send.data(), send_counts.data(), sd.data(), mpi_type<T>(), recv.data(), recv_counts.data(),
                rd.data(), mpi_type<T>(), c.comm);
  return recv;
}
template std::vector<float> alltoallv(const Comm&, const std::vector<float>&, const std::vector<int>&,
                                      std::uint64_t&);
template std::vector<std::int32_t> alltoallv(const Comm&, const std::vector<std::int32_t>&,
                                             const std::vector<int>&, std::uint64_t&);
template std::vector<std::int64_t> alltoallv(const Comm&, const std::vector<std::int64_t>&,
                                             const std::vector<int>&, std::uint64_t&);

std::vector<float> gather_rows(const Comm& c, const float* local, std::int64_t local_rows, std::int64_t cols,
                               const std::vector<std::int64_t>& rows_per_rank) {
  std::vector<int> counts(static_cast<std::size_t>(c.size));
  for (int q = 0; q < c.size; ++q) {
    const std::int64_t n = rows_per_rank[q] * cols;
    if (n > INT_MAX) throw InputError(fmt::format("rank {}: {} values to gather exceed MPI's int count; run on more ranks", q, n));
    counts[q] = static_cast<int>(n);
  }
  const std::vector<int> d = displacements(counts);
  std::vector<float> all;
  if (c.root()) all.resize(static_cast<std::size_t>(d.back() + counts.back()));
  MPI_Gatherv(local, static_cast<int>(local_rows * cols), MPI_FLOAT, all.data(), counts.data(), d.data(), MPI_FLOAT,
              0, c.comm);
  return all;
}

}  // namespace driftrec::mpi
