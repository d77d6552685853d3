// Helpers shared by the tests: seeds, scratch directories, running the CLI.
#pragma once
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

namespace driftrec::graph {
struct CsrMatrix;
}

namespace driftrec::test {

// The seed for a randomised test: DRIFTREC_TEST_SEED if set, else a fresh one; printed
// either way (Catch2 shows it when the test fails).
std::uint64_t test_seed();

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& p, const std::string& content);
// Names of the entries of a folder (to check that nothing, a temporary file say, was left).
std::set<std::string> dir_entries(const std::filesystem::path& dir);
std::string read_file(const std::filesystem::path& p);

struct RunResult {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs the driftrec CLI with the given argument string (shell-quoted by the caller).
RunResult run_cli(const std::string& args);

std::filesystem::path source_dir();

// `driftrec generate <generate_args>` into dir/gen, ingested with the generator's slicing
// (30-day periods) and labels into dir/s.h5; returns the store's path. REQUIREs success.
std::string generated_store(const TempDir& dir, const std::string& generate_args);

// CHECKs that two matrices are identical: shape, structure and values.
void check_same_csr(const graph::CsrMatrix& got, const graph::CsrMatrix& want);
// CHECKs that two stores hold the same ids, labels, item labels, events, slicing,
// aggregation, periods and slices.
void check_same_store(const std::string& path_a, const std::string& path_b);

}  // namespace driftrec::test
