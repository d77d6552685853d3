#include "tests/test_util.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "io/store.hpp"

namespace driftrec::test {

std::uint64_t test_seed() {
  std::uint64_t seed;
  if (const char* s = std::getenv("DRIFTREC_TEST_SEED"))
    seed = std::strtoull(s, nullptr, 10);
  else
    seed = std::random_device{}();
  UNSCOPED_INFO("seed = " << seed << " (rerun with DRIFTREC_TEST_SEED=" << seed << ")");
  return seed;
}

TempDir::TempDir() {
  std::string templ = (std::filesystem::temp_directory_path() / "driftrec-test-XXXXXX").string();
  if (!mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream f(p, std::ios::binary);
  f << content;
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

std::set<std::string> dir_entries(const std::filesystem::path& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

RunResult run_cli(const std::string& args) {
  TempDir dir;
  std::string cmd = std::string(DRIFTREC_CLI_PATH) + " " + args + " >" +
                    (dir / "out").string() + " 2>" + (dir / "err").string() + " </dev/null";
  int status = std::system(cmd.c_str());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return {code, read_file(dir / "out"), read_file(dir / "err")};
}

std::filesystem::path source_dir() { return DRIFTREC_SOURCE_DIR; }

std::string generated_store(const TempDir& dir, const std::string& generate_args) {
  const auto gen = dir / "gen";
  auto g = run_cli("generate --out '" + gen.string() + "' " + generate_args);
  REQUIRE(g.exit_code == 0);
  const std::string store = (dir / "s.h5").string();
  auto i = run_cli("ingest '" + (gen / "events.csv").string() + "' --labels '" + (gen / "labels.csv").string() +
                   "' --slice 2592000s -o '" + store + "'");
  REQUIRE(i.exit_code == 0);
  return store;
}

void check_same_csr(const graph::CsrMatrix& got, const graph::CsrMatrix& want) {
  CHECK(got.n_rows == want.n_rows);
  CHECK(got.n_cols == want.n_cols);
  CHECK(got.indptr == want.indptr);
  CHECK(got.indices == want.indices);
  CHECK(got.data == want.data);
}

void check_same_store(const std::string& path_a, const std::string& path_b) {
  io::Store a = io::Store::open(path_a), b = io::Store::open(path_b);
  CHECK(a.users() == b.users());
  CHECK(a.items() == b.items());
  CHECK(a.labels() == b.labels());
  CHECK(a.slicing() == b.slicing());
  CHECK(a.aggregate() == b.aggregate());
  check_same_csr(a.item_labels(), b.item_labels());
  const graph::EventColumns ea = a.events(), eb = b.events();
  CHECK(ea.user == eb.user);
  CHECK(ea.item == eb.item);
  CHECK(ea.time == eb.time);
  CHECK(ea.value == eb.value);
  CHECK(a.periods().begin == b.periods().begin);
  CHECK(a.periods().end == b.periods().end);
  REQUIRE(a.n_slices() == b.n_slices());
  for (std::size_t k = 0; k < a.n_slices(); ++k) check_same_csr(a.slice(k), b.slice(k));
}

}  // namespace driftrec::test
