// Users per second of the batch top-K kernel (matrix_factorization/batch_top_k.hpp) that
// `driftrec export` runs: random factors (users x f, items x f, N(0, 1) from a seed) and a
// random seen-items matrix (`seen` distinct items per user), users scored a chunk at a
// time exactly as export does (the chunk's queries gathered, top_k_dot on the chunk, the
// output buffers reused). With --dump DIR it first writes the inputs as raw little-endian
// arrays (user_factors.f32, item_factors.f32, seen_indptr.i64, seen_indices.i32) for
// compare.py to give implicit the same numbers. Prints one JSON object with the users
// per second and the peak resident memory (VmHWM) beside the inputs' own size.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "matrix_factorization/batch_top_k.hpp"
#include "matrix_factorization/implicit_als.hpp"

namespace mf = driftrec::matrix_factorization;
using driftrec::graph::Index;

namespace {

long peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

template <class T>
void dump(const std::string& path, const std::vector<T>& v) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(v.data(), sizeof(T), v.size(), f) != v.size() || std::fclose(f) != 0)
    throw std::runtime_error("cannot write " + path);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("export_bench: users per second of driftrec's batch top-K");
  std::int64_t users = 100000, chunk = 4096;
  Index items = 100000;
  int f = 64, k = 50, threads = 2, seen = 20;
  std::uint64_t seed = 1;
  std::string dump_dir;
  app.add_option("--users", users)->default_val(users);
  app.add_option("--items", items)->default_val(items);
  app.add_option("--factors", f)->default_val(f);
  app.add_option("--k", k)->default_val(k);
  app.add_option("--seen", seen, "Items each user had (excluded)")->default_val(seen);
  app.add_option("--threads", threads)->default_val(threads);
  app.add_option("--chunk", chunk, "Users per chunk, as export's --chunk")->default_val(chunk);
  app.add_option("--seed", seed)->default_val(seed);
  app.add_option("--dump", dump_dir, "Write the inputs here and exit");
  CLI11_PARSE(app, argc, argv);

  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> x(static_cast<std::size_t>(users * f)), y(static_cast<std::size_t>(items) * f);
  for (float& v : x) v = normal(rng);
  for (float& v : y) v = normal(rng);
  driftrec::graph::CsrMatrix s;
  s.n_rows = static_cast<Index>(users);
  s.n_cols = items;
  s.indptr.resize(static_cast<std::size_t>(users) + 1);
  std::uniform_int_distribution<Index> pick(0, items - 1);
  std::vector<Index> row;
  for (std::int64_t u = 0; u < users; ++u) {
    row.clear();
    while (static_cast<int>(row.size()) < seen) {
      const Index i = pick(rng);
      if (std::find(row.begin(), row.end(), i) == row.end()) row.push_back(i);
    }
    std::sort(row.begin(), row.end());
    s.indices.insert(s.indices.end(), row.begin(), row.end());
    s.indptr[static_cast<std::size_t>(u) + 1] = static_cast<std::int64_t>(s.indices.size());
  }
  s.data.assign(s.indices.size(), 1.0f);
  if (!dump_dir.empty()) {
    dump(dump_dir + "/user_factors.f32", x);
    dump(dump_dir + "/item_factors.f32", y);
    dump(dump_dir + "/seen_indptr.i64", s.indptr);
    dump(dump_dir + "/seen_indices.i32", s.indices);
    return 0;
  }
  const double input_mib =
      static_cast<double>(x.size() * 4 + y.size() * 4 + s.indices.size() * 8 + s.indptr.size() * 8) / (1 << 20);
  const long rss_before = peak_rss_kib();

  const auto t0 = std::chrono::steady_clock::now();
  const mf::PackedItems packed(y.data(), items, f);
  std::vector<Index> out_items(static_cast<std::size_t>(chunk * k)), block(static_cast<std::size_t>(chunk));
  std::vector<float> out_scores(out_items.size());
  mf::Factors queries(chunk, f);
  double checksum = 0;
  for (std::int64_t first = 0; first < users; first += chunk) {
    const std::int64_t count = std::min(chunk, users - first);
    for (std::int64_t r = 0; r < count; ++r) {
      block[static_cast<std::size_t>(r)] = static_cast<Index>(first + r);
      std::copy_n(x.data() + (first + r) * f, f, queries.data() + r * f);
    }
    mf::Exclusions ex;
    ex.seen = &s;
    ex.rows = std::span<const Index>(block.data(), static_cast<std::size_t>(count));
    mf::top_k_dot(queries.data(), count, packed, ex, k, out_items.data(), out_scores.data(), threads);
    checksum += out_scores[0];
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"users", users},         {"items", items},
                      {"factors", f},           {"k", k},
                      {"seen_per_user", seen},  {"threads", threads},
                      {"chunk", chunk},         {"seconds", seconds},
                      {"users_per_second", static_cast<double>(users) / seconds},
                      {"peak_rss_mib", static_cast<double>(peak_rss_kib()) / 1024},
                      {"rss_before_scoring_mib", static_cast<double>(rss_before) / 1024},
                      {"inputs_mib", input_mib}, {"checksum", checksum}};
  fmt::print("{}\n", j.dump());
}
